import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviders
import Testing

/// The simulator keeps only counters unless told to record: reads of records then fail loudly.
@Suite(.serialized) struct SimulatorRecordingTests {
    static func accepted(_ outcome: DeliveryOutcome) -> Bool {
        if case .accepted = outcome { true } else { false }
    }

    @Test func countersOnlyRefuseRecordReadsUntilRecordingIsTurnedOn() async throws {
        let sim = try await SimulatorProcess(record: "counters")
        defer { sim.stop() }
        let first = batch(.sendgrid, endpoint: sim.url, secret: "SG.key", to: ["a@example.com", "b@example.com"])
        #expect(await SendGridProvider(client: sim.http).send(first).outcomes.values.allSatisfy(Self.accepted))
        let stats = try await sim.stats()
        #expect(stats["record"] as? String == "counters")
        #expect(stats["accepted_messages"] as? Int == 2)
        #expect(stats["unique_messages"] is NSNull)
        #expect(stats["duplicate_deliveries"] is NSNull)
        for path in ["/_arrivals", "/_recipients", "/_messages/\(first.messages[0].message.id.lowercasedString)"] {
            let refused = try await sim.http.execute(HTTPRequest(url: sim.url + path))
            #expect(refused.status == 409, "\(path)")
            #expect(String(decoding: refused.body, as: UTF8.self).contains("recording_off"), "\(path)")
        }

        try await sim.control(#"{"record":"all"}"#)
        let second = batch(.sendgrid, endpoint: sim.url, secret: "SG.key", to: ["c@example.com"])
        #expect(await SendGridProvider(client: sim.http).send(second).outcomes.values.allSatisfy(Self.accepted))
        let recipients = try await sim.http.execute(HTTPRequest(url: sim.url + "/_recipients"))
        #expect(recipients.status == 200)
        // Only what arrived after recording was turned on is recorded.
        let variables = try #require(try JSONSerialization.jsonObject(with: Data(recipients.body)) as? [String: [String: String]])
        #expect(variables.keys.sorted() == ["c@example.com"])
        let after = try await sim.stats()
        #expect(after["accepted_messages"] as? Int == 3)
        #expect(after["unique_messages"] as? Int == 1)
    }
}
