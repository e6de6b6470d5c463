import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetRuntime
import MailfleetStore
import Metrics

/// The fleet-wide send limits a worker applies (docs/FLOW.md): before a round is rendered,
/// the tenant's messages per second and the warm-up caps of its sending domains; before each
/// provider call, the account's calls and messages per second and its caps per mailbox
/// provider. A message a limit holds waits (`DeliveryOutcome.waiting`: no attempt counted)
/// until its token is due. Every limit is asked for all it is needed for in one pipelined
/// round trip; tokens granted but unused (a message another limit held) are given back.
/// If Redis cannot be asked, mail goes (logged): the queue lives there too, so a round that
/// got this far found it up a moment ago.
final class SendGate: Sendable {
    private let limiter: SendLimiter
    private let counter: WarmupCounter
    private let tenants: TenantStore
    private let cacheSeconds: Double
    private let logger: Logger
    private let limitsCache = Locked<[UUID: (TenantSendLimits, expires: Date)]>([:])
    private let warmupCache = Locked<[UUID: ([String: Warmup], expires: Date)]>([:])
    private let held: [SendAdmission.Reason: Metrics.Counter]
    private let warmupSent = Telemetry.counter("warmup_messages_total", help: "Messages sent under a sending domain's warm-up cap")
    /// The longest a provider call waits in the lane for a call token before its messages are held instead.
    private static let callWaitMs = 200
    /// The longest the queue holds a tenant for a warm-up cap at a time.
    private static let warmupHoldUs = 1_000_000

    /// Creates the gate; tenants' limits and warm-ups are cached `cacheSeconds`.
    init(limiter: SendLimiter, counter: WarmupCounter, tenants: TenantStore, cacheSeconds: Double, logger: Logger) {
        self.limiter = limiter
        self.counter = counter
        self.tenants = tenants
        self.cacheSeconds = cacheSeconds
        self.logger = logger
        var held: [SendAdmission.Reason: Metrics.Counter] = [:]
        for reason in SendAdmission.Reason.allCases {
            held[reason] = Telemetry.counter(
                "messages_held_total", help: "Messages held by a send limit (they wait, no attempt counted), by reason",
                labels: [("reason", reason.rawValue)])
        }
        self.held = held
    }

    /// What one round's limits did. The account's limits (shared by its batches, whatever
    /// their tenant) size the lane's next fetch (`FetchSizing`): how many messages they held and
    /// the soonest time one of them frees a token. A tenant's own limits hold the tenant in the
    /// queue instead (`tenantHolds`), so the lane's other tenants are not slowed.
    final class Round: Sendable {
        private let state = Locked<(held: Int, nextFreeMs: Int?)>((0, nil))
        private let tenants = Locked<(limited: [FairShare.TenantLimited], admitted: [UUID: [Priority: Int]])>(([], [:]))
        /// Warm-up reservations of messages let through, given back for those not sent.
        let reserved = Locked<[UUID: WarmupCounter.Request]>([:])

        /// Records what the tenants' own limits held and admitted.
        func tenantLimits(limited: [FairShare.TenantLimited], admitted: [Message]) {
            tenants.withLock { tenants in
                tenants.limited += limited
                for message in admitted { tenants.admitted[message.tenantID, default: [:]][message.priority, default: 0] += 1 }
            }
        }

        /// Messages the tenants' own limits held.
        var tenantHeld: Int { tenants.withLock { $0.limited.count } }

        /// The queue holds for the tenants whose own limits held messages (`FairShare.tenantHolds`).
        func tenantHolds(partitions: Int) -> [FairShare.TenantHold] {
            tenants.withLock { FairShare.tenantHolds($0.limited, admitted: $0.admitted, partitions: partitions) }
        }

        func hold(_ count: Int, nextFreeMs: Int) {
            state.withLock { state in
                state.held += count
                state.nextFreeMs = min(state.nextFreeMs ?? nextFreeMs, nextFreeMs)
            }
        }

        /// Messages held, and the soonest free token in milliseconds (0 when none held).
        var summary: (held: Int, nextFreeMs: Int) { state.withLock { ($0.held, $0.nextFreeMs ?? 0) } }
    }

    // MARK: - Before rendering: the tenant's rate and warm-up

