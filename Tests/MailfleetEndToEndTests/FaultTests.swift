import Foundation
import MailfleetHTTPClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The fault tests (BENCHMARKS.md, "Fault tests"): each does one thing to a fleet of real
/// processes while it sends, and reports what was accepted, delivered, lost (always 0) and
/// delivered twice (`FaultReport`: one line each, and `faults.jsonl`). Serialized, so the
/// times they measure are not shared with another fleet of this suite. Each deadline counts
/// from its fleet's start, not from the wait for a fleet slot while other suites run.
@Suite(.serialized) struct FaultTests {
    /// Seconds left until `deadline`, at least one.
    static func left(_ deadline: Date) -> Double { max(1, deadline.timeIntervalSinceNow) }

    /// Waits until Postgres holds every one of `accepted` as sent (or failed) or the deadline
    /// passes; returns when it did, or nil. Queries that fail (Postgres restarting) count as not yet.
    static func drained(_ fleet: Fleet, _ accepted: Set<String>, by deadline: Date) async throws -> Date? {
        let ids = Array(accepted)
        let done = try await fleet.eventually(seconds: left(deadline)) {
            (try? await fleet.pool.query(
                "SELECT count(*) AS n FROM messages WHERE id = ANY($1::uuid[]) AND status IN ('sent', 'failed')", [ids]
            ).first?.int("n")) == ids.count
        }
        return done ? Date() : nil
    }

    @Test(.timeLimit(.minutes(3)))
    func aProviderOutageMovesTheWholeFleetToTheSecondaryAndBackThroughProbes() async throws {
        // No bulk linger: the cutover measures the breakers, and a trickle of bulk lingers up to
        // 4 × 200 ms before it is fetched (FlowTests measure the linger apart).
        let fleet = try await Fleet.start("fault-a", workers: 3, provider: .sendgrid, environment: ["MAILFLEET_BULK_LINGER_MS": "0"])
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(100)
        let secondary = try await fleet.startSimulator("sim-secondary")
        try fleet.addSendGridAccount(name: "secondary", endpoint: secondary, priority: 20)
        // 100 messages a second for 14 s. The primary is down from 2 s to 5.5 s: it is back
        // before the breaker's first half-open probe (the open period is 5 s).
        let load = FaultLoad(fleet, tag: "a")
        let start = Date()
        async let loaded: Void = load.run(seconds: 14, every: .milliseconds(100), batch: 10)
        async let watched = SimulatorWatch.record(fleet, nil, until: start.addingTimeInterval(15))
        try await Task.sleep(for: .seconds(2))
        let outageAt = Date()
        try await fleet.simControl(#"{"outage":true}"#)
        try await Task.sleep(for: .seconds(3.5))
        let recoveredAt = Date()
        try await fleet.simControl("{}")
        await loaded
        let primary = await watched
        let accepted = await load.accepted
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)

        // The primary's calls after the outage began: the failures that trip the breaker, then
        // no call from any of the three workers while it is open, then the probes.
        let calls = primary.calls(after: outageAt)
        let silence = zip(calls, calls.dropFirst()).first { $1 - $0 >= 2 }
        let secondaryArrivals = try await fleet.simArrivals(at: secondary).values
        let backAt = primary.firstAccepted(after: recoveredAt)
        var report = FaultReport(test: "a", title: "provider outage, two accounts, three workers")
        try await report.tally(accepted: accepted, fleet: fleet, simulators: [nil, secondary])
        let cutover = silence.map { max($0.0, secondaryArrivals.min() ?? .infinity) - outageAt.timeIntervalSince1970 }
        report.add("cutover_s", cutover ?? -1)
        report.add("open_s", silence.map { $1 - $0 } ?? -1)
        report.add("back_after_recovery_s", backAt.map { $0.timeIntervalSince(recoveredAt) } ?? -1)
        report.add("via_secondary", Double(secondaryArrivals.count))
        try report.publish()

        #expect(drainedAt != nil)
        #expect(report.lost == 0)
        #expect(report.failed == 0)
        // The primary refused (503) rather than lost answers: nothing is sent twice.
        #expect(report.duplicates == 0)
        let (lastFailure, firstProbe) = try #require(silence, "the fleet kept calling the primary while it was down")
        #expect(try #require(cutover) < 2, "goal: the whole fleet sends through the secondary within 2 s")
        #expect(firstProbe - lastFailure >= 4, "a worker called the primary while its breaker was open")
        #expect(!secondaryArrivals.isEmpty)
        // Half-open probes closed it and the traffic came back: after the primary accepted
        // again, the secondary saw only what was already on its way.
        let back = try #require(backAt, "the primary never accepted again after it recovered")
        #expect(back.timeIntervalSince(recoveredAt) < 8)
        #expect(try #require(secondaryArrivals.max()) < back.timeIntervalSince1970 + 1.5)
    }

