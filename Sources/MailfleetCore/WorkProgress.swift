/// The progress of long work done in steps (a re-drive's batches, a migration's schema changes),
/// as the CLI shows it: a bar redrawn in place on a terminal, one plain line per step otherwise
/// (a log or a pipe).
public struct WorkProgress: Sendable, Equatable {
    /// Items the work expects to do (counted when it began).
    public let total: Int
    /// What one step is called in the plain line, e.g. `batch`.
    public let step: String
    /// What happened to the items, e.g. `re-driven`.
    public let verb: String
    /// Items done so far.
    public private(set) var done = 0
    /// Steps finished so far.
    public private(set) var steps = 0

    /// Starts at nothing done out of `total`.
    public init(total: Int, step: String, verb: String) {
        self.total = max(total, 0)
        self.step = step
        self.verb = verb
    }

    /// Records a finished step of `count` items.
    public mutating func advance(by count: Int) {
        done += count
        steps += 1
    }

    /// The share done, from 0 to 1. The count may grow past the total (a re-drive takes messages
    /// that failed after it was counted but before it began), so it is capped.
    public var fraction: Double {
        total == 0 ? 1 : min(1, Double(done) / Double(total))
    }

    /// A bar `width` cells wide with the counts, e.g. `[########------------] 2000/5000 40%`.
    public func bar(width: Int = 30) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let cells = String(repeating: "#", count: filled) + String(repeating: "-", count: max(0, width - filled))
        return "[\(cells)] \(done)/\(total) \(Int((fraction * 100).rounded(.down)))%"
    }

    /// One line for a step when the output is not a terminal, e.g. `batch 2: 2000 of 5000 re-driven`.
    public var line: String {
        "\(step) \(steps): \(done) of \(total) \(verb)"
    }
}
