import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// End-to-end: docs/METRICS.md names every `mailfleet_*` family each process serves, with its
/// type, its label names (the backquoted words of its labels cell) and the processes that
/// serve it, and every row of it is served.
///
/// Some series exist only after their first event (a provider call, a breaker trip, a 429, a
/// tracked open, a long round); the catalogue says which ("after …") and this test makes each
/// of those events happen before it scrapes, so every row is checked against a live process.
@Suite(.serialized) struct MetricsCatalogueTests {
    /// One row of the catalogue.
    struct Row: Equatable {
        var type: String
        var labels: Set<String>
        var processes: Set<String>
    }

    /// What one process serves: each family's type and the label names its samples carry.
    struct Family: Equatable {
        var type: String
        var labels: Set<String>
    }

    static let processKinds: Set<String> = ["api", "scheduler", "worker", "tracker", "sim"]

    @Test func everyProcessServesWhatTheCatalogueSays() async throws {
        let catalogue = try Self.catalogue()
        #expect(catalogue.count >= 30, "docs/METRICS.md lists \(catalogue.count) metrics; its table did not parse")
        // A breaker that opens on any failed call in its window and half-opens 0.5 s later, and
        // a lease short enough that a 1.5 s provider call is renewed in flight.
        let fleet = try await Fleet.start(
            "metrics", workers: 1, provider: .postmark,
            environment: [
                "MAILFLEET_CIRCUIT_MINIMUM_CALLS": "1", "MAILFLEET_CIRCUIT_FAILURE_RATE": "1", "MAILFLEET_CIRCUIT_OPEN_BASE_MS": "500",
                "MAILFLEET_CIRCUIT_OPEN_MAX_MS": "500", "MAILFLEET_LEASE_SECONDS": "3",
            ])
        defer { fleet.stopNow() }
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "outbox", "--kind", "outbox", "--priority", "20"])
        let workerMetrics = "http://127.0.0.1:\(fleet.workerPorts[0])/metrics"

        // Sent, in a round slow enough to renew its lease.
        try await fleet.simControl(#"{"latency_ms":1500}"#)
        let first = try await send(fleet, to: "ok@example.com")
        try await Self.wait(fleet, "the first message is sent") { try await fleet.count(status: "sent") == 1 }
        // Refused for good: a dead letter.
        try await fleet.simControl(#"{"postmark_reject":["gone@example.com"]}"#)
        _ = try await send(fleet, to: "gone@example.com")
        try await Self.wait(fleet, "the refused message fails") { try await fleet.count(status: "failed") == 1 }
        // A 503 opens the breaker; the message fails over to the outbox.
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":503}"#)
        _ = try await send(fleet, to: "ok@example.com")
        try await Self.wait(fleet, "the message after a 503 is sent") { try await fleet.count(status: "sent") == 2 }
        try await Self.wait(fleet, "the breaker opens") {
            try await fleet.http.execute(HTTPRequest(url: workerMetrics)).bodyString.contains(#"mailfleet_provider_circuit_transitions_total{"#)
        }
        // Once the breaker lets a probe through, a 429 paces the account, and the next message
        // skips it without a call.
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":429,"retry_after":60}"#)
        var sent = 2
        var paced = false
        for _ in 0..<30 where !paced {
            _ = try await send(fleet, to: "ok@example.com")
            sent += 1
            let expected = sent
            try await Self.wait(fleet, "a message while the account fails is sent") { try await fleet.count(status: "sent") == expected }
            paced = try await fleet.http.execute(HTTPRequest(url: workerMetrics)).bodyString.contains("mailfleet_provider_paced_total{")
            if !paced { try await Task.sleep(for: .milliseconds(300)) }
        }
        try #require(paced, "no message was paced")
        // A tracked open, and a token that is not ours.
        let token = TrackingSigner(secret: fleet.trackingSecret).sign(
            TrackingToken(kind: .open, messageID: first, tenantID: UUID(uuidString: fleet.tenantID)!, url: nil))
        #expect(try await fleet.http.execute(HTTPRequest(url: fleet.trackerURL + "/o/\(token).gif")).status == 200)
        #expect(try await fleet.http.execute(HTTPRequest(url: fleet.trackerURL + "/o/forged.gif")).status == 200)
        try await Self.wait(fleet, "the tracker counts the open") {
            try await fleet.http.execute(HTTPRequest(url: fleet.trackerURL + "/metrics")).bodyString
                .contains(#"mailfleet_tracking_events_total{type="opened",source="human"} 1"#)
        }
        // Reports through the account's verified Postmark webhook: a delivery, a hard bounce and
        // a complaint make the tenant's report counters.
        let shown = try fleet.cli(["providers", "webhook", "--tenant", fleet.tenantID, "--account", "sim", "--tracker-url", fleet.trackerURL])
            .split(separator: "\n").map(String.init)
        try #require(shown.count == 2)
        let webhookURL = fleet.trackerURL + String(shown[0][shown[0].range(of: "/webhooks/")!.lowerBound...])
        let authorization = "Basic " + Data("mailfleet:\(shown[1])".utf8).base64EncodedString()
        let now = ISO8601.format(Date())
        let metadata = #""Metadata":{"mailfleet_message_id":"\#(first)"}"#
        for report in [
            #"{"RecordType":"Delivery","MessageID":"pm-1","Recipient":"ok@example.com","DeliveredAt":"\#(now)",\#(metadata)}"#,
            #"{"RecordType":"Bounce","ID":801,"Type":"HardBounce","TypeCode":1,"MessageID":"pm-1","Email":"ok@example.com","BouncedAt":"\#(now)",\#(metadata)}"#,
            #"{"RecordType":"SpamComplaint","ID":802,"Type":"SpamComplaint","TypeCode":512,"MessageID":"pm-1","Email":"ok@example.com","BouncedAt":"\#(now)",\#(metadata)}"#,
        ] {
            let posted = try await fleet.http.execute(HTTPRequest(
                method: "POST", url: webhookURL, headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", authorization)],
                body: Array(report.utf8)))
            #expect(posted.status == 200)
        }
        // The scheduler counts dead letters every 5 s.
        try await Self.wait(fleet, "the scheduler counts the dead letter") {
            try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(fleet.schedulerPort)/metrics")).bodyString
                .contains("mailfleet_dead_letters 1")
        }

        let ports = [
            "api": fleet.apiPort, "scheduler": fleet.schedulerPort, "worker": fleet.workerPorts[0],
            "tracker": fleet.trackerPort, "sim": fleet.simPort,
        ]
        var servedBy: [String: Set<String>] = [:]
        var expositions: [String: String] = [:]
        for (process, port) in ports.sorted(by: { $0.key < $1.key }) {
            let exposition = try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics")).bodyString
            expositions[process] = exposition
            for (name, family) in Self.families(exposition) {
                servedBy[name, default: []].insert(process)
                guard let row = catalogue[name] else {
                    Issue.record("\(process) serves \(name) (\(family.type)), which docs/METRICS.md does not list")
                    continue
                }
                #expect(row.type == family.type, "\(name): docs/METRICS.md says \(row.type), \(process) serves a \(family.type)")
                #expect(row.processes.contains(process), "\(name) is served by \(process), which docs/METRICS.md does not name")
                #expect(family.labels == row.labels, "\(name) on \(process) has labels \(family.labels.sorted()), docs/METRICS.md lists \(row.labels.sorted())")
            }
        }
        for (name, row) in catalogue.sorted(by: { $0.key < $1.key }) {
            let missing = row.processes.subtracting(servedBy[name] ?? [])
            #expect(missing.isEmpty, "\(name) is not served by \(missing.sorted()), as docs/METRICS.md says it is")
        }

        // The fleet has one tenant: its per-tenant counters equal the totals, and are not zero.
        let tenant = #"{tenant_id="\#(fleet.tenantID.lowercased())"}"#
        let api = expositions["api"] ?? "", worker = expositions["worker"] ?? ""
        let accepted = Self.sample("mailfleet_messages_accepted_total", in: api)
        #expect(accepted == Double(sent + 1))
        #expect(Self.sample("mailfleet_tenant_messages_accepted_total" + tenant, in: api) == accepted)
        #expect(Self.sample("mailfleet_tenant_messages_sent_total" + tenant, in: worker) == Double(sent))
        #expect(Self.sample("mailfleet_tenant_messages_sent_total" + tenant, in: worker) == Self.sample("mailfleet_messages_sent_total", in: worker))
        #expect(Self.sample("mailfleet_tenant_messages_failed_total" + tenant, in: worker) == 1)
        // Every message was taken at once: both lanes' oldest ready age is 0.
        let scheduler = expositions["scheduler"] ?? ""
        #expect(Self.sample(#"mailfleet_queue_oldest_age_seconds{lane="transactional"}"#, in: scheduler) == 0)
        #expect(Self.sample(#"mailfleet_queue_oldest_age_seconds{lane="bulk"}"#, in: scheduler) == 0)
    }

    /// The value of one series (name and labels exactly as served) in an exposition.
    static func sample(_ series: String, in exposition: String) -> Double? {
        exposition.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    /// A catalogue row that names a process twice, an unknown type or an unknown process is an
    /// error in the file, not a pass.
    @Test func theCatalogueParsesAndNamesOnlyKnownProcessesAndTypes() throws {
        let catalogue = try Self.catalogue()
        for (name, row) in catalogue {
            #expect(name.hasPrefix("mailfleet_"), "\(name) does not start with mailfleet_")
            #expect(["counter", "gauge", "histogram"].contains(row.type), "\(name) has type \(row.type)")
            #expect(!row.processes.isEmpty && row.processes.isSubset(of: Self.processKinds), "\(name) names processes \(row.processes.sorted())")
        }
        let families = Self.families("""
            # HELP mailfleet_a_seconds A
            # TYPE mailfleet_a_seconds histogram
            mailfleet_a_seconds_bucket{route="/x",le="0.5"} 1
            mailfleet_a_seconds_sum{route="/x"} 0.1
            mailfleet_a_seconds_count{route="/x"} 1
            # TYPE mailfleet_b gauge
            mailfleet_b{account="x, y=\\"z\\" }",state="open"} 3
            # TYPE other_c counter
            other_c 1
            """)
        #expect(families == ["mailfleet_a_seconds": Family(type: "histogram", labels: ["route"]), "mailfleet_b": Family(type: "gauge", labels: ["account", "state"])])
    }

    private func send(_ fleet: Fleet, to address: String) async throws -> UUID {
        let response = try await fleet.api(
            "POST", "/v1/messages", json: #"{"from":"a@example.com","to":["\#(address)"],"subject":"Hi","text":"x"}"#)
        try #require(response.status == 202)
        return try #require(UUID(uuidString: Fleet.object(response)["id"] as? String ?? ""))
    }

    private static func wait(_ fleet: Fleet, _ what: String, _ condition: () async throws -> Bool) async throws {
        let held = try await fleet.eventually(seconds: 60, condition)
        try #require(held, "waited 60 s for: \(what)")
    }

    /// docs/METRICS.md's table: rows whose first cell is a backquoted `mailfleet_` name, then
    /// type, labels (the backquoted words), processes (comma-separated), when it appears, meaning.
    static func catalogue() throws -> [String: Row] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/METRICS.md"), encoding: .utf8)
        var rows: [String: Row] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `mailfleet_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 6 else {
                Issue.record("docs/METRICS.md row has \(cells.count) cells: \(line)")
                continue
            }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            #expect(rows[name] == nil, "\(name) appears twice in docs/METRICS.md")
            rows[name] = Row(
                type: cells[1],
                labels: Set(cells[2].split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }),
                processes: Set(cells[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }))
        }
        return rows
    }

    /// The `mailfleet_*` families of a Prometheus text exposition; a histogram's `_bucket`,
    /// `_sum` and `_count` samples count under its base name, its `le` label not at all.
    static func families(_ exposition: String) -> [String: Family] {
        var families: [String: Family] = [:]
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE mailfleet_") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { families[String(parts[2]), default: Family(type: "", labels: [])].type = String(parts[3]) }
                continue
            }
            guard line.hasPrefix("mailfleet_") else { continue }
            // A label value may hold spaces; the series ends at the last closing brace.
            let series = line.contains("{") ? line[...(line.lastIndex(of: "}") ?? line.index(before: line.endIndex))] : line.prefix { $0 != " " }
            var name = String(series.prefix { $0 != "{" })
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                let base = String(name.dropLast(suffix.count))
                if families[base]?.type == "histogram" { name = base }
            }
            var labels: Set<String> = []
            if let open = series.firstIndex(of: "{") {
                labels = Self.labelNames(series[series.index(after: open)...].dropLast())
            }
            families[name, default: Family(type: "untyped", labels: [])].labels.formUnion(labels)
        }
        return families
    }

    /// The names in a series' `name="value",...}` part, values read with their escapes.
    static func labelNames(_ text: Substring) -> Set<String> {
        var names: Set<String> = []
        var rest = text
        while let equals = rest.firstIndex(of: "=") {
            let name = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            if name != "le" { names.insert(name) }
            // Skip the quoted value: up to the first quote not escaped by a backslash.
            var index = rest.index(equals, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex
            var escaped = false
            while index < rest.endIndex, escaped || rest[index] != "\"" {
                escaped = !escaped && rest[index] == "\\"
                index = rest.index(after: index)
            }
            rest = index < rest.endIndex ? rest[rest.index(after: index)...] : ""
        }
        return names
    }
}
