import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviderFormats
import MailfleetProviders
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A `mailfleet-sim` process of its own, for calling provider adapters directly.
final class SimulatorProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let http: HTTPClient
    var url: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let bin = env["MAILFLEET_BIN_DIR"] else { throw FleetError("MAILFLEET_BIN_DIR is not set: run ./ops/test") }
        let http = HTTPClient(name: "sim-test-http")
        let logPath = (env["MAILFLEET_TEST_STATE"] ?? NSTemporaryDirectory()) + "/sim-\(UUID().uuidString.prefix(8)).log"
        do {
            (process, port) = try await ListeningProcess.start(
                executable: "\(bin)/mailfleet-sim", environment: env, logPath: logPath, http: http)
        } catch {
            http.shutdown()
            throw error
        }
        self.http = http
    }

    func control(_ json: String) async throws {
        _ = try await http.execute(HTTPRequest(method: "POST", url: url + "/_control", headers: [HTTPHeader("Content-Type", "application/json")], body: Array(json.utf8)))
    }

    func stats() async throws -> [String: Any] {
        let r = try await http.execute(HTTPRequest(url: url + "/_stats"))
        return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:]
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        http.shutdown()
    }
}

private func batch(_ kind: ProviderKind, endpoint: String, secret: String?, config: [String: String] = [:], to: [String]) -> ProviderBatch {
    let account = ProviderAccount(id: UUID(), tenantID: UUID(), name: "sim", kind: kind, endpoint: endpoint, priority: 1, secret: secret, config: config)
    let messages = to.map { address -> RenderedMessage in
        let content = MessageContent(
            from: try! EmailAddress(email: "sender@example.com"), to: [try! EmailAddress(email: address)], subject: "Hi", text: "Hello",
            metadata: ["who": address])
        let message = Message(id: UUID(), tenantID: account.tenantID, priority: .bulk, status: .sending, content: content)
        return RenderedMessage(message: message, htmlTemplate: nil, textTemplate: "Hello")
    }
    return ProviderBatch(account: account, messages: messages)
}

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

/// SES messages of one campaign body: tracking placeholders, each with its own subject and metadata.
private func sesCampaign(endpoint: String, to: [String], subjects: [String]? = nil) -> ProviderBatch {
    let account = ProviderAccount(id: UUID(), tenantID: UUID(), name: "sim", kind: .ses, endpoint: endpoint, priority: 1, secret: "AKID:secret", config: ["configuration_set": "cs"])
    let html = "<p><a href=\"[[mf:click:0]]\">read</a></p>[[mf:open]]"
    let messages = to.enumerated().map { index, address -> RenderedMessage in
        let content = MessageContent(
            from: try! EmailAddress(email: "news@example.com", name: "News"), to: [try! EmailAddress(email: address)],
            subject: subjects?[index] ?? "Hello \(address)", text: "Read: [[mf:click:0]]", html: html, headers: ["X-Campaign": "spring"],
            metadata: ["n": "\(index)"])
        let message = Message(id: UUID(), tenantID: account.tenantID, priority: .bulk, status: .sending, content: content)
        return RenderedMessage(
            message: message, htmlTemplate: html, textTemplate: "Read: [[mf:click:0]]",
            substitutions: ["[[mf:click:0]]": "https://t.example.com/c/\(address)", "[[mf:open]]": "https://t.example.com/o/\(address).gif"])
    }
    return ProviderBatch(account: account, messages: messages)
}

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

