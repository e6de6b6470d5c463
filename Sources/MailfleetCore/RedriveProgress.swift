/// The progress of a re-drive of many dead letters, as the CLI shows it: a bar redrawn in place
/// on a terminal, one plain line per batch otherwise (a log or a pipe).
public struct RedriveProgress: Sendable, Equatable {
    /// Messages the re-drive expects to take (counted when it began).
    public let total: Int
    /// Messages re-driven so far.
    public private(set) var done = 0
    /// Batches committed so far.
    public private(set) var batches = 0

    /// Starts at nothing done out of `total`.
    public init(total: Int) {
        self.total = max(total, 0)
    }

    /// Records a committed batch of `count` messages.
    public mutating func advance(by count: Int) {
        done += count
        batches += 1
    }

    /// The share done, from 0 to 1. The count may grow past the total (messages that failed
    /// after it was taken but before the re-drive began), so it is capped.
    public var fraction: Double {
        total == 0 ? 1 : min(1, Double(done) / Double(total))
    }

    /// A bar `width` cells wide with the counts, e.g. `[########------------] 2000/5000 40%`.
    public func bar(width: Int = 30) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let cells = String(repeating: "#", count: filled) + String(repeating: "-", count: max(0, width - filled))
        return "[\(cells)] \(done)/\(total) \(Int((fraction * 100).rounded(.down)))%"
    }

    /// One line for a batch when the output is not a terminal.
    public var line: String {
        "batch \(batches): \(done) of \(total) re-driven"
    }
}
