import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviderFormats
import MailfleetProviders
import Testing
#if canImport(Glibc)
import Glibc
#endif


/// The SMTP adapter against a real SMTP server.
@Suite(.serialized) struct SMTPProviderTests {
    @Test func messagesAreDeliveredWithAuthOverReusedConnections() async throws {
        let server = try SMTPTestServer(reject: ["gone@example.com"])
        defer { server.stop() }
        let client = HTTPClient(name: "smtp-test")
        defer { client.shutdown() }
        let provider = SMTPProvider(client: client)
        let addresses = (0..<40).map { "r\($0)@example.com" } + ["gone@example.com"]
        let b = batch(.smtp, endpoint: server.url, secret: "\(server.user):\(server.password)", config: ["tls": "none"], to: addresses)
        let outcome = await provider.send(b)
        #expect(outcome.accountFailure == nil)
        let accepted = outcome.outcomes.values.filter { if case .accepted = $0 { true } else { false } }.count
        #expect(accepted == 40)
        if case .rejected(let reason) = outcome.outcomes[b.messages.last!.message.id] { #expect(reason.contains("550")) } else { Issue.record("refused recipient not rejected") }
        let again = await provider.send(batch(.smtp, endpoint: server.url, secret: "\(server.user):\(server.password)", config: ["tls": "none"], to: ["late@example.com"]))
        #expect(again.outcomes.values.allSatisfy { if case .accepted = $0 { true } else { false } })
        let stats = try await server.stats()
        #expect(stats["messages"] as? Int == 41)
        let variables = stats["variables"] as? [String: [String: String]] ?? [:]
        #expect(variables["r7@example.com"]?["who"] == "r7@example.com")
        // 42 transactions over at most a connection pool's worth of connections (plus the
        // server's own start-up probe); connections are reused, not opened per message.
        let connections = stats["connections"] as? Int ?? 0
        #expect(connections > 0 && connections <= 34)
        #expect((stats["logins"] as? Int ?? 0) == connections - 1)
    }

    @Test(arguments: [SMTPTestServer.TLS.startTLS, .implicit])
    func tlsIsNegotiatedAndTheCertificateVerified(tls: SMTPTestServer.TLS) async throws {
        let server = try SMTPTestServer(tls: tls)
        defer { server.stop() }
        let client = HTTPClient(name: "smtp-test")
        defer { client.shutdown() }
        let provider = SMTPProvider(client: client)
        let secret = "\(server.user):\(server.password)"
        // STARTTLS required (the default) and the test CA trusted: delivered.
        let trusted = await provider.send(batch(.smtp, endpoint: server.url, secret: secret, config: ["ca_file": server.certificate ?? ""], to: ["a@example.com", "b@example.com"]))
        #expect(trusted.outcomes.values.allSatisfy { if case .accepted = $0 { true } else { false } })
        // The same server without trusting its certificate (a client of its own, so no verified
        // connection is reused): nothing is sent.
        let other = HTTPClient(name: "smtp-untrusted")
        defer { other.shutdown() }
        let untrusted = await SMTPProvider(client: other).send(batch(.smtp, endpoint: server.url, secret: secret, to: ["c@example.com"]))
        #expect(untrusted.outcomes.values.allSatisfy { if case .retryable = $0 { true } else { false } })
        let stats = try await server.stats()
        #expect(stats["messages"] as? Int == 2)
        #expect(stats["logins"] as? Int ?? 0 >= 1)
    }

    @Test func aRefusedRecipientDoesNotFailTheOthers() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let client = HTTPClient(name: "smtp-test")
        defer { client.shutdown() }
        let provider = SMTPProvider(client: client)
        let secret = "\(server.user):\(server.password)"
        var b = batch(.smtp, endpoint: server.url, secret: secret, config: ["tls": "none"], to: ["r1@example.com"])
        b.messages[0].message.content.cc = [try EmailAddress(email: "reject550-x@example.com"), try EmailAddress(email: "r2@example.com")]
        b.messages[0].message.content.bcc = [try EmailAddress(email: "defer451-y@example.com")]
        let id = b.messages[0].message.id
        let outcome = await provider.send(b)
        if case .accepted = outcome.outcomes[id] {} else { Issue.record("message not accepted: \(String(describing: outcome.outcomes[id]))") }
        #expect(outcome.refusals[id]?.map(\.address) == ["reject550-x@example.com", "defer451-y@example.com"])
        #expect(outcome.refusals[id]?.map(\.code) == [550, 451])
        #expect(outcome.refusals[id]?.first?.reply.contains("mailbox unavailable") == true)
        var stats = try await server.stats()
        #expect(stats["messages"] as? Int == 1)
        #expect(stats["recipients"] as? Int == 2)

        // Every recipient refused: for good (550) rejected, with a 451 among them retried.
        let gone = await provider.send(batch(.smtp, endpoint: server.url, secret: secret, config: ["tls": "none"], to: ["reject550-only@example.com"]))
        if case .rejected(let reason) = gone.outcomes.values.first { #expect(reason.contains("550")) } else { Issue.record("refused message not rejected") }
        #expect(gone.accountFailure == nil)
        var later = batch(.smtp, endpoint: server.url, secret: secret, config: ["tls": "none"], to: ["reject550-a@example.com"])
        later.messages[0].message.content.cc = [try EmailAddress(email: "defer451-b@example.com")]
        let deferred = await provider.send(later)
        if case .retryable(let reason, _) = deferred.outcomes.values.first { #expect(reason.contains("451")) } else { Issue.record("temporarily refused message not retryable") }
        // Messages after refused transactions still go through on the same client.
        let after = await provider.send(batch(.smtp, endpoint: server.url, secret: secret, config: ["tls": "none"], to: ["r3@example.com"]))
        #expect(after.outcomes.values.allSatisfy { if case .accepted = $0 { true } else { false } })
        stats = try await server.stats()
        #expect(stats["messages"] as? Int == 2)
        #expect(stats["recipients"] as? Int == 3)
    }

    @Test func aWrongPasswordIsAnAccountFailure() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let client = HTTPClient(name: "smtp-test")
        defer { client.shutdown() }
        let outcome = await SMTPProvider(client: client).send(batch(.smtp, endpoint: server.url, secret: "\(server.user):wrong", config: ["tls": "none"], to: ["a@example.com"]))
        #expect(outcome.accountFailure != nil)
        #expect(try await server.stats()["messages"] as? Int == 0)
    }
}
