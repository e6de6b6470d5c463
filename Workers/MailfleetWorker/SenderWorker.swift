import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetProviderFormats
import MailfleetProviders
import MailfleetRuntime
import MailfleetStore
import Metrics
import ServiceLifecycle

/// The sender: fetches leased batches from Redis, claims them in Postgres, renders them, packs
/// them into provider calls, fails over along each tenant's provider chain (skipping accounts
/// whose circuit breaker is open or that are paced after a 429), writes outcomes in
/// one transaction per round, then acknowledges, reschedules or dead-letters in Redis.
///
/// On graceful shutdown (SIGTERM) every lane finishes the round it is in, then stops.
public final class SenderWorker: Service {
    private let configuration: WorkerConfiguration
    private let queue: MessageQueue
    private let store: MessageStore
    private let tenants: TenantStore
    private let suppressions: SuppressionStore
    private let providers: ProviderRegistry
    private let renderer: TrackingRenderer
    private let logger: Logger
    private let chains = Locked<[UUID: ([ProviderAccount], expires: Date)]>([:])
    private let trackings = Locked<[UUID: (TenantTracking, expires: Date)]>([:])
    private let pausedBulk = Locked<[UUID: (Set<String>, expires: Date)]>([:])
    private let metrics: WorkerMetrics
    private let breakers: AccountCircuitBreakers
    private let paces: PacedAccounts
    private let heartbeat: Heartbeat
    private let gatherTurns = GatherTurns()
    private let idleLanes = IdleLanes()
    private let gate: SendGate

    /// Creates a worker; `breakers` holds the fleet's circuit breakers of provider accounts,
    /// `paces` the fleet's paces of accounts that answered 429; `heartbeat` is told what each
    /// round and provider call did.
    public init(
        configuration: WorkerConfiguration, queue: MessageQueue, store: MessageStore, tenants: TenantStore, suppressions: SuppressionStore,
        providers: ProviderRegistry, breakers: CircuitBreakerStore, paces: AccountPacingStore, heartbeat: Heartbeat, logger: Logger
    ) {
        self.configuration = configuration
        self.queue = queue
        self.store = store
        self.tenants = tenants
        self.suppressions = suppressions
        self.providers = providers
        self.renderer = TrackingRenderer(trackerBaseURL: configuration.trackerBaseURL, signer: TrackingSigner(secret: configuration.trackingSecret))
        self.logger = logger
        let metrics = WorkerMetrics()
        self.metrics = metrics
        self.breakers = AccountCircuitBreakers(store: breakers, configuration: configuration.circuitBreaker, metrics: metrics, logger: logger)
        self.paces = PacedAccounts(store: paces, pacing: configuration.pacing, logger: logger)
        self.heartbeat = heartbeat
        self.gate = SendGate(
            limiter: SendLimiter(sharing: queue), counter: WarmupCounter(sharing: queue), tenants: tenants,
            cacheSeconds: configuration.providerCacheSeconds, logger: logger)
    }

