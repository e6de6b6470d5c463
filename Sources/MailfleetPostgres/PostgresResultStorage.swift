/// Immutable cell storage shared by a result and its rows (a class, so rows don't copy it).
final class PostgresResultStorage: Sendable {
    let columns: [String]
    /// First position of each column name (duplicate names resolve to the leftmost, like most drivers).
    let columnIndex: [String: Int]
    /// Row-major cells; nil is SQL NULL.
    let cells: [String?]
    let rowCount: Int

    init(columns: [String], cells: [String?], rowCount: Int) {
        self.columns = columns
        var index: [String: Int] = [:]
        for (i, name) in columns.enumerated() where index[name] == nil { index[name] = i }
        self.columnIndex = index
        self.cells = cells
        self.rowCount = rowCount
    }
}
