import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviderFormats
import MailfleetProviders
import Testing
#if canImport(Glibc)
import Glibc
#endif


/// Provider adapters against the simulator: batching, partial failures, auth and faults.
@Suite(.serialized) struct ProviderAdapterTests {
    @Test func postmarkRejectsOnlyTheInactiveRecipient() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        try await sim.control(#"{"postmark_reject":["bad@example.com"]}"#)
        let b = batch(.postmark, endpoint: sim.url, secret: "token", to: ["a@example.com", "bad@example.com", "c@example.com"])
        let outcome = await PostmarkProvider(client: sim.http).send(b)
        #expect(outcome.accountFailure == nil)
        let ids = b.messages.map(\.message.id)
        if case .accepted(let id) = outcome.outcomes[ids[0]] { #expect(id != nil) } else { Issue.record("first message not accepted") }
        if case .rejected(let reason) = outcome.outcomes[ids[1]] { #expect(reason.contains("406")) } else { Issue.record("inactive recipient not rejected") }
        if case .accepted = outcome.outcomes[ids[2]] {} else { Issue.record("third message not accepted") }
        #expect(!outcome.outcomes.values.contains { $0.isRetryable })
        #expect(try await sim.stats()["unique_messages"] as? Int == 2)
    }

    @Test func postmarkWithoutATokenIsAnAccountFailure() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        let outcome = await PostmarkProvider(client: sim.http).send(batch(.postmark, endpoint: sim.url, secret: nil, to: ["a@example.com"]))
        #expect(outcome.status == 401)
        #expect(outcome.accountFailure != nil)
    }

    @Test func mailgunSendsABatchInOneCallAndNeedsADomain() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        let provider = MailgunProvider(client: sim.http)
        let addresses = (0..<250).map { "m\($0)@example.com" }
        let outcome = await provider.send(batch(.mailgun, endpoint: sim.url, secret: "key", config: ["domain": "mg.example.com"], to: addresses))
        #expect(outcome.status == 200)
        #expect(outcome.outcomes.values.allSatisfy { if case .accepted(let id?) = $0 { id.hasSuffix("@mg.example.com>") } else { false } })
        let stats = try await sim.stats()
        #expect((stats["calls"] as? [String: Int])?["mailgun"] == 1)
        #expect(stats["recipients"] as? Int == 250)
        let missing = await provider.send(batch(.mailgun, endpoint: sim.url, secret: "key", to: ["a@example.com"]))
        #expect(missing.accountFailure != nil)
    }

    @Test func mailgunFaultsAreClassified() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        try await sim.control(#"{"error_rate":1.0,"error_status":429,"retry_after":7}"#)
        let provider = MailgunProvider(client: sim.http)
        let limited = await provider.send(batch(.mailgun, endpoint: sim.url, secret: "key", config: ["domain": "mg.example.com"], to: ["a@example.com"]))
        if case .retryable(_, let retryAfter) = limited.outcomes.values.first { #expect(retryAfter == 7) } else { Issue.record("429 not retryable") }
        #expect(limited.accountFailure == nil)
        try await sim.control("{}")
        let unauthorised = await provider.send(batch(.mailgun, endpoint: sim.url, secret: nil, config: ["domain": "mg.example.com"], to: ["a@example.com"]))
        // An empty key still makes "api:" credentials; the simulator refuses them as Mailgun does.
        #expect(unauthorised.status == 401)
        #expect(unauthorised.accountFailure != nil)
    }

    @Test func sesSignsEveryCallAndUnsignedCallsAreRefused() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        let provider = SESProvider(client: sim.http)
        // Two messages of one body: one SendBulkEmail call. One message alone: a raw SendEmail.
        let signed = await provider.send(batch(.ses, endpoint: sim.url, secret: "AKID:secret", config: ["region": "eu-west-1"], to: ["a@example.com", "b@example.com"]))
        #expect(signed.outcomes.count == 2)
        #expect(signed.outcomes.values.allSatisfy { if case .accepted(let id?) = $0 { !id.isEmpty } else { false } })
        #expect((try await sim.stats()["calls"] as? [String: Int]) == ["ses_bulk": 1])
        let single = await provider.send(batch(.ses, endpoint: sim.url, secret: "AKID:secret", to: ["c@example.com"]))
        #expect(single.outcomes.values.allSatisfy { if case .accepted(let id?) = $0 { !id.isEmpty } else { false } })
        #expect((try await sim.stats()["calls"] as? [String: Int]) == ["ses_bulk": 1, "ses": 1])
        let unsigned = try await sim.http.execute(HTTPRequest(
            method: "POST", url: sim.url + "/v2/email/outbound-emails", headers: [HTTPHeader("Content-Type", "application/json")],
            body: Array(#"{"Content":{"Raw":{"Data":""}}}"#.utf8)))
        #expect(unsigned.status == 403)
        #expect(unsigned.header("x-amzn-ErrorType") == "IncompleteSignatureException")
        let noCredentials = await provider.send(batch(.ses, endpoint: sim.url, secret: "just-a-key", to: ["a@example.com"]))
        #expect(noCredentials.accountFailure != nil)
    }
}