    /// Runs the lanes until graceful shutdown, then returns once each lane's round is done.
    public func run() async throws {
        logger.info("worker started", metadata: [
            "lanes": "\(configuration.lanes)", "transactional_lanes": "\(configuration.transactionalLanes)", "partitions": "\(configuration.partitions)",
        ])
        // Lanes waiting for work (`IdleLanes`) are woken when shutdown begins, to see it.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    for lane in 0..<configuration.lanes {
                        group.addTask { await self.runLane(lane) }
                    }
                    let first = configuration.lanes
                    for lane in 0..<configuration.transactionalLanes {
                        group.addTask { await self.runLane(first + lane, transactionalOnly: true) }
                    }
                }
            } onGracefulShutdown: {
                self.idleLanes.stop()
            }
        } onCancel: {
            self.idleLanes.stop()
        }
        logger.info("worker drained and stopped")
    }

    /// One fetch-and-send loop. A transactional lane (`transactionalOnly`) fetches transactional
    /// mail alone, from every partition at each poll, so a password reset never waits for a
    /// lane to finish a long bulk round; the other lanes serve both, transactional first. While
    /// the queue is empty one of the other lanes polls it and the rest wait (`IdleWatch`).
    private func runLane(_ lane: Int, transactionalOnly: Bool = false) async {
        let partitions = configuration.partitions
        var cursor = (lane * partitions / max(configuration.lanes, 1) + Int.random(in: 0..<partitions)) % partitions
        // A Postgres or Redis outage is logged when it begins and ends, not per failed round.
        var outage = Outage()
        let clock = MonotonicMilliseconds()
        // Account limits that hold most of a round shrink the next fetch (each held message costs a
        // claim and a write); a tenant's own limits hold the tenant in the queue instead.
        var sizing = FetchSizing(batchSize: configuration.batchSize)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // With a bulk linger, a worker's lanes take turns to fetch, so lanes side by
                // side do not split a campaign that could fill one provider call.
                let start = cursor, size = sizing.next
                let (fetched, next) =
                    transactionalOnly
                    ? (try await queue.fetchTransactional(max: size, leaseSeconds: configuration.leaseSeconds), start)
                    : try await queue.fairness.bulkLingerMs > 0
                        ? gatherTurns.take { try await self.fetchRound(from: start, max: size) } : fetchRound(from: start, max: size)
                cursor = next
                if fetched.isEmpty {
                    let turn = transactionalOnly ? IdleWatch.Turn.watch : await idleLanes.foundNothing(lane: lane)
                    if turn == .watch { try? await Task.sleep(for: configuration.idleDelay) }
                    continue
                }
                if !transactionalOnly { idleLanes.foundWork(lane: lane) }
                // The round runs to its end even if shutdown begins meanwhile.
                let limited = try await processRound(fetched)
                let pauseMs = sizing.roundEnded(
                    fetched: fetched.count - limited.tenantHeld, held: limited.held, nextFreeMs: limited.nextFreeMs, jitter: Double.random(in: 0..<1))
                if pauseMs > 0 { try? await Task.sleep(for: .milliseconds(pauseMs)) }
                // Only a whole round ends an outage: an empty fetch proves Redis alone.
                if let ended = outage.succeeded(atMs: clock.nowMs()) {
                    logger.info("worker rounds resumed", metadata: ["lane": "\(lane)", "outage_ms": "\(ended.durationMs)", "failed_rounds": "\(ended.failures)"])
                }
            } catch {
                if outage.failed(atMs: clock.nowMs()) {
                    logger.error("worker round failed; pausing this lane with growing waits until rounds succeed", metadata: ["lane": "\(lane)", "error": "\(error)"])
                } else {
                    logger.debug("worker round failed again", metadata: ["lane": "\(lane)", "error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(outage.delayMs))
            }
        }
    }

    /// A round's entries: those of the first partition from `cursor` with ready work; then, with
    /// a bulk linger and no transactional entry among them, one more pass over the partitions
    /// taking ripe entries until the round holds a full provider call (`Fairness.bulkFull`).
    /// Transactional mail never waits for that pass, nor does a lane whose send limits shrank
    /// its fetch to `max` (gathering more would only hold more). Also returns where the next
    /// round starts.
    private func fetchRound(from cursor: Int, max: Int) async throws -> (entries: [(id: UUID, priority: Priority)], next: Int) {
        let partitions = configuration.partitions
        var next = cursor
        var fetched: [(id: UUID, priority: Priority)] = []
        var from = cursor
        for _ in 0..<partitions {
            from = next
            next = (next + 1) % partitions
            fetched = try await queue.fetch(partition: from, max: max, leaseSeconds: configuration.leaseSeconds)
            if !fetched.isEmpty { break }
        }
        guard !fetched.isEmpty, queue.fairness.bulkLingerMs > 0, max >= configuration.batchSize,
              !fetched.contains(where: { $0.priority == .transactional }) else {
            return (fetched, next)
        }
        for step in 0..<partitions {
            let room = queue.fairness.bulkFull - fetched.count
            guard room > 0 else { break }
            fetched += try await queue.fetch(partition: (from + step) % partitions, max: room, leaseSeconds: configuration.leaseSeconds)
        }
        return (fetched, next)
    }

    /// One round: claim, send, record, acknowledge. Returns what the accounts' send limits held
    /// (and the soonest token they free), and how many messages the tenants' own limits held.
    @discardableResult
    func processRound(_ fetched: [(id: UUID, priority: Priority)]) async throws -> (held: Int, nextFreeMs: Int, tenantHeld: Int) {
        let started = ContinuousClock.now
        let claimed: [Message]
        do {
            claimed = try await store.claim(fetched.map(\.id), lease: configuration.leaseSeconds)
        } catch {
            // Postgres did not answer (down, restarting): hand the entries back, due now, rather
            // than leave them leased, unsendable, for a whole lease after it is back.
            try? await queue.reschedule(fetched.map { ($0.id, $0.priority, Date()) })
            throw error
        }
        let claimedIDs = Set(claimed.map(\.id))
        // Entries Postgres would not hand us: finished ones leave the queue; ones still leased
        // by another worker (or not yet due) come back when that lease or due time passes, so
        // a Redis reclaim that beats the Postgres lease by a moment loses nothing.
        let unclaimed = fetched.filter { !claimedIDs.contains($0.id) }
        if !unclaimed.isEmpty {
            let retryTimes = try await store.unclaimedRetryTimes(unclaimed.map(\.id))
            var finished: [(id: UUID, priority: Priority)] = []
            var later: [(id: UUID, priority: Priority, dueAt: Date)] = []
            for entry in unclaimed {
                if let due = retryTimes[entry.id] ?? nil {
                    later.append((entry.id, entry.priority, due.addingTimeInterval(0.5)))
                } else {
                    finished.append(entry)
                }
            }
            try await queue.acknowledge(finished)
            try await queue.reschedule(later)
            metrics.skipped.increment(by: Int64(finished.count))
        }
        guard !claimed.isEmpty else { return (0, 0, 0) }
        let renewal = LeaseRenewal.start(
            for: claimed.map { ($0.id, $0.priority) }, queue: queue, store: store, leaseSeconds: configuration.leaseSeconds, logger: logger)
        defer { renewal.cancel() }
        // Suppressions are enforced again here: one added after a message was queued (a bounce,
        // complaint or unsubscribe in between) holds it back. One query for the whole round.
        let (toSend, dropped) = try await screen(claimed)

        // A tenant with no account is looked at again when its cached chain has expired.
        let heldUntil = Date().addingTimeInterval(configuration.providerCacheSeconds)
        var results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [:]
        // Bulk mail of a tenant or domain whose sender health paused it waits, with no
        // attempt counted, like mail of a tenant with no account; transactional mail goes on.
        let pausedUntil = Date().addingTimeInterval(configuration.bulkPauseRecheckSeconds)
        let paused = try await pausedBulkDomains(for: Set(toSend.filter { $0.priority == .bulk }.map(\.tenantID)))
        var sendable: [Message] = []
        for message in toSend {
            if message.priority == .bulk, let domains = paused[message.tenantID],
               let domain = BulkPause.holding(fromDomain: message.content.from.domain, paused: domains) {
                results[message.id] = (.waiting(reason: BulkPause.waitingReason(domain: domain), until: pausedUntil), nil)
            } else {
                sendable.append(message)
            }
        }
        let round = SendGate.Round()
        let screened = await gate.screen(sendable, round: round)
        sendable = screened.sendable
        for (id, outcome) in screened.held { results[id] = (outcome, nil) }
        await holdLimitedTenants(round)

        let chainsByTenant = try await providerChains(for: Set(sendable.map(\.tenantID)))
        let trackingByTenant = try await trackingSettings(for: Set(sendable.map(\.tenantID)))
        var refusals: [UUID: [RecipientRefusal]] = [:]
        var byTenant: [UUID: [RenderedMessage]] = [:]
        let renderedAt = Date()
        for message in sendable {
            let tracking = trackingByTenant[message.tenantID] ?? TenantTracking()
            byTenant[message.tenantID, default: []].append(renderer.render(message, tenant: tracking, sentAt: renderedAt))
        }

        await withTaskGroup(of: FailoverPlan.Finished.self) { group in
            for (tenantID, rendered) in byTenant {
                let chain = chainsByTenant[tenantID] ?? []
                // The first account's calls run in parallel, each failing over on its own; with
                // no account at all the plan holds the messages without a call.
                let groups = chain.first.map { first in BatchPlanner.plan(rendered, for: first).map(\.messages) } ?? [rendered]
                for messages in groups {
                    group.addTask { await self.deliver(messages, along: chain, heldUntil: heldUntil, round: round) }
                }
            }
            for await partial in group {
                results.merge(partial.results) { _, new in new }
                refusals.merge(partial.refusals) { _, new in new }
            }
        }

        var rng = SystemRandomNumberGenerator()
        let plan = DeliveryPlan.make(messages: toSend, results: results, refusals: refusals, policy: configuration.retry, now: Date(), rng: &rng)
        var outcomes = plan.outcomes
        // Refused recipients' events commit with the outcomes: a crash cannot keep one without the other.
        outcomes.recipientEvents = plan.recipientEvents + dropped.events
        outcomes.dropped = dropped.whole
        metrics.refusedRecipients.increment(by: Int64(plan.recipientEvents.count))
        // Messages whose cancel was requested while they were held are cancelled, not deferred.
        let cancelled = try await recordWithRetry(outcomes)
        // Postgres has the truth now; Redis follows. A failure here only delays or duplicates
        // queue entries, which the claim step and reconciliation absorb.
        let finishedIDs = Set(dropped.whole.map(\.messageID)).union(cancelled)
        try await queue.acknowledge(plan.acknowledge + claimed.filter { finishedIDs.contains($0.id) }.map { ($0.id, $0.priority) })
        try await queue.reschedule(plan.reschedule.filter { !cancelled.contains($0.id) })
        try await queue.deadLetter(plan.deadLetter)
        await gate.settle(round, results: results)

        metrics.sent.increment(by: Int64(plan.outcomes.sent.count))
        metrics.deferred.increment(by: Int64(plan.outcomes.deferred.count - plan.waiting))
        metrics.waiting.increment(by: Int64(plan.waiting))
        metrics.failed.increment(by: Int64(plan.outcomes.failed.count))
        metrics.sentByTenant.increment(tenantsOf: plan.outcomes.sent, \.tenantID)
        metrics.failedByTenant.increment(tenantsOf: plan.outcomes.failed, \.tenantID)
        metrics.dropped.increment(by: Int64(dropped.whole.count))
        metrics.roundDuration.record(duration: ContinuousClock.now - started)
        heartbeat.count(sent: plan.outcomes.sent.count, failed: plan.outcomes.failed.count, deferred: plan.outcomes.deferred.count - plan.waiting)
        logger.debug("round done", metadata: [
            "claimed": "\(claimed.count)", "sent": "\(plan.outcomes.sent.count)",
            "deferred": "\(plan.outcomes.deferred.count - plan.waiting)", "waiting": "\(plan.waiting)",
            "failed": "\(plan.outcomes.failed.count)",
        ])
        let summary = round.summary
        return (summary.held, summary.nextFreeMs, round.tenantHeld)
    }

    /// Holds in the queue the tenants whose own send limits held messages this round, so the
    /// lane fetches other tenants' mail meanwhile (docs/FLOW.md). Best effort: without the hold
    /// the tenant's next turn is held again by its limit, as before.
    private func holdLimitedTenants(_ round: SendGate.Round) async {
        let holds = round.tenantHolds(partitions: configuration.partitions)
        guard !holds.isEmpty else { return }
        do {
            try await queue.hold(holds)
            metrics.tenantHolds.increment(by: Int64(holds.count))
        } catch {
            logger.warning("limited tenants not held in the queue", metadata: ["error": "\(error)", "tenants": "\(holds.count)"])
        }
    }

    /// Sends messages along the chain as `FailoverPlan` directs: the first account first, what
    /// fails retryably (or everything, when the account itself fails) to the next account at once.
    /// An account that is paced or whose circuit breaker refuses is not called: its messages
    /// move on to the next account, or, on the last, wait until it may be called again.
    func deliver(_ messages: [RenderedMessage], along chain: [ProviderAccount], heldUntil: Date, round: SendGate.Round) async -> FailoverPlan.Finished {
        var plan = FailoverPlan(messages: messages, chain: chain, heldUntil: heldUntil)
        while true {
            switch plan.next() {
            case .call(let planned):
                let account = planned.account
                // The pace first: asking a half-open breaker hands out a probe, wasted on an account we would not call.
                if let untilMs = await paces.pacedUntilMs(account, nowMs: AccountCircuitBreakers.nowMs()) {
                    metrics.pacedSkip(account)
                    plan.record(Self.waiting(planned, "paced \(account.name)", untilMs: untilMs), refusals: [:], for: planned)
                    continue
                }
                // Send limits before the breaker, whose half-open answer hands out a probe: the
                // messages the account may take now go, the rest wait (docs/FLOW.md).
                let (admitted, limited) = await gate.admit(planned, round: round)
                if admitted.isEmpty {
                    plan.record(limited, refusals: [:], for: planned)
                    continue
                }
                let batch = admitted.count == planned.messages.count ? planned : ProviderBatch(account: account, messages: admitted)
                let decision = await breakers.mayCall(account)
                if case .refuse(let retryAtMs) = decision {
                    plan.record(Self.waiting(planned, "circuit open for \(account.name)", untilMs: retryAtMs), refusals: [:], for: planned)
                    continue
                }
                let provider = providers.provider(for: account)
                let start = ContinuousClock.now
                let outcome = await provider.send(batch)
                let duration = ContinuousClock.now - start
                metrics.providerCall(kind: account.kind, status: outcome.status, duration: duration, size: batch.messages.count)
                heartbeat.recordCall(account: account.id, duration: duration)
                if let breakerOutcome = outcome.breakerOutcome {
                    await breakers.record(breakerOutcome, duration: duration, for: account)
                } else if decision == .probe {
                    // A probe answered 429: the account is up (only throttled, which the pace
                    // below handles). Reported as a success, so its probe slot is not held until
                    // the probe timeout.
                    await breakers.record(.success, duration: duration, for: account)
                }
                if let failure = outcome.accountFailure {
                    logger.warning("provider account failed", metadata: ["account": "\(account)", "error": "\(failure)", "messages": "\(batch.messages.count)"])
                }
                var outcomes = outcome.outcomes
                if outcome.status == 429 {
                    // Throttled: the whole fleet leaves the account alone for a while, and its
                    // messages move on, or wait for it without an attempt counted.
                    let untilMs = await paces.throttled(account, retryAfterMs: Self.retryAfterMs(outcomes), nowMs: AccountCircuitBreakers.nowMs())
                    let until = Self.date(ms: untilMs)
                    for (id, answer) in outcomes {
                        if case .retryable(let reason, _) = answer {
                            outcomes[id] = .waiting(reason: "\(reason); paced \(account.name) until \(ISO8601.format(until))", until: until)
                        }
                    }
                }
                outcomes.merge(limited) { answered, _ in answered }
                plan.record(outcomes, refusals: outcome.refusals, for: planned)
            case .failOver(let count, _):
                metrics.failovers.increment(by: Int64(count))
            case .finish(let finished):
                return finished
            }
        }
    }

    /// Every message of `batch` waiting until `untilMs` because of `cause` ("paced sim").
    private static func waiting(_ batch: ProviderBatch, _ cause: String, untilMs: Int) -> [UUID: DeliveryOutcome] {
        let until = date(ms: untilMs)
        let outcome = DeliveryOutcome.waiting(reason: "\(cause) until \(ISO8601.format(until))", until: until)
        return Dictionary(batch.messages.map { ($0.message.id, outcome) }, uniquingKeysWith: { first, _ in first })
    }

    /// The Retry-After of a throttled call, in milliseconds (the longest any message was given).
    private static func retryAfterMs(_ outcomes: [UUID: DeliveryOutcome]) -> Int? {
        outcomes.values.compactMap { answer -> Double? in
            if case .retryable(_, let retryAfter) = answer { return retryAfter }
            return nil
        }.max().map { Int(($0 * 1000).rounded()) }
    }

    private static func date(ms: Int) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    private func recordWithRetry(_ outcomes: OutcomeBatch) async throws -> Set<UUID> {
        var attempt = 0
        while true {
            do {
                return try await store.record(outcomes)
            } catch {
                attempt += 1
                // The provider has the messages; losing the write would resend them after the
                // lease expires. Try hard before letting that happen.
                if attempt >= 5 { throw error }
                logger.warning("recording outcomes failed; retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    /// Tenants' tracking settings, cached as long as their provider chains.
    private func trackingSettings(for tenantIDs: Set<UUID>) async throws -> [UUID: TenantTracking] {
        try await Self.cached(tenantIDs, in: trackings, for: configuration.providerCacheSeconds, absent: TenantTracking()) {
            try await self.tenants.trackingSettings(tenantIDs: $0)
        }
    }

    /// Tenants' paused bulk domains (`BulkPause.wholeTenant` for the whole lane), cached as long as their provider chains.
    private func pausedBulkDomains(for tenantIDs: Set<UUID>) async throws -> [UUID: Set<String>] {
        guard !tenantIDs.isEmpty else { return [:] }
        return try await Self.cached(tenantIDs, in: pausedBulk, for: configuration.providerCacheSeconds, absent: []) {
            try await self.tenants.pausedBulkDomains(tenantIDs: $0)
        }
    }

    /// The claimed messages with suppressed recipients removed, and those held back whole with
    /// the `dropped` events of recipients removed from messages still sent.
    private func screen(_ claimed: [Message]) async throws -> (toSend: [Message], dropped: (whole: [OutcomeBatch.Dropped], events: [NewEvent])) {
        var tenantIDs: [UUID] = []
        var emails: [String] = []
        for message in claimed {
            for address in message.content.allRecipients {
                tenantIDs.append(message.tenantID)
                emails.append(SuppressionStore.normalised(address))
            }
        }
        let suppressed = try await suppressions.suppressedPairs(tenantIDs: tenantIDs, emails: emails)
        guard !suppressed.isEmpty else { return (claimed, ([], [])) }
        var toSend: [Message] = []
        var whole: [OutcomeBatch.Dropped] = []
        var events: [NewEvent] = []
        for var message in claimed {
            let tenantID = message.tenantID
            let removed = message.removeSuppressed(
                where: { suppressed.contains(SuppressionKey(tenantID: tenantID, email: SuppressionStore.normalised($0))) }, normalised: SuppressionStore.normalised)
            if removed.wholeMessage {
                whole.append(OutcomeBatch.Dropped(messageID: message.id, tenantID: tenantID, recipients: removed.recipients))
                continue
            }
            if !removed.recipients.isEmpty {
                events.append(NewEvent(
                    tenantID: tenantID, messageID: message.id, type: .dropped,
                    detail: ["reason": "suppressed", "recipients": removed.recipients.joined(separator: ",")]))
            }
            toSend.append(message)
        }
        return (toSend, (whole, events))
    }

    private func providerChains(for tenantIDs: Set<UUID>) async throws -> [UUID: [ProviderAccount]] {
        try await Self.cached(tenantIDs, in: chains, for: configuration.providerCacheSeconds, absent: []) {
            try await self.tenants.providerChains(tenantIDs: $0)
        }
    }

    /// Per-tenant values from `cache`, fetching (in one call) those missing or expired and
    /// keeping them for `seconds`; a tenant `fetch` does not answer for gets `absent`.
    static func cached<Value: Sendable>(
        _ tenantIDs: Set<UUID>, in cache: Locked<[UUID: (Value, expires: Date)]>, for seconds: Double, absent: Value,
        fetch: ([UUID]) async throws -> [UUID: Value]
    ) async throws -> [UUID: Value] {
        let now = Date()
        var result: [UUID: Value] = [:]
        var missing: [UUID] = []
        cache.withLock { entries in
            for id in tenantIDs {
                if let entry = entries[id], entry.expires > now { result[id] = entry.0 } else { missing.append(id) }
            }
        }
        if !missing.isEmpty {
            let fetched = try await fetch(missing)
            let expires = now.addingTimeInterval(seconds)
            cache.withLock { entries in
                for id in missing { entries[id] = (fetched[id] ?? absent, expires) }
            }
            for id in missing { result[id] = fetched[id] ?? absent }
        }
        return result
    }
}

/// The worker's metrics.
struct WorkerMetrics: Sendable {
    let sent = Telemetry.counter("messages_sent_total", help: "Messages a provider accepted")
    let dropped = Telemetry.counter("messages_dropped_total", help: "Messages held back at send because every recipient in to was suppressed after they were queued")
    let deferred = Telemetry.counter("messages_deferred_total", help: "Messages that failed retryably and were rescheduled")
    let waiting = Telemetry.counter(
        "messages_waiting_total",
        help: "Messages deferred without an attempt counted: every account open or paced, or the tenant has none")
    let failed = Telemetry.counter("messages_failed_total", help: "Messages that failed for good (dead-lettered)")
    let sentByTenant = TenantCounter("tenant_messages_sent_total", help: "Messages a provider accepted, per tenant")
    let failedByTenant = TenantCounter("tenant_messages_failed_total", help: "Messages that failed for good (dead-lettered), per tenant")
    let skipped = Telemetry.counter("messages_skipped_total", help: "Queue entries not claimed (already sent or claimed elsewhere)")
    let tenantHolds = Telemetry.counter(
        "queue_tenant_holds_total", help: "Tenants held in the queue by their own send limit (tenant rate, warm-up), per lane held")
    let failovers = Telemetry.counter("provider_failovers_total", help: "Messages moved to the next provider of their chain")
    let refusedRecipients = Telemetry.counter("recipients_refused_total", help: "Recipients a provider refused inside messages it accepted for others")
    let roundDuration = Telemetry.durationHistogram("worker_round_duration_seconds", help: "Fetch-to-acknowledge time of one worker round")

    /// The provider-call metrics of each provider kind and status class seen, made once: a call
    /// (for SMTP and raw SES, a message) then records without creating its handles again.
    private let providerSeries = Locked<[ProviderSeriesKey: ProviderSeries]>([:])

    private struct ProviderSeriesKey: Hashable {
        var kind: ProviderKind
        var status: String
    }

    private struct ProviderSeries {
        var duration: Metrics.Timer
        var calls: Metrics.Counter
        var size: Metrics.Recorder
    }

    func providerCall(kind: ProviderKind, status: Int, duration: Duration, size: Int) {
        let key = ProviderSeriesKey(kind: kind, status: status == 0 ? "none" : "\(status / 100)xx")
        let series = providerSeries.withLock { table in
            if let known = table[key] { return known }
            let made = ProviderSeries(
                duration: Telemetry.durationHistogram(
                    "provider_call_duration_seconds", help: "Provider call latency", labels: [("provider", kind.rawValue)]),
                calls: Telemetry.counter(
                    "provider_calls_total", help: "Provider calls by outcome status",
                    labels: [("provider", kind.rawValue), ("status", key.status)]),
                size: Telemetry.valueHistogram(
                    "provider_batch_messages", help: "Messages per provider call", labels: [("provider", kind.rawValue)],
                    buckets: [1, 10, 50, 100, 250, 500, 1000]))
            table[key] = made
            return made
        }
        series.duration.record(duration: duration)
        series.calls.increment()
        series.size.record(Double(size))
    }

    /// Sets an account's breaker phase gauge: 0 closed, 1 open, 2 half-open.
    func circuitState(_ account: ProviderAccount, _ phase: CircuitBreaker.Phase) {
        Telemetry.gauge(
            "provider_circuit_state", help: "Circuit breaker phase per provider account (0 closed, 1 open, 2 half-open)",
            labels: Self.accountLabels(account)
        ).set(phase.rawValue)
    }

    /// Counts a call to `account` not made because the account is paced after a 429.
    func pacedSkip(_ account: ProviderAccount) {
        Telemetry.counter(
            "provider_paced_total", help: "Provider calls skipped because the account is paced after a 429",
            labels: Self.accountLabels(account)
        ).increment()
    }

    /// Counts a change of an account's breaker into `phase`.
    func circuitTransition(_ account: ProviderAccount, to phase: CircuitBreaker.Phase) {
        Telemetry.counter(
            "provider_circuit_transitions_total", help: "Circuit breaker phase changes per provider account and phase entered",
            labels: Self.accountLabels(account) + [("state", phase.name)]
        ).increment()
    }

    /// The account's name (what operators know it by) and id (names are unique only within a tenant).
    private static func accountLabels(_ account: ProviderAccount) -> [(String, String)] {
        [("account", account.name), ("account_id", account.id.uuidString.lowercased())]
    }
}
