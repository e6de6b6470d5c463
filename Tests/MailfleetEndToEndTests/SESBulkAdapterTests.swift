import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviderFormats
import MailfleetProviders
import Testing
#if canImport(Glibc)
import Glibc
#endif


/// SES `SendBulkEmail` against the simulator: per-entry results, account failures, fallbacks.
@Suite(.serialized) struct SESBulkAdapterTests {
    func recipients(_ sim: SimulatorProcess) async throws -> [String: [String: String]] {
        let response = try await sim.http.execute(HTTPRequest(url: sim.url + "/_recipients"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: String]]) ?? [:]
    }

    @Test func oneCallSendsEveryEntryAndFailsOnlyTheRefusedOnes() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        try await sim.control(#"{"ses_entry_status":{"bad@example.com":"MESSAGE_REJECTED","busy@example.com":"TRANSIENT_FAILURE"}}"#)
        let b = sesCampaign(endpoint: sim.url, to: ["a@example.com", "bad@example.com", "c@example.com", "busy@example.com"])
        let outcome = await SESProvider(client: sim.http).send(b)
        let ids = b.messages.map(\.message.id)
        #expect(outcome.status == 200)
        #expect(outcome.accountFailure == nil)
        for index in [0, 2] {
            if case .accepted(let id?) = outcome.outcomes[ids[index]] { #expect(!id.isEmpty) } else { Issue.record("message \(index) not accepted: \(String(describing: outcome.outcomes[ids[index]]))") }
        }
        if case .rejected(let reason) = outcome.outcomes[ids[1]] { #expect(reason.contains("MESSAGE_REJECTED")) } else { Issue.record("refused entry not rejected") }
        if case .retryable(let reason, _) = outcome.outcomes[ids[3]] { #expect(reason.contains("TRANSIENT_FAILURE")) } else { Issue.record("failed entry not retryable") }
        let stats = try await sim.stats()
        #expect((stats["calls"] as? [String: Int]) == ["ses_bulk": 1])
        #expect(stats["unique_messages"] as? Int == 2)
        // Each recipient got its own values, rendered by the simulator from the entry's data.
        let variables = try await recipients(sim)
        #expect(Set(variables.keys) == ["a@example.com", "c@example.com"])
        #expect(variables["c@example.com"]?["n"] == "2")
        #expect(variables["c@example.com"]?["mailfleet_message_id"] == ids[2].uuidString.lowercased())
        #expect(variables["c@example.com"]?["mf_subject"] == "Hello c@example.com")
        #expect(variables["a@example.com"]?["mf_click_0"] == "https://t.example.com/c/a@example.com")
        #expect(variables["a@example.com"]?["mf_open"] == "https://t.example.com/o/a@example.com.gif")
    }

    @Test func anAccountLevelEntryStatusFailsTheBatchOver() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        try await sim.control(#"{"ses_entry_status":{"a@example.com":"ACCOUNT_SUSPENDED"}}"#)
        let b = sesCampaign(endpoint: sim.url, to: ["a@example.com", "b@example.com"])
        let outcome = await SESProvider(client: sim.http).send(b)
        #expect(outcome.accountFailure?.contains("ACCOUNT_SUSPENDED") == true)
        #expect(outcome.outcomes.values.contains { $0.isRetryable })
        if case .retryable = outcome.outcomes[b.messages[0].message.id] {} else { Issue.record("suspended entry not retryable") }
        if case .accepted = outcome.outcomes[b.messages[1].message.id] {} else { Issue.record("sent entry not accepted") }
        // The same status on a raw send is SES's 400 AccountSuspendedException: an account failure too.
        let raw = await SESProvider(client: sim.http).send(sesCampaign(endpoint: sim.url, to: ["a@example.com"]))
        #expect(raw.status == 400)
        #expect(raw.accountFailure != nil)
        #expect((try await sim.stats()["calls"] as? [String: Int]) == ["ses_bulk": 1, "ses": 1])
    }

    @Test func whatATemplateCannotCarryGoesRawAndTheRestStillShareACall() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        let b = sesCampaign(endpoint: sim.url, to: ["a@example.com", "b@example.com", "c@example.com"], subjects: ["A", "Price: {{not a variable}}", "C"])
        let outcome = await SESProvider(client: sim.http).send(b)
        #expect(outcome.outcomes.count == 3)
        #expect(outcome.outcomes.values.allSatisfy { if case .accepted(let id?) = $0 { !id.isEmpty } else { false } })
        let stats = try await sim.stats()
        #expect((stats["calls"] as? [String: Int]) == ["ses_bulk": 1, "ses": 1])
        #expect(stats["unique_messages"] as? Int == 3)
        let variables = try await recipients(sim)
        #expect(variables["b@example.com"]?["mailfleet_message_id"] == b.messages[1].message.id.uuidString.lowercased())
        #expect(variables["c@example.com"]?["mf_subject"] == "C")
    }
}