/// The simulator's SES `SendBulkEmail` endpoint, called with a SigV4-signed request.
@Suite struct SESBulkSimulatorTests {
    @Test func signedBulkCallsAreAnsweredPerEntryAndUnsignedOnesRefused() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        let url = sim.url + "/v2/email/outbound-bulk-emails"
        let entries = (0..<3).map { i in
            #"{"Destination":{"ToAddresses":["b\#(i)@example.com"]},"ReplacementEmailContent":{"ReplacementTemplate":{"ReplacementTemplateData":"{\"n\":\"\#(i)\"}"}},"ReplacementTags":[{"Name":"mailfleet_message_id","Value":"id-\#(i)"}]}"#
        }
        let body = Array(#"{"FromEmailAddress":"a@example.com","DefaultContent":{"Template":{"TemplateName":"welcome","TemplateData":"{}"}},"BulkEmailEntries":[\#(entries.joined(separator: ","))]}"#.utf8)
        let signer = SigV4Signer(accessKeyID: "AKID", secretAccessKey: "secret", region: "us-east-1", service: "ses")
        let headers = [(name: "Content-Type", value: "application/json")]
        let signature = signer.sign(method: "POST", url: url, headers: headers, body: body, date: Date())
        let signed = try await sim.http.execute(HTTPRequest(
            method: "POST", url: url, headers: (headers + signature.headers).map { HTTPHeader($0.name, $0.value) }, body: body))
        #expect(signed.status == 200)
        let results = (try JSONSerialization.jsonObject(with: Data(signed.body)) as? [String: Any])?["BulkEmailEntryResults"] as? [[String: Any]]
        #expect(results?.count == 3)
        #expect(results?.allSatisfy { $0["Status"] as? String == "SUCCESS" } == true)
        let stats = try await sim.stats()
        #expect(stats["unique_messages"] as? Int == 3)
        let unsigned = try await sim.http.execute(HTTPRequest(method: "POST", url: url, headers: [HTTPHeader("Content-Type", "application/json")], body: body))
        #expect(unsigned.status == 403)
    }

    @Test func inlineTemplatesAreRenderedPerEntryAndAMissingVariableFailsTheCall() async throws {
        let sim = try await SimulatorProcess()
        defer { sim.stop() }
        let url = sim.url + "/v2/email/outbound-bulk-emails"
        let signer = SigV4Signer(accessKeyID: "AKID", secretAccessKey: "secret", region: "us-east-1", service: "ses")
        func call(template: String, data: [String]) async throws -> HTTPResponse {
            let entries = data.enumerated().map { i, values in
                let quoted = String(decoding: try! JSONSerialization.data(withJSONObject: values, options: .fragmentsAllowed), as: UTF8.self)
                return #"{"Destination":{"ToAddresses":["b\#(i)@example.com"]},"ReplacementEmailContent":{"ReplacementTemplate":{"ReplacementTemplateData":\#(quoted)}}}"#
            }
            let body = Array(#"{"FromEmailAddress":"a@example.com","DefaultContent":{"Template":{\#(template)}},"BulkEmailEntries":[\#(entries.joined(separator: ","))]}"#.utf8)
            let headers = [(name: "Content-Type", value: "application/json")]
            let signature = signer.sign(method: "POST", url: url, headers: headers, body: body, date: Date())
            return try await sim.http.execute(HTTPRequest(
                method: "POST", url: url, headers: (headers + signature.headers).map { HTTPHeader($0.name, $0.value) }, body: body))
        }
        let inline = #""TemplateContent":{"Subject":"{{s}}","Text":"Hi {{ name }}, {{greeting}}"},"TemplateData":"{\"greeting\":\"hello\"}""#
        let rendered = try await call(template: inline, data: [#"{"s":"one","name":"Ann"}"#, #"{"s":"two","name":"Bob","greeting":"hey"}"#])
        #expect(rendered.status == 200)
        let missing = try await call(template: inline, data: [#"{"s":"one","name":"Ann"}"#, #"{"s":"two"}"#])
        #expect(missing.status == 400)
        #expect(missing.bodyString.contains("Rendering failure for entry 1"))
        #expect(missing.bodyString.contains("name"))
        let noSubject = try await call(template: #""TemplateContent":{"Text":"x"}"#, data: ["{}"])
        #expect(noSubject.status == 400)
        let noBody = try await call(template: #""TemplateContent":{"Subject":"x"}"#, data: ["{}"])
        #expect(noBody.status == 400)
        // Only the first call sent anything.
        let stats = try await sim.stats()
        #expect(stats["recipients"] as? Int == 2)
        #expect((stats["calls"] as? [String: Int])?["ses_bulk"] == 4)
        let recipients = try await sim.http.execute(HTTPRequest(url: sim.url + "/_recipients"))
        let variables = try JSONSerialization.jsonObject(with: Data(recipients.body)) as? [String: [String: String]]
        #expect(variables?["b1@example.com"]?["name"] == "Bob")
    }
}
