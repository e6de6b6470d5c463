/// The rows a query returned, as text values, copied out of libpq's result so it can be freed at once.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Column names, in result order.
    public let columns: [String]
    /// Rows affected (INSERT/UPDATE/DELETE/COPY) or returned (SELECT), from the command tag.
    public let affectedRows: Int
    let storage: PostgresResultStorage

    init(storage: PostgresResultStorage, affectedRows: Int) {
        self.columns = storage.columns
        self.affectedRows = affectedRows
        self.storage = storage
    }

    /// Always 0.
    public var startIndex: Int { 0 }
    /// The number of rows.
    public var endIndex: Int { storage.rowCount }
    /// The row at a position.
    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < storage.rowCount, "row index \(position) out of range")
        return PostgresRow(storage: storage, row: position)
    }
}
