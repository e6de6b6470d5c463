import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// End-to-end flow control: full provider calls for bulk, and fair-share weights.
@Suite(.serialized) struct FlowTests {
    /// `count` bulk messages that share one body and subject, to different recipients.
    func campaign(count: Int, offset: Int) -> String {
        let items = (0..<count).map { i in
            #"{"from":"News <news@example.com>","to":["reader\#(offset + i)@example.com"],"subject":"This week","text":"The news","html":"<p>The news</p>"}"#
        }
        return "{\"messages\":[\(items.joined(separator: ","))]}"
    }

    @Test func twoThousandFiveHundredBulkMessagesPostedAsFiveBatchesReachSendGridInAtMostThreeCalls() async throws {
        let fleet = try await Fleet.start("linger", workers: 2, provider: .sendgrid)
        defer { fleet.stopNow() }
        for batch in 0..<5 {
            let response = try await fleet.api("POST", "/v1/messages", json: campaign(count: 500, offset: batch * 500))
            #expect(response.status == 202)
        }
        let allSent = try await fleet.eventually(seconds: 120) { try await fleet.count(status: "sent") == 2_500 }
        #expect(allSent)
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 2_500)
        let calls = (stats["calls"] as? [String: Int])?["sendgrid"] ?? 0
        #expect(calls > 0 && calls <= 3, "2,500 messages took \(calls) SendGrid calls")
    }

    @Test func anOperatorSetsAWeightAndTheTenantReadsIt() async throws {
        let fleet = try await Fleet.start("weight", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        #expect(Fleet.object(try await fleet.api("GET", "/v1/fair-share"))["weight"] as? Int == 1)
        #expect(try fleet.cli(["tenants", "set-weight", "--tenant", fleet.tenantID, "--weight", "3"]).contains("3"))
        #expect(Fleet.object(try await fleet.api("GET", "/v1/fair-share"))["weight"] as? Int == 3)
        let refused = try fleet.cliRun(["tenants", "set-weight", "--tenant", fleet.tenantID, "--weight", "0"])
        #expect(refused.status != 0)
        // The leading scheduler publishes it to every partition.
        let published = try await fleet.eventually(seconds: 20) {
            let url = URL(string: fleet.redisURL)
            let answer = try runToCompletion(
                "/usr/bin/env", ["redis-cli", "-p", "\(url?.port ?? 6379)", "-n", String(url?.path.dropFirst() ?? "0"), "HGET", "mf:{p0}:weights", fleet.tenantID],
                name: "redis-cli")
            return String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "3"
        }
        #expect(published)
    }
}
