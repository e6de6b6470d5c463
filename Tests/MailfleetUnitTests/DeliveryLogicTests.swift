import Foundation
import MailfleetCore
import MailfleetStore
import MailfleetWorker
import Testing

/// A deterministic generator for jitter tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }
}

func makeMessage(tenant: UUID = UUID(), to: [String] = ["to@example.com"], subject: String = "S", html: String? = nil, attempts: Int = 0, trackOpens: Bool = false, trackClicks: Bool = false) -> Message {
    let content = MessageContent(
        from: try! EmailAddress(email: "from@example.com"), to: to.map { try! EmailAddress(email: $0) }, subject: subject,
        text: "text", html: html, trackOpens: trackOpens, trackClicks: trackClicks)
    return Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .sending, content: content, attempts: attempts)
}

func account(_ kind: ProviderKind, tenant: UUID = UUID()) -> ProviderAccount {
    ProviderAccount(id: UUID(), tenantID: tenant, name: kind.rawValue, kind: kind, endpoint: nil, priority: 1, secret: "s")
}

@Suite struct RetryPolicyTests {
    @Test func delaysGrowExponentiallyWithinJitterBounds() {
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 3600, maxAttempts: 8)
        var rng = SeededGenerator(state: 42)
        for attempt in 1...7 {
            let ceiling = min(3600, 10 * pow(2, Double(attempt - 1)))
            for _ in 0..<50 {
                guard case .retry(let delay) = policy.decision(afterAttempt: attempt, using: &rng) else {
                    Issue.record("attempt \(attempt) should retry"); return
                }
                #expect(delay >= ceiling / 2 && delay <= ceiling)
            }
        }
        #expect(policy.decision(afterAttempt: 8, using: &rng) == .giveUp)
    }

    @Test func retryAfterRaisesButNeverLowersTheDelay() {
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 3600, maxAttempts: 8)
        var rng = SeededGenerator(state: 1)
        #expect(policy.decision(afterAttempt: 1, retryAfter: 120, using: &rng) == .retry(after: 120))
        guard case .retry(let delay) = policy.decision(afterAttempt: 1, retryAfter: 1, using: &rng) else { Issue.record("should retry"); return }
        #expect(delay >= 5)
    }

    @Test func retryAfterParsesSecondsAndDates() {
        #expect(ResponseClassifier.parseRetryAfter("30") == 30)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(ResponseClassifier.parseRetryAfter("Tue, 14 Nov 2023 22:13:20 GMT", now: now) == 0)
        #expect(ResponseClassifier.parseRetryAfter("Tue, 14 Nov 2023 22:14:20 GMT", now: now) == 60)
        #expect(ResponseClassifier.parseRetryAfter("soon") == nil)
    }

    @Test func statusesAreClassified() {
        #expect(ResponseClassifier.classify(status: 202, retryAfter: nil) == .accepted)
        #expect(ResponseClassifier.classify(status: 429, retryAfter: "7") == .retryable(retryAfter: 7))
        #expect(ResponseClassifier.classify(status: 503, retryAfter: nil) == .retryable(retryAfter: nil))
        #expect(ResponseClassifier.classify(status: 401, retryAfter: nil) == .accountFailure)
        #expect(ResponseClassifier.classify(status: 403, retryAfter: nil) == .accountFailure)
        #expect(ResponseClassifier.classify(status: 400, retryAfter: nil) == .rejected)
    }
}