    @Test(.timeLimit(.minutes(3)))
    func bAWorkerKilledMidBatchHasItsMessagesDelivered() async throws {
        // A 5 s lease so the dead worker's messages are reclaimed quickly; calls of 1.5 s so
        // every batch is in flight when the worker dies. No bulk linger: gathered into full
        // calls, the 400 messages would be one or two calls, not a batch in flight on each worker.
        let environment = ["MAILFLEET_LEASE_SECONDS": "5", "MAILFLEET_WORKER_BATCH": "50", "MAILFLEET_BULK_LINGER_MS": "0"]
        let fleet = try await Fleet.start("fault-b", workers: 2, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(100)
        try await fleet.simControl(#"{"latency_ms":1500}"#)
        let load = FaultLoad(fleet, tag: "b")
        for _ in 0..<8 { try #require(await load.post(50).status == 202) }
        // Five calls at once on two workers of four lanes each: both have a batch in flight.
        let busy = try await fleet.eventually(seconds: 30) { (try await fleet.simStats()["inflight"] as? Int ?? 0) >= 5 }
        try #require(busy)
        let inFlight = try await fleet.count(status: "sending")
        let victim = try #require(fleet.process("worker-0"))
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let killedAt = Date()
        try await Task.sleep(for: .seconds(1))
        try await fleet.startWorker(2, environment: environment)
        let accepted = await load.accepted
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)

        var report = FaultReport(test: "b", title: "kill -9 of a worker mid-batch, restarted")
        try await report.tally(accepted: accepted, fleet: fleet)
        report.add("in_flight_at_kill", Double(inFlight))
        report.add("all_sent_after_kill_s", drainedAt.map { $0.timeIntervalSince(killedAt) } ?? -1)
        try report.publish()

        #expect(drainedAt != nil)
        #expect(report.lost == 0)
        #expect(report.failed == 0)
        // At-least-once: only what was in flight when the worker died may go twice.
        #expect(report.duplicates <= inFlight)
    }

    @Test(.timeLimit(.minutes(3)))
    func cTheStandbySchedulerTakesOverFromAKilledLeaderWithinTheLease() async throws {
        // Retries 1-2 s after a failed first attempt.
        let fleet = try await Fleet.start("fault-c", workers: 1, provider: .sendgrid, environment: ["MAILFLEET_RETRY_BASE_SECONDS": "2"])
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(100)
        let ports = ["scheduler": fleet.schedulerPort, "scheduler-standby": try await fleet.launch("scheduler-standby", "mailfleet-scheduler", [:])]
        func leads(_ port: Int) async -> Bool {
            (try? await fleet.metrics(port: port)).flatMap { DeliveryTests.sample($0, "mailfleet_scheduler_is_leader") } == 1
        }
        var leader: String?
        let until = Date().addingTimeInterval(15)
        while leader == nil && Date() < until {
            for (key, port) in ports where await leads(port) { leader = key }
            try await Task.sleep(for: .milliseconds(50))
        }
        let leaderKey = try #require(leader, "no scheduler leads")
        let standbyPort = try #require(ports.first { $0.key != leaderKey }?.value)

        // 100 scheduled sends falling due 2 s to 6 s from now, and 2 sends whose first call
        // fails (at most 2 failed calls: the breaker, which would hold them itself, opens at 50 %
        // of at least 5 calls) and whose retries fall due 1-2 s later (full jitter from 1 s);
        // the leader dies at 1 s, before any of them is due, so they fall due while leadership
        // changes hands.
        let load = FaultLoad(fleet, tag: "c")
        let posted = Date()
        try #require(await load.post(100, sendAt: (0..<100).map { posted.addingTimeInterval(2 + Double($0) * 0.04) }).status == 202)
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":503}"#)
        try #require(await load.post(2).status == 202)
        let deferred = try await fleet.eventually(seconds: 10) {
            try await fleet.pool.query("SELECT count(*) AS n FROM events WHERE type = 'deferred'").first!.int("n") >= 2
        }
        try await fleet.simControl("{}")
        try #require(deferred)
        try await Task.sleep(for: .seconds(max(0, posted.addingTimeInterval(1).timeIntervalSinceNow)))
        let victim = try #require(fleet.process(leaderKey))
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let killedAt = Date()
        let tookOver = try await fleet.eventually(seconds: 15) { await leads(standbyPort) }
        let takeover = Date().timeIntervalSince(killedAt)
        let accepted = await load.accepted
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)
        let late = try await fleet.pool.query(
            "SELECT coalesce(max(extract(epoch FROM sent_at - send_at)), 0)::float8 AS late FROM messages").first!.double("late")
        let retried = try await fleet.pool.query(
            "SELECT min(attempts) AS attempts, extract(epoch FROM max(sent_at))::float8 AS last FROM messages WHERE send_at IS NULL").first!
        let retriesSentAfterKill = try retried.double("last") - killedAt.timeIntervalSince1970

        var report = FaultReport(test: "c", title: "kill -9 of the leading scheduler, standby running")
        try await report.tally(accepted: accepted, fleet: fleet)
        report.add("takeover_s", takeover)
        report.add("max_late_s", late)
        report.add("retries_sent_after_kill_s", retriesSentAfterKill)
        try report.publish()

        #expect(tookOver)
        #expect(drainedAt != nil)
        #expect(report.lost == 0)
        #expect(report.failed == 0)
        #expect(report.duplicates == 0)
        // The leader lease is 5 s: the standby leads within it (plus a tick and a scrape), and
        // no scheduled send waits longer than that past its time; the retries, due within 2 s of
        // the kill, are all sent within the takeover of it.
        #expect(takeover < 6)
        #expect(late < 6.5)
        #expect(try retried.int("attempts") >= 2)
        #expect(retriesSentAfterKill < 6.5)
        #expect(retriesSentAfterKill > 0, "the retries went before the kill, so the takeover did not carry them")
    }

    @Test(.timeLimit(.minutes(3)))
    func dAnAPIKilledMidRequestAcceptsEveryIdempotentRequestOnce() async throws {
        // An API killed between a commit and its enqueue leaves that message queued in Postgres
        // with no queue entry; the client's retry (an idempotent replay) enqueues it again. The
        // reconciliation age stays at its default (300 s), far past this test's deadline, so a
        // message that needed it would fail the test.
        let environment = ["MAILFLEET_API_RATE_LIMIT": "1000000"]
        let fleet = try await Fleet.start("fault-d", workers: 1, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(100)
        let client = IdempotentClient(fleet)
        let keys = (0..<300).map { "fault-d-\($0)" }
        // Four clients, each retrying its request until it gets 202 or 200.
        async let sent: Void = withTaskGroup(of: Void.self) { group in
            for lane in 0..<4 {
                group.addTask {
                    for index in stride(from: lane, to: keys.count, by: 4) {
                        await client.send(keys[index], index: index, until: deadline)
                    }
                }
            }
        }
        let midway = try await fleet.eventually(seconds: 30) { await client.acceptedKeys >= 100 }
        try #require(midway)
        let api = try #require(fleet.process("api"))
        kill(api.processIdentifier, SIGKILL)
        api.waitUntilExit()
        try await Task.sleep(for: .milliseconds(300))
        try await fleet.restartAPI(environment: environment)
        await client.use(fleet.apiURL)
        await sent
        let idsByKey = await client.idsByKey
        let accepted = Set(idsByKey.values.flatMap { $0 })
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)
        let rows = try await fleet.pool.query("SELECT count(*) AS n FROM messages").first!.int("n")
        let keyRows = try await fleet.pool.query("SELECT count(*) AS n FROM idempotency_keys").first!.int("n")
        // Messages that reached the provider seconds after their commit, where the others take
        // well under one: committed just before the kill and moved by the client's replay after
        // the restart.
        let arrivals = try await fleet.simArrivals()
        let reconciled = try await fleet.pool.query("SELECT id::text AS id, extract(epoch FROM created_at)::float8 AS at FROM messages")
            .filter { row in try arrivals[row.string("id").lowercased()].map { $0 - (try row.double("at")) > 2.5 } ?? false }.count

        var report = FaultReport(test: "d", title: "kill -9 of the API mid-request, clients retry with Idempotency-Key")
        try await report.tally(accepted: accepted, fleet: fleet)
        report.add("requests", Double(keys.count))
        report.add("retries", Double(await client.retries))
        report.add("replayed", Double(await client.replayed))
        report.add("sent_late_by_replay", Double(reconciled))
        try report.publish()

        #expect(idsByKey.count == keys.count, "a client gave up on a request")
        #expect(idsByKey.values.allSatisfy { $0.count == 1 }, "one key was answered with two messages")
        #expect(rows == keys.count)
        #expect(keyRows == keys.count)
        #expect(drainedAt != nil)
        #expect(report.lost == 0)
        #expect(report.failed == 0)
        #expect(report.duplicates == 0)
        #expect(await client.retries > 0, "the kill interrupted no request")
    }

    @Test(.timeLimit(.minutes(3)))
    func eARedisWipeMidRunLosesNothingAndMovesAgainWithinTenSeconds() async throws {
        // Small fetches and 300 ms calls, so a backlog waits in Redis when it is wiped.
        let environment = ["MAILFLEET_WORKER_BATCH": "20", "MAILFLEET_WORKER_LANES": "1"]
        let fleet = try await Fleet.start("fault-e", workers: 2, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(100)
        try await fleet.simControl(#"{"latency_ms":300}"#)
        let load = FaultLoad(fleet, tag: "e")
        for _ in 0..<5 { try #require(await load.post(100).status == 202) }
        async let loaded: Void = load.run(seconds: 8, every: .milliseconds(100), batch: 5)
        try await Task.sleep(for: .seconds(2))
        let wipedAt = Date()
        try fleet.flushRedis()
        // Accepted and waiting in the wiped lists: only the recovery from Postgres moves these.
        // (Accepted before the wipe and not yet fetched: a message a worker held is not stranded.)
        let stranded = Set(try await fleet.pool.query(
            "SELECT id::text AS id FROM messages WHERE status = 'queued' AND created_at < $1 AND send_at IS NULL", [wipedAt]
        ).map { try $0.string("id").lowercased() })
        await loaded
        let accepted = await load.accepted
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)
        let arrivals = try await fleet.simArrivals()
        let strandedArrivals = stranded.compactMap { arrivals[$0] }
        let movedAgain = strandedArrivals.min().map { $0 - wipedAt.timeIntervalSince1970 }
        // Every stranded message, not only the first, must be moving within 10 s: delivered by then.
        let allMoved = strandedArrivals.count == stranded.count ? strandedArrivals.max().map { $0 - wipedAt.timeIntervalSince1970 } : nil

        var report = FaultReport(test: "e", title: "Redis data wiped mid-run")
        try await report.tally(accepted: accepted, fleet: fleet)
        report.add("stranded", Double(stranded.count))
        report.add("moving_again_s", movedAgain ?? -1)
        report.add("all_stranded_sent_s", allMoved ?? -1)
        report.add("all_sent_after_wipe_s", drainedAt.map { $0.timeIntervalSince(wipedAt) } ?? -1)
        try report.publish()

        try #require(!stranded.isEmpty, "nothing was waiting in Redis when it was wiped")
        #expect(drainedAt != nil)
        #expect(report.lost == 0)
        #expect(report.failed == 0)
        #expect(report.duplicates == 0)
        #expect(try #require(movedAgain) < 10)
        #expect(try #require(allMoved, "a stranded message never reached the provider") < 10)
    }

    @Test(.timeLimit(.minutes(4)))
    func fPostgresStoppedAndStartedAnswers503AndLosesNoAcceptedMessage() async throws {
        let postgres = try ScratchPostgres(name: "fault-f")
        defer { try? postgres.stop() }
        // A 10 s lease: a batch sent just before Postgres stopped whose outcome could not be
        // written goes again that soon after, not after the default two minutes.
        let environment = ["MAILFLEET_LEASE_SECONDS": "10"]
        let fleet = try await Fleet.start(
            "fault-f", workers: 2, provider: .sendgrid, environment: environment, adminDatabaseURL: postgres.adminURL)
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(150)
        let load = FaultLoad(fleet, tag: "f")
        async let loaded: Void = load.run(seconds: 14, every: .milliseconds(100), batch: 5)
        try await Task.sleep(for: .seconds(3))
        try postgres.stop()
        let downAt = Date()
        try await Task.sleep(for: .seconds(5))
        let startingAt = Date()
        try postgres.start()
        let upAt = Date()
        await loaded
        let answers = await load.answers
        let accepted = await load.accepted
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)
        // Only a message sent while its outcome could not be written may go twice: one the
        // provider took from shortly before Postgres stopped until it started again.
        let unrecorded = try await fleet.simArrivals().values.filter {
            $0 >= downAt.timeIntervalSince1970 - 2 && $0 <= upAt.timeIntervalSince1970
        }.count

        // Sent and answered while Postgres was down, so no commit was possible.
        let whileDown = answers.filter { $0.sentAt > downAt && $0.answeredAt < startingAt }
        let firstAcceptedAfter = answers.filter { $0.sentAt > upAt && $0.status == 202 }.map(\.answeredAt).min()
        var report = FaultReport(test: "f", title: "Postgres stopped for 5 s and started")
        try await report.tally(accepted: accepted, fleet: fleet)
        report.add("answered_503", Double(answers.filter { $0.status == 503 }.count))
        report.add("down_s", startingAt.timeIntervalSince(downAt))
        report.add("api_recovered_s", firstAcceptedAfter.map { $0.timeIntervalSince(upAt) } ?? -1)
        report.add("delivered_around_outage", Double(unrecorded))
        try report.publish()

        #expect(!whileDown.isEmpty)
        #expect(whileDown.allSatisfy { $0.status == 503 && $0.retryAfter != nil }, "statuses while down: \(Set(whileDown.map(\.status)))")
        #expect(answers.allSatisfy { [202, 503].contains($0.status) }, "statuses: \(Set(answers.map(\.status)))")
        #expect(firstAcceptedAfter != nil, "the API did not accept again after Postgres came back")
        #expect(drainedAt != nil)
        #expect(report.lost == 0)
        #expect(report.failed == 0)
        #expect(report.duplicates <= unrecorded)
        for key in ["worker-0", "worker-1", "api", "scheduler"] {
            #expect(fleet.process(key)?.isRunning == true, "\(key) exited")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func gA429WithRetryAfterPacesTheAccountAndFailsNothing() async throws {
        // One lane per worker, so the calls a paced account receives are easy to bound.
        let environment = ["MAILFLEET_WORKER_LANES": "1", "MAILFLEET_WORKER_BATCH": "50"]
        let fleet = try await Fleet.start("fault-g", workers: 2, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(100)
        let load = FaultLoad(fleet, tag: "g")
        async let loaded: Void = load.run(seconds: 10, every: .milliseconds(100), batch: 5)
        try await Task.sleep(for: .seconds(1))
        func calls() async throws -> Int { (try await fleet.simStats()["calls"] as? [String: Int])?["sendgrid"] ?? 0 }
        let window = 6.0, retryAfter = 3.0
        let before = try await calls()
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":429,"retry_after":\#(Int(retryAfter))}"#)
        try await Task.sleep(for: .seconds(window))
        let throttled = try await calls() - before
        try await fleet.simControl("{}")
        let endedAt = Date()
        await loaded
        let accepted = await load.accepted
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)
        let attempts = try await fleet.pool.query("SELECT coalesce(max(attempts), 0) AS n FROM messages").first!.int("n")

        var report = FaultReport(test: "g", title: "provider answers 429 with Retry-After: 3 for 6 s")
        try await report.tally(accepted: accepted, fleet: fleet)
        report.add("calls_while_throttled", Double(throttled))
        report.add("max_attempts", Double(attempts))
        report.add("all_sent_after_throttle_s", drainedAt.map { $0.timeIntervalSince(endedAt) } ?? -1)
        try report.publish()

        #expect(drainedAt != nil)
        #expect(report.failed == 0)
        #expect(report.lost == 0)
        #expect(report.duplicates == 0)
        // Paced fleet-wide: after a 429 nobody calls the account for its Retry-After, so each
        // worker calls it about once per Retry-After (plus one in flight at each edge).
        #expect(Double(throttled) <= 2 * (window / retryAfter + 2), "the account was not paced")
        // A 429 is a wait, not a failure: every message went with one counted attempt at most.
        #expect(attempts <= 1)
    }

    @Test(.timeLimit(.minutes(3)))
    func hAnswersLostAfterAcceptingCostBoundedDuplicatesAndNothingIsLost() async throws {
        // Small batches, so many calls and a tenth of them lose their answer: enough to count,
        // too few to open the breaker (half the calls of its window); quick retries.
        // No bulk linger, or rounds would gather the small batches into a few full calls.
        let environment = ["MAILFLEET_RETRY_BASE_SECONDS": "1", "MAILFLEET_WORKER_BATCH": "10", "MAILFLEET_BULK_LINGER_MS": "0"]
        let fleet = try await Fleet.start("fault-h", workers: 2, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        let deadline = Date().addingTimeInterval(100)
        try await fleet.simControl(#"{"accept_then_fail_rate":0.1}"#)
        let load = FaultLoad(fleet, tag: "h")
        await load.run(seconds: 6, every: .milliseconds(100), batch: 10)
        let accepted = await load.accepted
        let drainedAt = try await Self.drained(fleet, accepted, by: deadline)
        let stats = try await fleet.simStats()
        let lostAnswers = stats["lost_answers"] as? Int ?? 0
        let lostAnswerMessages = stats["lost_answer_messages"] as? Int ?? 0

        var report = FaultReport(test: "h", title: "provider accepts, then answers 500 (a tenth of the calls)")
        try await report.tally(accepted: accepted, fleet: fleet)
        report.add("lost_answers", Double(lostAnswers))
        report.add("messages_in_lost_answers", Double(lostAnswerMessages))
        try report.publish()

        #expect(drainedAt != nil)
        #expect(report.lost == 0)
        #expect(report.failed == 0)
        #expect(lostAnswers > 0)
        // Each message whose answer was lost is sent again: one duplicate per such message,
        // never more.
        #expect(report.duplicates > 0)
        #expect(report.duplicates <= lostAnswerMessages)
    }
}