    /// The messages that may go on, and the waits of those held by their tenant's messages
    /// per second or their From domain's warm-up cap.
    func screen(_ messages: [Message], round: Round, now: Date = Date()) async -> (sendable: [Message], held: [UUID: DeliveryOutcome]) {
        guard !messages.isEmpty else { return ([], [:]) }
        let tenantIDs = Set(messages.map(\.tenantID))
        let limits: [UUID: TenantSendLimits]
        let warmups: [UUID: [String: Warmup]]
        do {
            limits = try await self.limits(of: tenantIDs)
            warmups = try await SenderWorker.cached(tenantIDs, in: warmupCache, for: cacheSeconds, absent: [:]) {
                try await self.tenants.warmups(tenantIDs: $0)
            }
        } catch {
            logger.warning("send limits unreadable; sending without them this round", metadata: ["error": "\(error)"])
            return (messages, [:])
        }
        let day = WarmupSchedule.dayNumber(now)
        var rates: [SendAdmission.Limit: SendLimiter.Request] = [:]
        var caps: [SendAdmission.Limit: WarmupCounter.Request] = [:]
        var needs: [(id: UUID, limits: [SendAdmission.Limit])] = []
        // Tokens go in this order: transactional first, so a tenant's bulk never takes the
        // token its password reset needed.
        for message in messages.filter({ $0.priority == .transactional }) + messages.filter({ $0.priority != .transactional }) {
            var need: [SendAdmission.Limit] = []
            if let perSecond = limits[message.tenantID]?.messagesPerSecond {
                let rate = SendRate(perSecond: perSecond)
                let subject = "tenant:\(message.tenantID.lowercasedString):msg"
                let limit = SendAdmission.Limit(reason: .tenantRate, subject: subject, name: "tenant: \(perSecond) messages/s", intervalUs: rate.intervalUs)
                rates[limit] = SendLimiter.Request(subject: subject, rate: rate, count: 0)
                need.append(limit)
            }
            if let (limit, request) = Self.warmupLimit(for: message, warmups: warmups[message.tenantID], day: day, now: now) {
                caps[limit] = request
                need.append(limit)
            }
            needs.append((message.id, need))
        }
        guard !rates.isEmpty || !caps.isEmpty else { return (messages, [:]) }
        let wanted = SendAdmission.wanted(needs)
        var grants: [SendAdmission.Limit: SendAdmission.Grant] = [:]
        let rateLimits = Array(rates.keys), capLimits = Array(caps.keys)
        do {
            let answers = try await limiter.take(rateLimits.map { limit in
                var request = rates[limit]!
                request.count = wanted[limit] ?? 0
                return request
            })
            for (limit, answer) in zip(rateLimits, answers) {
                grants[limit] = SendAdmission.Grant(
                    admitted: answer.decision.admitted, nextFreeUs: answer.decision.nextFreeUs, heldWaitUs: answer.decision.heldWaitUs)
            }
            let untilTomorrowUs = Int(WarmupSchedule.nextDay(after: now).timeIntervalSince(now) * 1_000_000)
            // Uncapped (transactional) counts first, so the bulk of the same round gets what they leave.
            let capLimits = capLimits.sorted { caps[$0]!.cap > caps[$1]!.cap }
            let reserved = try await counter.reserve(capLimits.map { limit in
                var request = caps[limit]!
                request.count = wanted[limit] ?? 0
                return request
            })
            for (limit, got) in zip(capLimits, reserved) {
                grants[limit] = SendAdmission.Grant(admitted: got, nextFreeUs: got < (wanted[limit] ?? 0) ? untilTomorrowUs : 0)
            }
        } catch {
            // Tokens already taken are not given back: the limit errs on the slow side.
            logger.warning("send limits unreachable; sending without them this round", metadata: ["error": "\(error)"])
            return (messages, [:])
        }
        let decision = SendAdmission.decide(needs, grants: grants)
        await giveBack(decision.unused, rates: rates, caps: caps)
        let admitted = Set(decision.admitted)
        round.reserved.withLock { reserved in
            for need in needs where admitted.contains(need.id) {
                for limit in need.limits where limit.reason == .warmup {
                    var request = caps[limit]!
                    request.count = 1
                    reserved[need.id] = request
                }
            }
        }
        let byID = Dictionary(messages.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        round.tenantLimits(
            limited: decision.held.compactMap { id, hold in
                byID[id].map {
                    // A warm-up cap is per From domain: the tenant's other domains may still send,
                    // so the tenant is held a second at a time, not until tomorrow.
                    let nextFreeUs = hold.limit.reason == .warmup ? min(hold.nextFreeUs, Self.warmupHoldUs) : hold.nextFreeUs
                    return FairShare.TenantLimited(tenantID: $0.tenantID, lane: $0.priority, nextFreeUs: nextFreeUs, intervalUs: hold.limit.intervalUs)
                }
            },
            admitted: messages.filter { admitted.contains($0.id) })
        return (messages.filter { admitted.contains($0.id) }, outcomes(decision.held, now: now).outcomes)
    }

    /// The warm-up count `message` takes a place in, if its From domain is warming up: bulk under
    /// today's cap; transactional on the same count (mailbox providers judge all of a domain's
    /// mail) but uncapped, as a limit of its own, so a password reset is never held for tomorrow
    /// (`WarmupSchedule.reservationCap`).
    private static func warmupLimit(
        for message: Message, warmups: [String: Warmup]?, day: Int, now: Date
    ) -> (SendAdmission.Limit, WarmupCounter.Request)? {
        let domain = message.content.from.domain
        guard let warmup = warmups?[domain], let cap = warmup.schedule.cap(at: now, startedOn: warmup.startedOn),
              let reservationCap = warmup.schedule.reservationCap(for: message.priority, at: now, startedOn: warmup.startedOn) else { return nil }
        let dayOfWarmup = WarmupSchedule.day(of: now, startedOn: warmup.startedOn)
        let uncapped = reservationCap == WarmupSchedule.uncapped
        let limit = SendAdmission.Limit(
            reason: .warmup, subject: "wu:\(message.tenantID.lowercasedString):\(domain)" + (uncapped ? ":uncapped" : ""),
            name: "warm-up of \(domain): day \(dayOfWarmup), \(cap) messages today", intervalUs: 0)
        return (limit, WarmupCounter.Request(tenantID: message.tenantID, domain: domain, day: day, count: 0, cap: reservationCap))
    }

    /// After the round: warm-up reservations of messages not accepted by a provider are given
    /// back, so a day's count is of messages sent.
    func settle(_ round: Round, results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)]) async {
        let reserved = round.reserved.withLock { $0 }
        guard !reserved.isEmpty else { return }
        var unsent: [WarmupCounter.Request: Int] = [:]
        var sent = 0
        for (id, request) in reserved {
            if case .accepted = results[id]?.outcome { sent += 1; continue }
            unsent[request, default: 0] += 1
        }
        warmupSent.increment(by: Int64(sent))
        let returns = unsent.map { request, count in
            var request = request
            request.count = count
            return request
        }
        do {
            try await counter.giveBack(returns)
        } catch {
            logger.warning("warm-up reservations not given back; today's count stays higher", metadata: ["error": "\(error)", "messages": "\(unsent.values.reduce(0, +))"])
        }
    }

    // MARK: - Before each provider call: the account's limits

    /// The messages of `batch` its account may take now (the batch's first ones, in order), and
    /// the waits of the rest: a call token first (waited for in the lane up to 200 ms), then
    /// messages per second and the caps per mailbox provider.
    func admit(_ batch: ProviderBatch, round: Round, now: Date = Date()) async -> (admitted: [RenderedMessage], held: [UUID: DeliveryOutcome]) {
        let account = batch.account
        let accountLimits = AccountSendLimits(config: account.config)
        let tenantLimits: TenantSendLimits
        do {
            tenantLimits = try await limits(of: [account.tenantID])[account.tenantID] ?? TenantSendLimits()
        } catch {
            logger.warning("send limits unreadable; calling without them", metadata: ["error": "\(error)"])
            return (batch.messages, [:])
        }
        let id = account.id.lowercasedString
        var rates: [SendAdmission.Limit: SendLimiter.Request] = [:]
        var needs: [(id: UUID, limits: [SendAdmission.Limit])] = []
        var accountLimit: SendAdmission.Limit?
        if let perSecond = accountLimits.messagesPerSecond {
            let rate = SendRate(perSecond: perSecond)
            let limit = SendAdmission.Limit(
                reason: .accountRate, subject: "acct:\(id):msg", name: "account \(account.name): \(perSecond) messages/s", intervalUs: rate.intervalUs)
            rates[limit] = SendLimiter.Request(subject: limit.subject, rate: rate, count: 0)
            accountLimit = limit
        }
        for rendered in batch.messages {
            var need = accountLimit.map { [$0] } ?? []
            let groups = Set(rendered.message.content.allRecipients.compactMap { MailboxProvider.of(domain: $0.domain) })
            for group in groups.sorted(by: { $0.rawValue < $1.rawValue }) {
                guard let perSecond = tenantLimits.mailboxRate(group, account: accountLimits) else { continue }
                let rate = SendRate(perSecond: perSecond)
                let limit = SendAdmission.Limit(
                    reason: .mailboxRate, subject: "acct:\(id):mbx:\(group.rawValue)",
                    name: "\(group.rawValue) from account \(account.name): \(perSecond) messages/s", intervalUs: rate.intervalUs)
                rates[limit] = SendLimiter.Request(subject: limit.subject, rate: rate, count: 0)
                need.append(limit)
            }
            needs.append((rendered.message.id, need))
        }
        do {
            if let perSecond = accountLimits.callsPerSecond, let wait = try await callToken(account: account, perSecond: perSecond) {
                let outcome = Self.waiting("account \(account.name): \(perSecond) calls/s", waitUs: wait, now: now)
                self.held[SendAdmission.Reason.accountCalls]?.increment(by: Int64(batch.messages.count))
                round.hold(batch.messages.count, nextFreeMs: wait / 1000)
                return ([], Dictionary(batch.messages.map { ($0.message.id, outcome) }, uniquingKeysWith: { first, _ in first }))
            }
            guard !rates.isEmpty else { return (batch.messages, [:]) }
            let wanted = SendAdmission.wanted(needs)
            let limits = Array(rates.keys)
            let answers = try await limiter.take(limits.map { limit in
                var request = rates[limit]!
                request.count = wanted[limit] ?? 0
                return request
            })
            var grants: [SendAdmission.Limit: SendAdmission.Grant] = [:]
            for (limit, answer) in zip(limits, answers) {
                grants[limit] = SendAdmission.Grant(
                    admitted: answer.decision.admitted, nextFreeUs: answer.decision.nextFreeUs, heldWaitUs: answer.decision.heldWaitUs)
            }
            let decision = SendAdmission.decide(needs, grants: grants)
            await giveBack(decision.unused, rates: rates, caps: [:])
            if decision.admitted.isEmpty, let perSecond = accountLimits.callsPerSecond {
                // No message goes: the call token is not used either.
                let subject = "acct:\(id):call"
                try? await limiter.giveBack([SendLimiter.Request(subject: subject, rate: SendRate(perSecond: perSecond), count: 1)])
            }
            let admitted = Set(decision.admitted)
            let held = outcomes(decision.held, now: now)
            if let soonestUs = held.soonestUs { round.hold(decision.held.count, nextFreeMs: soonestUs / 1000) }
            return (batch.messages.filter { admitted.contains($0.message.id) }, held.outcomes)
        } catch {
            logger.warning("send limits unreachable; calling without them", metadata: ["account": "\(account.name)", "error": "\(error)"])
            return (batch.messages, [:])
        }
    }

    /// Takes one call token for `account`, waiting in the lane for it up to `callWaitMs`; nil
    /// when taken, else the wait in microseconds until one is free.
    private func callToken(account: ProviderAccount, perSecond: Int) async throws -> Int? {
        let request = SendLimiter.Request(subject: "acct:\(account.id.lowercasedString):call", rate: SendRate(perSecond: perSecond), count: 1)
        var waitedMs = 0
        while true {
            let answer = try await limiter.take([request])[0].decision
            if answer.admitted == 1 { return nil }
            let waitMs = answer.nextFreeUs / 1000 + 1
            if waitedMs + waitMs > Self.callWaitMs { return answer.nextFreeUs }
            try? await Task.sleep(for: .milliseconds(waitMs))
            waitedMs += waitMs
        }
    }

    // MARK: - Shared

    private func limits(of tenantIDs: Set<UUID>) async throws -> [UUID: TenantSendLimits] {
        try await SenderWorker.cached(tenantIDs, in: limitsCache, for: cacheSeconds, absent: TenantSendLimits()) {
            try await self.tenants.sendLimits(tenantIDs: $0)
        }
    }

    private func giveBack(
        _ unused: [SendAdmission.Limit: Int], rates: [SendAdmission.Limit: SendLimiter.Request], caps: [SendAdmission.Limit: WarmupCounter.Request]
    ) async {
        var rateReturns: [SendLimiter.Request] = []
        var capReturns: [WarmupCounter.Request] = []
        for (limit, count) in unused {
            if var request = rates[limit] {
                request.count = count
                rateReturns.append(request)
            } else if var request = caps[limit] {
                request.count = count
                capReturns.append(request)
            }
        }
        do {
            try await limiter.giveBack(rateReturns)
            try await counter.giveBack(capReturns)
        } catch {
            // Unused tokens stay taken: the limit errs on the slow side for a moment.
            logger.debug("unused send tokens not given back", metadata: ["error": "\(error)"])
        }
    }

    /// The waits of held messages, counted by reason, and the soonest free token of the limits that held them.
    private func outcomes(_ holds: [UUID: SendAdmission.Hold], now: Date) -> (outcomes: [UUID: DeliveryOutcome], soonestUs: Int?) {
        var outcomes: [UUID: DeliveryOutcome] = [:]
        var soonestUs: Int?
        for (id, hold) in holds {
            held[hold.limit.reason]?.increment()
            outcomes[id] = Self.waiting(hold.limit.name, waitUs: hold.waitUs, now: now)
            soonestUs = min(soonestUs ?? hold.nextFreeUs, hold.nextFreeUs)
        }
        return (outcomes, soonestUs)
    }

    private static func waiting(_ name: String, waitUs: Int, now: Date) -> DeliveryOutcome {
        let until = now.addingTimeInterval(Double(waitUs) / 1_000_000)
        return .waiting(reason: "send limit \(name); waits until \(ISO8601.format(until))", until: until)
    }
}
