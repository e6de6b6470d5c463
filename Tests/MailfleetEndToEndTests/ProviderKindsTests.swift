import Foundation
import MailfleetHTTPClient
import Testing

/// The done-when test of the provider adapters: the same 5,000-message workload (one recipient
/// each, each with its own metadata variable) through each provider kind, counted on the
/// receiving side (the simulator), with the call count bounded by the provider's batch limit.
@Suite(.serialized) struct ProviderKindsTests {
    static let total = 5000
    /// One partition, one lane and fetches of 1,000, started after the whole workload is
    /// queued: every round then holds 1,000 messages, so batch calls are as full as allowed.
    static let environment = ["MAILFLEET_PARTITIONS": "1", "MAILFLEET_WORKER_BATCH": "1000", "MAILFLEET_WORKER_LANES": "1"]

    static func batchBody(_ offset: Int, _ count: Int) -> String {
        let items = (offset..<offset + count).map { i in
            #"{"from":"Sender <sender@example.com>","to":["user\#(i)@example.com"],"subject":"Hello \#(i)","text":"Hi there","html":"<p>Hi there</p>","metadata":{"n":"\#(i)"}}"#
        }
        return "{\"messages\":[\(items.joined(separator: ","))]}"
    }

    @Test(arguments: [(Fleet.Provider.sendgrid, 1000), (.mailgun, 1000), (.postmark, 500), (.ses, 50), (.smtp, 1)])
    func fiveThousandRecipientsEachWithTheirOwnVariables(provider: Fleet.Provider, batchLimit: Int) async throws {
        let smtpServer = provider == .smtp ? try SMTPTestServer() : nil
        defer { smtpServer?.stop() }
        let fleet = try await Fleet.start(
            "kinds-\(provider.rawValue)", workers: 0, provider: provider, environment: Self.environment, smtpServer: smtpServer)
        defer { fleet.stopNow() }
        var ids: [Int: String] = [:]
        for request in 0..<(Self.total / 1000) {
            let response = try await fleet.api("POST", "/v1/messages", json: Self.batchBody(request * 1000, 1000))
            #expect(response.status == 202)
            for item in Fleet.object(response)["messages"] as? [[String: Any]] ?? [] {
                if let index = item["index"] as? Int, let id = item["id"] as? String { ids[request * 1000 + index] = id }
            }
        }
        #expect(ids.count == Self.total)
        try await fleet.startWorker(0, environment: Self.environment)
        // Generous: CI machines are shared, and a slow run should wait, not fail.
        let allSent = try await fleet.eventually(seconds: 600) { try await fleet.count(status: "sent") == Self.total }
        #expect(allSent)

        let variables: [String: [String: String]]
        if let smtpServer {
            let stats = try await smtpServer.stats()
            // One transaction per message: the message count is the call count.
            #expect(stats["messages"] as? Int == Self.total)
            #expect(stats["recipients"] as? Int == Self.total)
            print("provider kinds: smtp transactions \(stats["messages"] ?? 0) recipients \(stats["recipients"] ?? 0) connections \(stats["connections"] ?? 0)")
            variables = stats["variables"] as? [String: [String: String]] ?? [:]
        } else {
            let stats = try await fleet.simStats()
            #expect(stats["recipients"] as? Int == Self.total)
            #expect(stats["unique_messages"] as? Int == Self.total)
            #expect(stats["duplicate_deliveries"] as? Int == 0)
            // Every API of the provider counts: SES has SendEmail ("ses") and SendBulkEmail ("ses_bulk").
            let byAPI = stats["calls"] as? [String: Int] ?? [:]
            let calls = byAPI.filter { $0.key == provider.rawValue || $0.key.hasPrefix(provider.rawValue + "_") }.values.reduce(0, +)
            let bound = (Self.total + batchLimit - 1) / batchLimit
            print("provider kinds: \(provider.rawValue) calls \(byAPI) recipients \(stats["recipients"] ?? 0) largest batch \(stats["largest_batch"] ?? 0)")
            #expect(calls > 0)
            #expect(calls <= bound, "\(calls) calls for \(Self.total) messages with a batch limit of \(batchLimit)")
            let recipients = try await fleet.http.execute(HTTPRequest(url: fleet.simURL + "/_recipients"))
            variables = try #require(JSONSerialization.jsonObject(with: Data(recipients.body)) as? [String: [String: String]])
        }
        #expect(variables.count == Self.total)
        var mismatched = 0
        for i in 0..<Self.total {
            let own = variables["user\(i)@example.com"]
            if own?["n"] != "\(i)" || own?["mailfleet_message_id"] != ids[i] { mismatched += 1 }
        }
        #expect(mismatched == 0)
    }
}
