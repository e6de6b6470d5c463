import Foundation
import MailfleetCore
import Testing

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
        // Attempt 2 failed: full jitter draws the delay from [1 s floor, 20].
        let due = plan.outcomes.deferred[0].nextAttemptAt.timeIntervalSince(now)
        #expect(due >= 1 && due <= 20)
        #expect(plan.outcomes.deferred[0].countsAsAttempt)
        #expect(plan.waiting == 0)
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

    @Test func waitsCountNoAttemptAndNeverDeadLetter() {
        // The last attempt allowed, and far past the maximum age: a wait still only waits.
        var old = makeMessage(attempts: 7)
        old.createdAt = Date(timeIntervalSince1970: 0)
        let fresh = makeMessage()
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        let until = now.addingTimeInterval(30)
        let reason = "circuit open for sim until later; paced backup until later"
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            old.id: (.waiting(reason: reason, until: until), UUID()), fresh.id: (.waiting(reason: reason, until: until), nil),
        ]
        var rng = SeededGenerator(state: 11)
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 100, maxAttempts: 8, maxAge: 3600)
        let plan = DeliveryPlan.make(messages: [old, fresh], results: results, policy: policy, now: now, rng: &rng)
        #expect(plan.outcomes.failed.isEmpty)
        #expect(plan.deadLetter.isEmpty)
        #expect(plan.waiting == 2)
        #expect(plan.outcomes.deferred.map(\.messageID) == [old.id, fresh.id])
        for deferred in plan.outcomes.deferred {
            #expect(!deferred.countsAsAttempt)
            #expect(deferred.reason == reason)
            // At the earliest time an account may be called, plus at most the wait jitter (a 30 s
            // wait spreads over 3 s).
            let due = deferred.nextAttemptAt.timeIntervalSince(until)
            #expect(due >= 0 && due <= 3)
        }
        #expect(plan.reschedule.map(\.dueAt) == plan.outcomes.deferred.map(\.nextAttemptAt))
    }

    @Test func aWaitWhoseTimeHasPassedIsLookedAtAgainSoon() {
        let message = makeMessage()
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        var rng = SeededGenerator(state: 5)
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            message.id: (.waiting(reason: "paced sim until then", until: now.addingTimeInterval(-5)), UUID()),
        ]
        let plan = DeliveryPlan.make(messages: [message], results: results, policy: RetryPolicy(), now: now, rng: &rng)
        let due = plan.outcomes.deferred[0].nextAttemptAt.timeIntervalSince(now)
        #expect(due >= 0 && due <= 1)
    }

    @Test func aMessageTooOldIsDeadLetteredWithItsLastError() {
        var old = makeMessage(attempts: 2)
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        old.createdAt = now.addingTimeInterval(-72 * 3600)
        var young = makeMessage(attempts: 2)
        young.createdAt = now.addingTimeInterval(-72 * 3600 + 1)
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            old.id: (.retryable(reason: "sendgrid 503: busy", retryAfter: nil), UUID()),
            young.id: (.retryable(reason: "sendgrid 503: busy", retryAfter: nil), UUID()),
        ]
        var rng = SeededGenerator(state: 9)
        let plan = DeliveryPlan.make(messages: [old, young], results: results, policy: RetryPolicy(), now: now, rng: &rng)
        #expect(plan.outcomes.failed.map(\.messageID) == [old.id])
        #expect(plan.outcomes.failed.first?.reason == "expired after 72 h: sendgrid 503: busy")
        #expect(plan.deadLetter.map(\.reason) == ["expired after 72 h: sendgrid 503: busy"])
        #expect(plan.outcomes.deferred.map(\.messageID) == [young.id])
    }

    @Test func aReDrivenOldMessageCountsItsAgeFromTheReDrive() {
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        var redriven = makeMessage(attempts: 2)
        redriven.createdAt = now.addingTimeInterval(-30 * 24 * 3600)
        redriven.redrivenAt = now.addingTimeInterval(-3600)
        var expired = redriven
        expired.id = UUID()
        expired.redrivenAt = now.addingTimeInterval(-72 * 3600)
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            redriven.id: (.retryable(reason: "sendgrid 503: busy", retryAfter: nil), UUID()),
            expired.id: (.retryable(reason: "sendgrid 503: busy", retryAfter: nil), UUID()),
        ]
        var rng = SeededGenerator(state: 5)
        let plan = DeliveryPlan.make(messages: [redriven, expired], results: results, policy: RetryPolicy(), now: now, rng: &rng)
        #expect(plan.outcomes.deferred.map(\.messageID) == [redriven.id])
        #expect(plan.outcomes.failed.map(\.messageID) == [expired.id])
    }

    @Test func timeHeldDoesNotCountTowardTheMaximumAge() {
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        // Accepted 80 h ago; held 6 h by a finished hold and for the last 4 h by the current
        // one: 70 h of retry age, under the 72 h limit.
        var held = makeMessage(attempts: 2)
        held.createdAt = now.addingTimeInterval(-80 * 3600)
        held.heldSeconds = 6 * 3600
        held.heldSince = now.addingTimeInterval(-4 * 3600)
        #expect(held.retryAge(at: now) == 70 * 3600)
        var notHeld = held
        notHeld.id = UUID()
        notHeld.heldSeconds = 0
        notHeld.heldSince = nil
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            held.id: (.retryable(reason: "sendgrid 503: busy", retryAfter: nil), UUID()),
            notHeld.id: (.retryable(reason: "sendgrid 503: busy", retryAfter: nil), UUID()),
        ]
        var rng = SeededGenerator(state: 13)
        let plan = DeliveryPlan.make(messages: [held, notHeld], results: results, policy: RetryPolicy(), now: now, rng: &rng)
        #expect(plan.outcomes.deferred.map(\.messageID) == [held.id])
        #expect(plan.outcomes.failed.map(\.messageID) == [notHeld.id])
    }

    @Test func aHoldWritesOneEventWhenItBeginsNotAtEveryLook() {
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        let beginning = makeMessage()
        var lasting = makeMessage()
        lasting.heldSince = now.addingTimeInterval(-60)
        let retrying = makeMessage(attempts: 1)
        let wait = DeliveryOutcome.waiting(reason: "bulk paused", until: now.addingTimeInterval(60))
        let results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [
            beginning.id: (wait, nil), lasting.id: (wait, nil), retrying.id: (.retryable(reason: "503", retryAfter: nil), UUID()),
        ]
        var rng = SeededGenerator(state: 17)
        let plan = DeliveryPlan.make(messages: [beginning, lasting, retrying], results: results, policy: RetryPolicy(), now: now, rng: &rng)
        #expect(plan.outcomes.deferred.map(\.startsHold) == [true, false, true])
        #expect(plan.outcomes.events.map(\.messageID) == [beginning.id, retrying.id])
        #expect(plan.outcomes.events.allSatisfy { $0.type == .deferred })
    }

    @Test func eventsMirrorOutcomes() {
        var batch = OutcomeBatch()
        batch.sent.append(.init(messageID: UUID(), tenantID: UUID(), accountID: UUID(), providerMessageID: "x"))
        batch.failed.append(.init(messageID: UUID(), tenantID: UUID(), reason: "r"))
        // `sent` is recorded on the message row itself, not as an event row.
        #expect(batch.events.map(\.type) == [.failed])
    }
}