@Suite struct BatchPlannerTests {
    @Test func sendGridBatchesShareBodiesAndRespectTheLimit() {
        let tenant = UUID()
        var rendered: [RenderedMessage] = []
        for i in 0..<2500 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, subject: "S\(i)", html: "<p>A</p>"), htmlTemplate: "<p>A</p>", textTemplate: "text")) }
        for _ in 0..<10 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, html: "<p>B</p>"), htmlTemplate: "<p>B</p>", textTemplate: "text")) }
        let batches = BatchPlanner.plan(rendered, for: account(.sendgrid, tenant: tenant))
        #expect(batches.map(\.messages.count) == [1000, 1000, 500, 10])
        for batch in batches { #expect(Set(batch.messages.map(\.contentKey)).count == 1) }
    }

    @Test func recipientLimitSplitsBatches() {
        let tenant = UUID()
        let many = (0..<40).map { "r\($0)@example.com" }
        let rendered = (0..<30).map { _ in
            let m = makeMessage(tenant: tenant, to: many)
            return RenderedMessage(message: m, htmlTemplate: nil, textTemplate: "text")
        }
        let batches = BatchPlanner.plan(rendered, for: account(.sendgrid, tenant: tenant))
        #expect(batches.allSatisfy { $0.recipientCount <= 1000 })
        #expect(batches.reduce(0) { $0 + $1.messages.count } == 30)
        #expect(batches.count == 2)
    }

    @Test func sesBatchesShareBodiesUpToFiftyMessagesWhateverTheirRecipients() {
        let tenant = UUID()
        var rendered: [RenderedMessage] = []
        for i in 0..<120 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, subject: "S\(i)", html: "<p>A</p>"), htmlTemplate: "<p>A</p>", textTemplate: "text")) }
        for _ in 0..<3 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, html: "<p>B</p>"), htmlTemplate: "<p>B</p>", textTemplate: "text")) }
        let batches = BatchPlanner.plan(rendered, for: account(.ses, tenant: tenant))
        #expect(batches.map(\.messages.count) == [50, 50, 20, 3])
        for batch in batches { #expect(Set(batch.messages.map(\.contentKey)).count == 1) }
        // 40 recipients each: SES limits destinations per entry (50), not per call, so 30 such
        // messages still share one call (a limit of 50 recipients per call would need 30).
        let many = (0..<40).map { "r\($0)@example.com" }
        let wide = (0..<30).map { _ in RenderedMessage(message: makeMessage(tenant: tenant, to: many), htmlTemplate: nil, textTemplate: "text") }
        #expect(BatchPlanner.plan(wide, for: account(.ses, tenant: tenant)).map(\.messages.count) == [30])
    }

    @Test func outboxIgnoresBodies() {
        let rendered = (0..<3).map { i in RenderedMessage(message: makeMessage(html: "<p>\(i)</p>"), htmlTemplate: "<p>\(i)</p>", textTemplate: nil) }
        #expect(BatchPlanner.plan(rendered, for: account(.outbox)).count == 1)
    }
}

