import Foundation
import MailfleetCore
import Testing

@Suite struct FailoverPlanTests {
    /// Runs a plan to its end, answering each call with `answer`; returns the calls made (the
    /// account's kind and the ids sent), the failovers announced, and the finished result.
    static let heldUntil = Date(timeIntervalSince1970: 1_800_000_000)

    func run(
        _ messages: [RenderedMessage], along chain: [ProviderAccount],
        answer: (ProviderBatch) -> (outcomes: [UUID: DeliveryOutcome], refusals: [UUID: [RecipientRefusal]])
    ) -> (calls: [(account: UUID, ids: [UUID])], failovers: [(messages: Int, to: UUID)], finished: FailoverPlan.Finished) {
        var plan = FailoverPlan(messages: messages, chain: chain, heldUntil: Self.heldUntil)
        var calls: [(account: UUID, ids: [UUID])] = []
        var failovers: [(messages: Int, to: UUID)] = []
        while true {
            switch plan.next() {
            case .call(let batch):
                calls.append((batch.account.id, batch.messages.map(\.message.id)))
                let reply = answer(batch)
                plan.record(reply.outcomes, refusals: reply.refusals, for: batch)
            case .failOver(let count, let account):
                failovers.append((count, account.id))
            case .finish(let finished):
                return (calls, failovers, finished)
            }
        }
    }

    func rendered(_ count: Int, tenant: UUID) -> [RenderedMessage] {
        (0..<count).map { _ in RenderedMessage(message: makeMessage(tenant: tenant), htmlTemplate: nil, textTemplate: "text") }
    }

    @Test func everythingAcceptedByTheFirstAccountMakesOneCall() {
        let tenant = UUID()
        let first = account(.sendgrid, tenant: tenant), second = account(.mailgun, tenant: tenant)
        let messages = rendered(3, tenant: tenant)
        let run = run(messages, along: [first, second]) { batch in
            (Dictionary(uniqueKeysWithValues: batch.messages.map { ($0.message.id, DeliveryOutcome.accepted(providerMessageID: "p")) }), [:])
        }
        #expect(run.calls.map(\.account) == [first.id])
        #expect(run.failovers.isEmpty)
        for message in messages {
            #expect(run.finished.results[message.message.id]?.outcome == .accepted(providerMessageID: "p"))
            #expect(run.finished.results[message.message.id]?.accountID == first.id)
        }
    }

    @Test func retryableMessagesMoveToTheNextAccountAndRejectedOnesDoNot() {
        let tenant = UUID()
        let first = account(.sendgrid, tenant: tenant), second = account(.mailgun, tenant: tenant)
        let messages = rendered(3, tenant: tenant)
        let (ok, retry, bad) = (messages[0].message.id, messages[1].message.id, messages[2].message.id)
        let run = run(messages, along: [first, second]) { batch in
            if batch.account.id == second.id {
                return ([retry: .accepted(providerMessageID: "second")], [:])
            }
            return ([ok: .accepted(providerMessageID: "first"), retry: .retryable(reason: "503", retryAfter: nil), bad: .rejected(reason: "bad address")], [:])
        }
        #expect(run.calls.map(\.account) == [first.id, second.id])
        #expect(run.calls[1].ids == [retry])
        #expect(run.failovers.map(\.messages) == [1])
        #expect(run.failovers.map(\.to) == [second.id])
        #expect(run.finished.results[ok]?.accountID == first.id)
        #expect(run.finished.results[retry]?.outcome == .accepted(providerMessageID: "second"))
        #expect(run.finished.results[retry]?.accountID == second.id)
        #expect(run.finished.results[bad]?.outcome == .rejected(reason: "bad address"))
        #expect(run.finished.results[bad]?.accountID == first.id)
    }

    @Test func theLastAccountsRetryableAnswerIsFinal() {
        let tenant = UUID()
        let chain = [account(.sendgrid, tenant: tenant), account(.mailgun, tenant: tenant), account(.postmark, tenant: tenant)]
        let messages = rendered(2, tenant: tenant)
        let run = run(messages, along: chain) { batch in
            (Dictionary(uniqueKeysWithValues: batch.messages.map { ($0.message.id, DeliveryOutcome.retryable(reason: batch.account.name, retryAfter: 3)) }), [:])
        }
        #expect(run.calls.map(\.account) == chain.map(\.id))
        #expect(run.failovers.map(\.messages) == [2, 2])
        for message in messages {
            #expect(run.finished.results[message.message.id]?.outcome == .retryable(reason: "postmark", retryAfter: 3))
            #expect(run.finished.results[message.message.id]?.accountID == chain[2].id)
        }
    }

    @Test func aMessageTheProviderSaysNothingAboutIsRetryable() {
        let tenant = UUID()
        let only = account(.sendgrid, tenant: tenant)
        let messages = rendered(2, tenant: tenant)
        let answered = messages[0].message.id, silent = messages[1].message.id
        let run = run(messages, along: [only]) { _ in ([answered: .accepted(providerMessageID: nil)], [:]) }
        #expect(run.finished.results[silent]?.outcome == .retryable(reason: "no result from provider", retryAfter: nil))
        #expect(run.finished.results[silent]?.accountID == only.id)
    }

    @Test func refusalsAreKeptForAcceptedMessagesOnly() {
        let tenant = UUID()
        let first = account(.smtp, tenant: tenant), second = account(.outbox, tenant: tenant)
        let messages = rendered(2, tenant: tenant)
        let accepted = messages[0].message.id, retried = messages[1].message.id
        let refusal = RecipientRefusal(address: "gone@example.com", code: 550, reply: "no such user")
        let run = run(messages, along: [first, second]) { batch in
            if batch.account.id == second.id { return ([retried: .accepted(providerMessageID: nil)], [:]) }
            let outcome: DeliveryOutcome = batch.messages[0].message.id == accepted ? .accepted(providerMessageID: nil) : .retryable(reason: "451", retryAfter: nil)
            return ([batch.messages[0].message.id: outcome], [batch.messages[0].message.id: [refusal]])
        }
        #expect(run.finished.refusals[accepted] == [refusal])
        #expect(run.finished.refusals[retried] == nil)
    }

