import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// A round slower than the lease: the worker renews its leases while the round runs, so the
/// scheduler does not hand the messages to a second worker and nothing is sent twice. Without
/// renewal the lease runs out mid-call, the scheduler reclaims the entries, another lane or
/// worker claims the expired Postgres lease and the provider gets every message twice.
@Suite(.serialized) struct LeaseRenewalTests {
    @Test func aRoundSlowerThanTheLeaseDeliversEachMessageExactlyOnce() async throws {
        let lease = ["MAILFLEET_LEASE_SECONDS": "2"]
        let fleet = try await Fleet.start("slow-round", workers: 2, provider: .sendgrid, environment: lease)
        defer { fleet.stopNow() }
        // Every call takes 3.5 s, well past the 2 s lease.
        try await fleet.simControl(#"{"latency_ms":3500}"#)
        let items = (0..<20).map { i in
            #"{"from":"sender@example.com","to":["slow\#(i)@example.com"],"subject":"Slow \#(i)","text":"x"}"#
        }
        let response = try await fleet.api("POST", "/v1/messages", json: "{\"messages\":[\(items.joined(separator: ","))]}")
        #expect(response.status == 202)
        let sent = try await fleet.eventually(seconds: 90) { try await fleet.count(status: "sent") == 20 }
        #expect(sent)
        // Let any second call (there should be none) reach the simulator before counting.
        try await Task.sleep(for: .seconds(5))
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 20)
        #expect(stats["duplicate_deliveries"] as? Int == 0)
        #expect(try await fleet.count(status: "sent") == 20)
        // The renewals happened (and the leases were not simply long enough).
        var renewed = 0.0
        for port in fleet.workerPorts {
            let metrics = try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics")).bodyString
            renewed += DeliveryTests.sample(metrics, "mailfleet_lease_renewals_total") ?? 0
        }
        #expect(renewed >= 20)
    }
}