@Suite struct DeliveryPlanTests {
    @Test func outcomesBecomeWritesAndQueueMoves() {
        let sent = makeMessage(), retry = makeMessage(attempts: 1), exhausted = makeMessage(attempts: 7), rejected = makeMessage()
        let accountID = UUID()
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            sent.id: (.accepted(providerMessageID: "p1"), accountID),
            retry.id: (.retryable(reason: "503", retryAfter: nil), accountID),
            exhausted.id: (.retryable(reason: "503", retryAfter: nil), accountID),
            rejected.id: (.rejected(reason: "bad address"), accountID),
        ]
        var rng = SeededGenerator(state: 7)
        let now = Date(timeIntervalSince1970: 1_000_000)
        let plan = DeliveryPlan.make(messages: [sent, retry, exhausted, rejected], results: results, policy: RetryPolicy(baseDelay: 10, maxDelay: 100, maxAttempts: 8), now: now, rng: &rng)
        #expect(plan.outcomes.sent.map(\.messageID) == [sent.id])
        #expect(plan.outcomes.sent.first?.providerMessageID == "p1")
        #expect(plan.outcomes.deferred.map(\.messageID) == [retry.id])
        // Attempt 2 failed: the delay is drawn from [10, 20].
        let due = plan.outcomes.deferred[0].nextAttemptAt.timeIntervalSince(now)
        #expect(due >= 10 && due <= 20)
        #expect(Set(plan.outcomes.failed.map(\.messageID)) == [exhausted.id, rejected.id])
        #expect(plan.acknowledge.map(\.id) == [sent.id])
        #expect(plan.reschedule.map(\.id) == [retry.id])
        #expect(Set(plan.deadLetter.map(\.id)) == [exhausted.id, rejected.id])
        #expect(plan.deadLetter.first { $0.id == exhausted.id }?.reason.hasPrefix("attempts exhausted (8)") == true)
    }

    @Test func recipientsRefusedInsideSentMessagesBecomeBouncedEvents() {
        let sent = makeMessage(to: ["a@example.com", "b@example.com", "c@example.com"]), retry = makeMessage()
        let accountID = UUID()
        let refusals: [UUID: [RecipientRefusal]] = [
            sent.id: [RecipientRefusal(address: "b@example.com", code: 550, reply: "5.1.1 mailbox unavailable"), RecipientRefusal(address: "c@example.com", code: 451, reply: "4.3.0 later")],
            // A refusal reported for a message that was not accepted in the end adds nothing.
            retry.id: [RecipientRefusal(address: "to@example.com", code: 550, reply: "no")],
        ]
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            sent.id: (.accepted(providerMessageID: "p1"), accountID), retry.id: (.retryable(reason: "421", retryAfter: nil), accountID),
        ]
        var rng = SeededGenerator(state: 3)
        let now = Date(timeIntervalSince1970: 2_000_000)
        let plan = DeliveryPlan.make(messages: [sent, retry], results: results, refusals: refusals, policy: RetryPolicy(baseDelay: 10), now: now, rng: &rng)
        #expect(plan.outcomes.sent.map(\.messageID) == [sent.id])
        #expect(plan.recipientEvents.map(\.type) == [.bounced, .bounced])
        #expect(plan.recipientEvents.allSatisfy { $0.messageID == sent.id && $0.tenantID == sent.tenantID && $0.occurredAt == now })
        #expect(plan.recipientEvents[0].detail == ["recipient": "b@example.com", "code": "550", "reply": "5.1.1 mailbox unavailable", "permanent": "true"])
        #expect(plan.recipientEvents[1].detail["permanent"] == "false")
    }

    @Test func eventsMirrorOutcomes() {
        var batch = OutcomeBatch()
        batch.sent.append(.init(messageID: UUID(), tenantID: UUID(), accountID: UUID(), providerMessageID: "x"))
        batch.failed.append(.init(messageID: UUID(), tenantID: UUID(), reason: "r"))
        // `sent` is recorded on the message row itself, not as an event row.
        #expect(batch.events.map(\.type) == [.failed])
    }
}

@Suite struct PartitioningTests {
    @Test func partitionsAreStableAndSpread() {
        let partitioning = Partitioning(count: 8)
        var counts = [Int](repeating: 0, count: 8)
        for _ in 0..<8000 {
            let id = UUID()
            let p = partitioning.partition(of: id)
            #expect(p == partitioning.partition(of: id))
            counts[p] += 1
        }
        #expect(counts.allSatisfy { $0 > 700 && $0 < 1300 })
    }
}

import MailfleetRuntime

/// Tracks whether an object is still alive.
final class Sentinel: @unchecked Sendable {
    let payload = [UInt8](repeating: 1, count: 1024)
}

@Suite struct DedicatedThreadTests {
    @Test func finishedJobsReleaseWhatTheyCaptured() async throws {
        let thread = DedicatedThread(name: "test-release")
        weak var weakSentinel: Sentinel?
        do {
            let sentinel = Sentinel()
            weakSentinel = sentinel
            let size = try await thread.run { sentinel.payload.count }
            #expect(size == 1024)
        }
        // One more job, so the loop has certainly moved past the first.
        _ = try await thread.run { 0 }
        #expect(weakSentinel == nil, "a finished job's captures must be released")
        thread.shutdown()
    }

    @Test func jobsRunInOrder() async throws {
        let thread = DedicatedThread(name: "test-order")
        let log = Locked<[Int]>([])
        for i in 0..<2000 { thread.submit { log.withLock { $0.append(i) } } }
        _ = try await thread.run { 0 }
        #expect(log.withLock { $0 } == Array(0..<2000))
        thread.shutdown()
    }
}
