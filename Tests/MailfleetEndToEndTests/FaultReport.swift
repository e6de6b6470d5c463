import Foundation
import MailfleetCore

/// The figures of one fault test: accepted, delivered, lost and duplicated messages plus the
/// times it measured. Printed as one line and appended as JSON to
/// `$MAILFLEET_TEST_STATE/faults.jsonl`, where BENCHMARKS.md takes them from.
struct FaultReport {
    /// The fault's letter in the issue (a…h).
    let test: String
    /// What was done to the fleet.
    let title: String
    /// Messages the API answered 202 (or replayed) for.
    var accepted = 0
    /// Accepted messages some simulator took at least once.
    var delivered = 0
    /// Accepted messages Postgres holds as failed (a legitimate final outcome).
    var failed = 0
    /// Accepted messages neither delivered nor failed.
    var lost = 0
    /// Provider deliveries beyond a message's first, over every simulator.
    var duplicates = 0
    /// Measured times and counts, in the order they were added.
    private(set) var figures: [(name: String, value: Double)] = []

    init(test: String, title: String) {
        self.test = test
        self.title = title
    }

    /// Adds a figure (seconds are named `…_s`).
    mutating func add(_ name: String, _ value: Double) {
        figures.append((name, value))
    }

    /// Counts `accepted` against what the simulators at `simulators` (nil: the fleet's own)
    /// took and what Postgres holds as failed. A message taken by two simulators counts once as
    /// delivered and once as a duplicate.
    mutating func tally(accepted ids: Set<String>, fleet: Fleet, simulators: [String?] = [nil]) async throws {
        var deliveredIDs: Set<String> = []
        var duplicates = 0
        for simulator in simulators {
            let arrivals = Set(try await fleet.simArrivals(at: simulator).keys)
            duplicates += deliveredIDs.intersection(arrivals).count
            deliveredIDs.formUnion(arrivals)
            duplicates += try await fleet.simStats(at: simulator)["duplicate_deliveries"] as? Int ?? 0
        }
        let failedIDs = try await fleet.ids(status: "failed").intersection(ids)
        accepted = ids.count
        delivered = deliveredIDs.intersection(ids).count
        failed = failedIDs.count
        lost = ids.subtracting(deliveredIDs).subtracting(failedIDs).count
        self.duplicates = duplicates
    }

    /// `fault a: accepted=… delivered=… lost=0 duplicates=… <figures>`.
    var line: String {
        var parts = ["accepted=\(accepted)", "delivered=\(delivered)", "lost=\(lost)", "duplicates=\(duplicates)"]
        if failed > 0 { parts.append("failed=\(failed)") }
        parts += figures.map { "\($0.name)=\(Self.text($0.value))" }
        return "fault \(test): " + parts.joined(separator: " ")
    }

    /// Prints the line and appends the JSON record (when run by `ops/test`).
    func publish() throws {
        print(line)
        guard let state = ProcessInfo.processInfo.environment["MAILFLEET_TEST_STATE"] else { return }
        var record: [String: Any] = [
            "test": test, "title": title, "accepted": accepted, "delivered": delivered, "failed": failed, "lost": lost,
            "duplicates": duplicates, "at": ISO8601.format(Date()),
        ]
        record["figures"] = Dictionary(figures.map { ($0.name, ($0.value * 1000).rounded() / 1000) }) { _, last in last }
        var data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        data.append(UInt8(ascii: "\n"))
        let path = state + "/faults.jsonl"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? file.close() }
        try file.seekToEnd()
        try file.write(contentsOf: data)
    }

    /// Whole numbers as they are, others to two decimals.
    private static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.2f", value)
    }
}
