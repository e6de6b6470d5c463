import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

@Suite(.serialized) struct APIAndTrackingTests {
    @Test func apiErrorsAreClearJSON() async throws {
        let fleet = try await Fleet.start("api", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let good = #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#

        let noKey = try await fleet.api("POST", "/v1/messages", json: good, key: "mf_live_nope0000_000000000000000000000000000000")
        #expect(noKey.status == 401)
        #expect((Fleet.object(noKey)["error"] as? [String: Any])?["code"] as? String == "unauthorized")

        let badAddress = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["not-an-address"],"subject":"s","text":"t"}"#)
        #expect(badAddress.status == 400 || badAddress.status == 422)
        #expect((Fleet.object(badAddress)["error"] as? [String: Any])?["field"] as? String == "to[0]")

        let injection = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s\r\nBcc: x@evil.com","text":"t"}"#)
        #expect(injection.status == 422)

        let unknown = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","sujbect":"typo"}"#)
        #expect(unknown.status == 422)
        #expect((Fleet.object(unknown)["error"] as? [String: Any])?["field"] as? String == "sujbect")

        // A NUL in a body is refused alone; its batch neighbours are accepted.
        let nul = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(good),{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"a\u0000b"}]}"#)
        #expect(nul.status == 202)
        #expect(Fleet.object(nul)["accepted"] as? Int == 1)

        let notJSON = try await fleet.api("POST", "/v1/messages", json: "{nope")
        #expect(notJSON.status == 400)

        let mixed = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(good),{"from":"a@example.com","to":[],"subject":"s","text":"t"}]}"#)
        #expect(mixed.status == 202)
        let mixedBody = Fleet.object(mixed)
        #expect(mixedBody["accepted"] as? Int == 1)
        #expect(mixedBody["rejected"] as? Int == 1)

        let tooMany = try await fleet.api("POST", "/v1/messages", json: "{\"messages\":[\(Array(repeating: good, count: 1001).joined(separator: ","))]}")
        #expect(tooMany.status == 413)

        #expect(try await fleet.api("GET", "/v1/messages/\(UUID().uuidString)").status == 404)
        #expect(try await fleet.api("GET", "/v1/messages/not-a-uuid").status == 404)
    }

    @Test func idempotencyKeysReplayOrRefuse() async throws {
        let fleet = try await Fleet.start("idem", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let body = #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#
        let key = [HTTPHeader("Idempotency-Key", "order-42")]
        // Concurrent requests with one key create one message.
        let responses = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            for _ in 0..<8 { group.addTask { try await fleet.api("POST", "/v1/messages", json: body, headers: key) } }
            var all: [HTTPResponse] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(responses.allSatisfy { $0.status == 202 })
        #expect(Set(responses.compactMap { Fleet.object($0)["id"] as? String }).count == 1)
        #expect(responses.filter { $0.header("Idempotent-Replayed") == "true" }.count == 7)
        let total = try await fleet.pool.query("SELECT count(*) AS n FROM messages").first!.int("n")
        #expect(total == 1)
        let conflict = try await fleet.api("POST", "/v1/messages", json: body.replacingOccurrences(of: "\"s\"", with: "\"other\""), headers: key)
        #expect(conflict.status == 422)
        #expect((Fleet.object(conflict)["error"] as? [String: Any])?["code"] as? String == "idempotency_key_reused")
    }

    @Test func tenantsCannotSeeEachOthersMessages() async throws {
        let fleet = try await Fleet.start("isolation", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let otherTenant = try fleet.cli(["tenants", "create", "--name", "other"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let otherKey = try fleet.cli(["keys", "create", "--tenant", otherTenant, "--scopes", "send,read"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let response = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#)
        let id = try #require(Fleet.object(response)["id"] as? String)
        #expect(try await fleet.api("GET", "/v1/messages/\(id)").status == 200)
        #expect(try await fleet.api("GET", "/v1/messages/\(id)", key: otherKey).status == 404)
        let readOnly = try fleet.cli(["keys", "create", "--tenant", fleet.tenantID, "--scopes", "read"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#, key: readOnly).status == 403)
    }

    @Test func opensAndClicksAreRecordedAndForgedLinksRefused() async throws {
        let fleet = try await Fleet.start("tracking", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let response = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","html":"<p><a href=\"https://example.com/landing\">go</a></p>","track_opens":true,"track_clicks":true}"#)
        let id = try #require(Fleet.object(response)["id"] as? String)
        let sent = try await fleet.eventually(seconds: 30) { FileManager.default.fileExists(atPath: "\(fleet.outboxDir)/\(id).eml") }
        #expect(sent)
        // The worker rewrote the link and added the pixel; follow them as a mail client would.
        let eml = try String(contentsOfFile: "\(fleet.outboxDir)/\(id).eml", encoding: .utf8)
        let html = decodeQuotedPrintable(eml)
        let pixel = try #require(firstMatch(in: html, prefix: fleet.trackerURL + "/o/", terminator: "\""))
        let click = try #require(firstMatch(in: html, prefix: fleet.trackerURL + "/c/", terminator: "\""))
        // Apple Mail Privacy Protection's agent: a machine's open, flagged in the message's history.
        let open = try await fleet.http.execute(HTTPRequest(url: pixel, headers: [HTTPHeader("User-Agent", "Mozilla/5.0")]))
        #expect(open.status == 200)
        #expect(open.header("Content-Type") == "image/gif")
        let redirect = try await fleet.http.execute(HTTPRequest(url: click))
        #expect(redirect.status == 302)
        #expect(redirect.header("Location") == "https://example.com/landing")
        let forged = TrackingSigner(secret: "not-the-secret").sign(TrackingToken(kind: .click, messageID: UUID(uuidString: id)!, tenantID: UUID(), url: "https://evil.example"))
        #expect(try await fleet.http.execute(HTTPRequest(url: fleet.trackerURL + "/c/" + forged)).status == 404)
        let recorded = try await fleet.eventually(seconds: 10) {
            let types = try await fleet.pool.query("SELECT type FROM events WHERE message_id = $1 ORDER BY id", [UUID(uuidString: id)!]).map { try $0.string("type") }
            return types.contains("opened") && types.contains("clicked")
        }
        #expect(recorded)
        let shown = Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)"))
        let types = (shown["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(types == ["accepted", "sent", "opened", "clicked"])
        let opened = (shown["events"] as? [[String: Any]] ?? []).first { $0["type"] as? String == "opened" }
        let detail = opened?["detail"] as? [String: Any] ?? [:]
        #expect(detail["machine"] as? String == "true")
        #expect(detail["machine_reason"] as? String == "apple_privacy_proxy")
    }
}

func decodeQuotedPrintable(_ text: String) -> String {
    var bytes: [UInt8] = []
    let source = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
    var i = 0
    while i < source.count {
        if source[i] == UInt8(ascii: "="), i + 2 < source.count, let v = UInt8(String(decoding: source[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
            bytes.append(v)
            i += 3
        } else {
            bytes.append(source[i])
            i += 1
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

func firstMatch(in text: String, prefix: String, terminator: Character) -> String? {
    guard let start = text.range(of: prefix) else { return nil }
    guard let end = text[start.upperBound...].firstIndex(of: terminator) else { return nil }
    return String(text[start.lowerBound..<end])
}
