import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

@Suite(.serialized) struct UnsubscribeTests {
    /// The unfolded value of `name` in a written message's header block.
    func header(_ name: String, in eml: String) -> String? {
        let head = eml.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
        for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    func sent(_ fleet: Fleet, _ response: HTTPResponse) async throws -> String {
        let id = try #require(Fleet.object(response)["id"] as? String)
        let written = try await fleet.eventually(seconds: 30) { FileManager.default.fileExists(atPath: "\(fleet.outboxDir)/\(id).eml") }
        #expect(written)
        return try String(contentsOfFile: "\(fleet.outboxDir)/\(id).eml", encoding: .utf8)
    }

    @Test func oneClickUnsubscribeSuppressesOnPostOnly() async throws {
        let fleet = try await Fleet.start("unsub", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        try fleet.cli(["tenants", "set-tracking", "--tenant", fleet.tenantID, "--unsubscribe-mailto", "unsub@news.example"])
        let tenant = UUID(uuidString: fleet.tenantID)!
        let message = #"{"from":"news@news.example","to":["Reader@Example.com"],"subject":"Spring","text":"hello","priority":"bulk"}"#
        let response = try await fleet.api("POST", "/v1/messages", json: message)
        let id = try #require(Fleet.object(response)["id"] as? String)
        let eml = try await sent(fleet, response)

        #expect(header("List-Unsubscribe-Post", in: eml) == "List-Unsubscribe=One-Click")
        let list = try #require(header("List-Unsubscribe", in: eml))
        #expect(list.hasSuffix(", <mailto:unsub@news.example?subject=unsubscribe>"))
        let link = try #require(firstMatch(in: list, prefix: fleet.trackerURL + "/u/", terminator: ">"))
        let suppressions = { try await fleet.pool.query("SELECT email, reason FROM suppressions WHERE tenant_id = $1", [tenant]).map { "\(try $0.string("email")) \(try $0.string("reason"))" } }
        let unsubscribedEvents = { try await fleet.pool.query("SELECT count(*) AS n FROM events WHERE message_id = $1 AND type = 'unsubscribed'", [UUID(uuidString: id)!]).first!.int("n") }

        // GET (a scanner, or a person's first click) shows a form and changes nothing.
        let page = try await fleet.http.execute(HTTPRequest(url: link))
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("<form method=\"post\""))
        #expect(html.contains("name=\"List-Unsubscribe\" value=\"One-Click\""))
        #expect(try await suppressions().isEmpty)

        // A tampered token is refused and stores nothing.
        var tampered = Array(link)
        let last = tampered.count - 3
        tampered[last] = tampered[last] == "A" ? "B" : "A"
        let refused = try await fleet.http.execute(post(String(tampered)))
        #expect(refused.status == 404)
        #expect(try await suppressions().isEmpty)

        // The mailbox provider's one-click POST suppresses at once; a second changes nothing.
        let done = try await fleet.http.execute(post(link))
        #expect(done.status == 200)
        #expect(try await suppressions() == ["reader@example.com unsubscribed"])
        #expect(try await unsubscribedEvents() == 1)
        // The suppression names the unsubscribed event that caused it.
        let cause = try await fleet.pool.query(
            "SELECT e.type FROM suppressions s JOIN events e ON e.id = s.event_id WHERE s.tenant_id = $1", [tenant]).map { try $0.string("type") }
        #expect(cause == ["unsubscribed"])
        #expect(try await fleet.http.execute(post(link)).status == 200)
        #expect(try await suppressions() == ["reader@example.com unsubscribed"])
        #expect(try await unsubscribedEvents() == 1)
        let shown = Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)"))
        #expect((shown["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }.contains("unsubscribed"))

        // The next message to the address is not sent.
        let next = try await fleet.api("POST", "/v1/messages", json: message.replacingOccurrences(of: "Reader@", with: "reader@"))
        let nextID = try #require(Fleet.object(next)["id"] as? String)
        #expect(Fleet.object(try await fleet.api("GET", "/v1/messages/\(nextID)"))["status"] as? String == "suppressed")
        try await Task.sleep(for: .seconds(2))
        #expect(!FileManager.default.fileExists(atPath: "\(fleet.outboxDir)/\(nextID).eml"))

        // Transactional mail carries no headers by default, but a template's visible link is signed all the same.
        let template = try await fleet.api("POST", "/v1/templates", json: #"{"name":"receipt","subject":"Receipt","text":"Stop: {{unsubscribe_url}}"}"#)
        let templateID = try #require(Fleet.object(template)["id"] as? String)
        let receipt = try await sent(fleet, try await fleet.api("POST", "/v1/messages", json: #"{"from":"shop@news.example","to":["buyer@example.com"],"template_id":"\#(templateID)"}"#))
        #expect(header("List-Unsubscribe", in: receipt) == nil)
        #expect(decodeQuotedPrintable(receipt).contains("Stop: \(fleet.trackerURL)/u/"))
    }

    @Test func aTenantsOwnTrackingHostIsInItsLinks() async throws {
        let fleet = try await Fleet.start("unsubhost", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let shown = try fleet.cli(["tenants", "set-tracking", "--tenant", fleet.tenantID, "--tracking-host", "Links.Brand.Example", "--unsubscribe-transactional", "--json"])
        let settings = try #require(try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])
        #expect(settings["tracking_host"] as? String == "links.brand.example")
        #expect(settings["unsubscribe_transactional"] as? Bool == true)
        #expect(throws: (any Error).self) { try fleet.cli(["tenants", "set-tracking", "--tenant", fleet.tenantID, "--tracking-host", "https://x.example/"]) }
        let eml = try await sent(fleet, try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","html":"<a href=\"https://example.com/\">x</a>","track_clicks":true}"#))
        #expect(header("List-Unsubscribe", in: eml)?.hasPrefix("<https://links.brand.example/u/") == true)
        #expect(decodeQuotedPrintable(eml).contains("https://links.brand.example/c/"))
        let audited = try await fleet.pool.query("SELECT count(*) AS n FROM audit_log WHERE action = 'tenant.updated'").first!.int("n")
        #expect(audited == 1)
    }

    func post(_ url: String) -> HTTPRequest {
        HTTPRequest(
            method: "POST", url: url, headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
            body: Array("List-Unsubscribe=One-Click".utf8))
    }
}
