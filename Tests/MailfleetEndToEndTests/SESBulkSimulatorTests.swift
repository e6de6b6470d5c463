import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviderFormats
import MailfleetProviders
import Testing
#if canImport(Glibc)
import Glibc
#endif

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
