import Foundation
import MailfleetCore
import MailfleetHTTPClient

/// Sends batches of messages through a fleet's API at a fixed pace, open loop (a slow or absent
/// API does not slow the arrivals down), and keeps every answer.
actor FaultLoad {
    /// One answer the API gave.
    struct Answer: Sendable {
        /// The HTTP status, or 0 when no answer came (refused, reset, timed out).
        var status: Int
        var sentAt: Date
        var answeredAt: Date
        var retryAfter: String?
        /// Ids of the messages a 202 accepted, lowercased.
        var ids: [String]
    }

    private let fleet: Fleet
    private let tag: String
    private(set) var answers: [Answer] = []
    private var messagesSent = 0

    init(_ fleet: Fleet, tag: String) {
        self.fleet = fleet
        self.tag = tag
    }

    /// Every message id the API accepted.
    var accepted: Set<String> { Set(answers.flatMap(\.ids)) }

    /// Posts `batch` messages every `every` for `seconds`, then waits for the last answers.
    func run(seconds: Double, every: Duration, batch: Int) async {
        let end = Date().addingTimeInterval(seconds)
        await withTaskGroup(of: Void.self) { group in
            var next = ContinuousClock.now
            while Date() < end {
                group.addTask { _ = await self.post(batch) }
                next += every
                try? await Task.sleep(until: next)
            }
        }
    }

    /// Posts `count` messages in one request now (message i due at `sendAt[i]` when given);
    /// records and returns the answer.
    @discardableResult
    func post(_ count: Int, sendAt: [Date] = []) async -> Answer {
        let offset = messagesSent
        messagesSent += count
        let items = (0..<count).map { i in
            let when = i < sendAt.count ? #","send_at":"\#(ISO8601.format(sendAt[i]))""# : ""
            return #"{"from":"Sender <sender@example.com>","to":["user\#(offset + i)@example.com"],"subject":"Fault \#(tag) \#(offset + i)","text":"Hi there","metadata":{"tag":"\#(tag)"}\#(when)}"#
        }
        let request = HTTPRequest(
            method: "POST", url: fleet.apiURL + "/v1/messages",
            headers: [HTTPHeader("Authorization", "Bearer \(fleet.apiKey)"), HTTPHeader("Content-Type", "application/json")],
            body: Array("{\"messages\":[\(items.joined(separator: ","))]}".utf8), timeout: .seconds(5))
        let sentAt = Date()
        let answer: Answer
        do {
            let response = try await fleet.http.execute(request)
            let listed = Fleet.object(response)["messages"] as? [[String: Any]] ?? []
            answer = Answer(
                status: response.status, sentAt: sentAt, answeredAt: Date(), retryAfter: response.header("Retry-After"),
                ids: response.status == 202 ? listed.compactMap { ($0["id"] as? String)?.lowercased() } : [])
        } catch {
            answer = Answer(status: 0, sentAt: sentAt, answeredAt: Date(), retryAfter: nil, ids: [])
        }
        answers.append(answer)
        return answer
    }
}