    @Test func eachAccountSplitsTheMessagesAtItsOwnLimits() {
        let tenant = UUID()
        // SendGrid takes 1,000 per call, SES 50: what fails over is cut into SES-sized calls.
        let first = account(.sendgrid, tenant: tenant), second = account(.ses, tenant: tenant)
        let messages = rendered(120, tenant: tenant)
        let run = run(messages, along: [first, second]) { batch in
            let outcome: DeliveryOutcome = batch.account.id == first.id ? .retryable(reason: "outage", retryAfter: nil) : .accepted(providerMessageID: nil)
            return (Dictionary(uniqueKeysWithValues: batch.messages.map { ($0.message.id, outcome) }), [:])
        }
        #expect(run.calls.map(\.ids.count) == [120, 50, 50, 20])
        #expect(run.finished.results.values.allSatisfy { $0.accountID == second.id })
    }

    @Test func aTenantWithNoAccountIsHeldWithoutACall() {
        let messages = rendered(2, tenant: UUID())
        let run = run(messages, along: []) { _ in
            Issue.record("no call expected")
            return ([:], [:])
        }
        #expect(run.calls.isEmpty)
        for message in messages {
            #expect(run.finished.results[message.message.id]?.outcome
                == .waiting(reason: "the tenant has no provider account; held until one is added", until: Self.heldUntil))
            #expect(run.finished.results[message.message.id]?.accountID == nil)
        }
    }

    /// Every message of `batch` with the same outcome.
    func all(_ batch: ProviderBatch, _ outcome: DeliveryOutcome) -> (outcomes: [UUID: DeliveryOutcome], refusals: [UUID: [RecipientRefusal]]) {
        (Dictionary(uniqueKeysWithValues: batch.messages.map { ($0.message.id, outcome) }), [:])
    }

    @Test func aWaitingAccountPassesItsMessagesToTheNextOne() {
        let tenant = UUID()
        let paced = account(.sendgrid, tenant: tenant), second = account(.mailgun, tenant: tenant)
        let messages = rendered(3, tenant: tenant)
        let until = Date(timeIntervalSince1970: 1_700_000_010)
        let run = run(messages, along: [paced, second]) { batch in
            batch.account.id == paced.id
                ? all(batch, .waiting(reason: "paced sendgrid until later", until: until)) : all(batch, .accepted(providerMessageID: "m"))
        }
        #expect(run.calls.map(\.account) == [paced.id, second.id])
        #expect(run.failovers.map(\.messages) == [3])
        #expect(run.finished.results.values.allSatisfy { $0.outcome == .accepted(providerMessageID: "m") && $0.accountID == second.id })
    }

    @Test func whenEveryAccountWaitsTheMessageWaitsForTheEarliestWithEveryReason() {
        let tenant = UUID()
        let open = account(.sendgrid, tenant: tenant), paced = account(.mailgun, tenant: tenant), later = account(.postmark, tenant: tenant)
        let messages = rendered(2, tenant: tenant)
        let untils = [
            open.id: Date(timeIntervalSince1970: 1_700_000_030), paced.id: Date(timeIntervalSince1970: 1_700_000_005),
            later.id: Date(timeIntervalSince1970: 1_700_000_060),
        ]
        let run = run(messages, along: [open, paced, later]) { batch in
            all(batch, .waiting(reason: "\(batch.account.name) waits", until: untils[batch.account.id]!))
        }
        #expect(run.calls.count == 3)
        for message in messages {
            #expect(run.finished.results[message.message.id]?.outcome
                == .waiting(reason: "sendgrid waits; mailgun waits; postmark waits", until: untils[paced.id]!))
        }
    }

    @Test func aRealFailureBeforeAWaitKeepsTheFailure() {
        let tenant = UUID()
        let failing = account(.sendgrid, tenant: tenant), open = account(.mailgun, tenant: tenant)
        let messages = rendered(1, tenant: tenant)
        let run = run(messages, along: [failing, open]) { batch in
            batch.account.id == failing.id
                ? all(batch, .retryable(reason: "503", retryAfter: 4))
                : all(batch, .waiting(reason: "circuit open for mailgun", until: Date(timeIntervalSince1970: 1_700_000_000)))
        }
        // The message was tried and failed: the attempt counts, the retry policy times the next.
        #expect(run.finished.results[messages[0].message.id]?.outcome == .retryable(reason: "503", retryAfter: 4))
        #expect(run.finished.results[messages[0].message.id]?.accountID == failing.id)
    }

    @Test func aWaitBeforeARealFailureGivesTheFailure() {
        let tenant = UUID()
        let open = account(.sendgrid, tenant: tenant), failing = account(.mailgun, tenant: tenant)
        let messages = rendered(1, tenant: tenant)
        let run = run(messages, along: [open, failing]) { batch in
            batch.account.id == open.id
                ? all(batch, .waiting(reason: "circuit open for sendgrid", until: Date(timeIntervalSince1970: 1_700_000_000)))
                : all(batch, .retryable(reason: "503", retryAfter: nil))
        }
        #expect(run.finished.results[messages[0].message.id]?.outcome == .retryable(reason: "503", retryAfter: nil))
        #expect(run.finished.results[messages[0].message.id]?.accountID == failing.id)
    }
}
