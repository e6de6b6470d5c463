import Foundation
import MailfleetHTTPClient

/// A client that sends one message per Idempotency-Key and retries each request until the API
/// answers 202 or 200, whatever happens to the API in between.
actor IdempotentClient {
    private let fleet: Fleet
    private var apiURL: String
    /// The message ids each key was answered with (more than one would be a double accept).
    private(set) var idsByKey: [String: Set<String>] = [:]
    /// Attempts beyond each request's first.
    private(set) var retries = 0
    /// Answers marked `Idempotent-Replayed`: requests accepted before an answer was lost.
    private(set) var replayed = 0

    init(_ fleet: Fleet) {
        self.fleet = fleet
        apiURL = fleet.apiURL
    }

    var acceptedKeys: Int { idsByKey.count }

    /// Points the client at a restarted API.
    func use(_ url: String) { apiURL = url }

    /// Sends message `index` under `key` until accepted or `deadline`.
    func send(_ key: String, index: Int, until deadline: Date) async {
        let body = #"{"from":"Sender <sender@example.com>","to":["user\#(index)@example.com"],"subject":"Fault d \#(index)","text":"Hi there"}"#
        var first = true
        while Date() < deadline {
            if !first { retries += 1 }
            first = false
            let request = HTTPRequest(
                method: "POST", url: apiURL + "/v1/messages",
                headers: [
                    HTTPHeader("Authorization", "Bearer \(fleet.apiKey)"), HTTPHeader("Content-Type", "application/json"),
                    HTTPHeader("Idempotency-Key", key),
                ],
                body: Array(body.utf8), timeout: .seconds(5))
            if let response = try? await fleet.http.execute(request), response.status == 202 || response.status == 200,
               let id = Fleet.object(response)["id"] as? String {
                idsByKey[key, default: []].insert(id.lowercased())
                if response.header("Idempotent-Replayed") == "true" { replayed += 1 }
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
