/// Rows of an import gathered for one statement, deduplicated by address: the first row with
/// an address wins and later ones are counted as duplicates (a statement may not touch a
/// contact twice, and this is the file's rule across batches too, see `ContactImportStore`).
public struct ContactBatch: Sendable, Equatable {
    /// Rows to write, in file order, one per address.
    public private(set) var rows: [ContactRow] = []
    /// Rows refused, in file order.
    public private(set) var rejections: [ContactRejection] = []
    /// Rows dropped because an earlier row of this batch has their address.
    public private(set) var duplicates = 0
    private var seen: Set<String> = []

    /// An empty batch.
    public init() {}

    /// Rows read into the batch (written, refused or duplicate).
    public var rowsRead: Int { rows.count + rejections.count + duplicates }

    /// Adds one line of the file.
    public mutating func add(_ line: ContactLine) {
        switch line {
        case .rejected(let rejection):
            rejections.append(rejection)
        case .row(let row):
            if seen.insert(row.email).inserted {
                rows.append(row)
            } else {
                duplicates += 1
            }
        }
    }
}
