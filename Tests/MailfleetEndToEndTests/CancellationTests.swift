import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// Cancellation end to end, with real workers sending to the provider simulator: a cancelled
/// message (one, or a batch by its batch_id, through the API or the CLI) is never sent; and
/// cancels fired at the very moment workers claim the same messages, or at random moments
/// around their provider calls, leave each message either cancelled or sent, never both, as
/// the simulator's received list shows.
@Suite(.serialized) struct CancellationTests {
    func schedule(_ fleet: Fleet, count: Int, at due: Date, batch: String? = nil) async throws -> [String] {
        let extra = batch.map { #","batch_id":"\#($0)""# } ?? ""
        let one = #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","send_at":"\#(ISO8601.format(due))"\#(extra)}"#
        let answer = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(Array(repeating: one, count: count).joined(separator: ","))]}"#)
        #expect(answer.status == 202)
        return (Fleet.object(answer)["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    func arrivals(_ fleet: Fleet) async throws -> Set<String> {
        let response = try await fleet.http.execute(HTTPRequest(url: fleet.simURL + "/_arrivals"))
        return Set(((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]).keys)
    }

    func statuses(_ fleet: Fleet) async throws -> [String: String] {
        try await fleet.pool.query("SELECT id::text AS id, status FROM messages").reduce(into: [:]) { $0[try $1.string("id")] = try $1.string("status") }
    }

    @Test func cancelledMessagesAreNeverSent() async throws {
        let fleet = try await Fleet.start("cancel", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        let due = Date().addingTimeInterval(4)
        let single = try await schedule(fleet, count: 1, at: due)[0]
        let batch = try await schedule(fleet, count: 5, at: due, batch: "spring")
        let byCLI = try await schedule(fleet, count: 2, at: due)
        let cliBatch = try await schedule(fleet, count: 3, at: due, batch: "summer")
        let control = try await schedule(fleet, count: 1, at: due)[0]

        let cancelled = try await fleet.api("DELETE", "/v1/messages/\(single)")
        #expect(cancelled.status == 200 && Fleet.object(cancelled)["status"] as? String == "cancelled")
        let batchAnswer = try await fleet.api("POST", "/v1/batches/spring/cancel")
        #expect(batchAnswer.status == 200)
        #expect(Fleet.object(batchAnswer)["cancelled"] as? Int == 5 && Fleet.object(batchAnswer)["not_cancellable"] as? Int == 0)
        #expect(Fleet.object(batchAnswer)["cancel_requested"] as? Int == 0)
        let cli = try fleet.cli(["messages", "cancel", "--tenant", fleet.tenantID] + byCLI)
        #expect(cli.components(separatedBy: "cancelled").count - 1 == 2, "\(cli)")
        let cliJSON = try fleet.cli(["messages", "cancel", "--tenant", fleet.tenantID, "--batch", "summer", "--json"])
        let cliAnswer = try #require(try JSONSerialization.jsonObject(with: Data(cliJSON.utf8)) as? [String: Any])
        #expect(cliAnswer["cancelled"] as? Int == 3 && cliAnswer["cancel_requested"] as? Int == 0 && cliAnswer["not_cancellable"] as? Int == 0)

        // The control message, due at the same time, is sent; none of the cancelled ones ever is.
        #expect(try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == 1 })
        try await Task.sleep(for: .seconds(2))
        let received = try await arrivals(fleet)
        #expect(received == [control])
        let all = try await statuses(fleet)
        for id in [single] + batch + byCLI + cliBatch { #expect(all[id] == "cancelled", "\(id)") }
        #expect(try await fleet.count(status: "cancelled") == 11)

        // A sent message is past cancelling, through either route.
        let late = try await fleet.api("POST", "/v1/messages/\(control)/cancel")
        #expect(late.status == 409)
        #expect(try await fleet.api("DELETE", "/v1/messages/\(control)").status == 409)
        let history = Fleet.object(try await fleet.api("GET", "/v1/messages/\(single)"))
        #expect((history["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String } == ["accepted", "cancelled"])
    }

    /// A message a worker has (here made `sending` by hand, with no worker running) gets a cancel
    /// request through the CLI and the API, by id and by batch.
    @Test func aMessageAWorkerHasGetsACancelRequestThroughTheCLIAndTheAPI() async throws {
        let fleet = try await Fleet.start("cancel-request", workers: 0, provider: .sendgrid)
        defer { fleet.stopNow() }
        let ids = try await schedule(fleet, count: 3, at: Date().addingTimeInterval(3600), batch: "autumn")
        try await fleet.pool.query(
            "UPDATE messages SET lease_until = now() + interval '5 minutes' WHERE id = ANY($1::uuid[])",
            [Array(ids.prefix(2)).compactMap(UUID.init(uuidString:))])
        let byID = try fleet.cli(["messages", "cancel", "--tenant", fleet.tenantID, ids[0], "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(byID.utf8)) as? [[String: Any]])
        #expect(rows.first?["result"] as? String == "cancel requested (a worker has it)", "\(byID)")
        let answer = try await fleet.api("DELETE", "/v1/messages/\(ids[1])")
        #expect(answer.status == 202 && Fleet.object(answer)["status"] as? String == "cancel_requested")
        let batch = try fleet.cli(["messages", "cancel", "--tenant", fleet.tenantID, "--batch", "autumn", "--json"])
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(batch.utf8)) as? [String: Any])
        #expect(counts["cancelled"] as? Int == 1 && counts["cancel_requested"] as? Int == 2 && counts["not_cancellable"] as? Int == 0, "\(batch)")
        let requested = try await fleet.pool.query("SELECT count(*) AS n FROM messages WHERE cancel_requested_at IS NOT NULL").first!.int("n")
        #expect(requested == 2)
    }

    @Test func cancelsRacingWorkerClaimsNeverLeaveAMessageBothCancelledAndSent() async throws {
        let fleet = try await Fleet.start("cancel-race", workers: 2, provider: .sendgrid)
        defer { fleet.stopNow() }
        // 300 messages due at one instant; cancels for every one of them start a moment before
        // it, so they run while the scheduler promotes them and both workers claim them.
        let due = Date().addingTimeInterval(5)
        var ids: [String] = []
        for _ in 0..<3 { ids += try await schedule(fleet, count: 100, at: due, batch: "race") }
        #expect(ids.count == 300)
        try await Task.sleep(for: .seconds(max(0, due.timeIntervalSinceNow - 0.05)))
        let answers = try await withThrowingTaskGroup(of: (String, Int).self) { group in
            for (index, id) in ids.enumerated() {
                group.addTask {
                    let method = index % 2 == 0 ? "DELETE" : "POST"
                    return (id, try await fleet.api(method, "/v1/messages/\(id)" + (method == "POST" ? "/cancel" : "")).status)
                }
            }
            var all: [String: Int] = [:]
            for try await (id, status) in group { all[id] = status }
            return all
        }
        #expect(answers.values.allSatisfy { $0 == 200 || $0 == 202 || $0 == 409 })
        #expect(try await fleet.eventually(seconds: 60) {
            try await fleet.count(status: "queued") + fleet.count(status: "sending") == 0
        })
        try await Task.sleep(for: .seconds(1))
        let received = try await arrivals(fleet)
        let all = try await statuses(fleet)
        var cancelled = 0, sent = 0
        for id in ids {
            let status = all[id]
            if status == "cancelled" {
                cancelled += 1
                #expect(!received.contains(id), "\(id) is cancelled and was sent")
                #expect(answers[id] == 200 || answers[id] == 202, "\(id) is cancelled but its cancel answered \(answers[id] ?? 0)")
            } else {
                sent += 1
                #expect(status == "sent" && received.contains(id), "\(id) is \(status ?? "missing"), received: \(received.contains(id))")
                #expect(answers[id] == 409 || answers[id] == 202, "\(id) was sent but its cancel answered \(answers[id] ?? 0)")
            }
        }
        #expect(try await fleet.pool.query("SELECT count(*) AS n FROM messages WHERE status = 'cancelled' AND sent_at IS NOT NULL").first!.int("n") == 0)
        print("cancel race end to end: \(cancelled) cancelled, \(sent) sent of \(ids.count); simulator received \(received.count)")
    }

    /// Cancels at random moments around each message's provider call, over many rounds: every
    /// message ends exactly one of sent or cancelled, the simulator saw it if and only if it is
    /// sent, and each answer agrees (200: cancelled; 409: sent; 202: either). The simulator
    /// answers after 300 ms, so a message spends that long in its call, and the tenant is limited
    /// to 20 messages/s, so most messages are claimed, held and claimed again before they go:
    /// cancels land before the claim, while held, during the call, and after it.
    @Test func cancelsAtRandomMomentsAroundProviderCallsSeeBothOutcomesAndNeverBoth() async throws {
        let fleet = try await Fleet.start("cancel-mix", workers: 2, provider: .sendgrid)
        defer { fleet.stopNow() }
        try await fleet.simControl(#"{"latency_ms":300}"#)
        try fleet.cli(["tenants", "set-limits", "--tenant", fleet.tenantID, "--messages-per-second", "20"])
        let rounds = 4, perRound = 40
        var answers: [String: Int] = [:], ids: [String] = []
        for round in 0..<rounds {
            let due = Date().addingTimeInterval(2)
            let batch = try await schedule(fleet, count: perRound, at: due)
            #expect(batch.count == perRound)
            ids += batch
            // Each message's cancel fires at its own moment from 0.6 s before its due time to 3 s
            // after: one random moment in each of `perRound` equal slices of that span, dealt out
            // at random. Both outcomes are then as good as certain. A sixth of the cancels come
            // before the due time, and a due message is only promoted to a worker at its time,
            // so those are cancelled. The last half come 1.2 s or more after it: the fleet sends
            // due mail within a second (the send_at promise), 5 messages at once in the rate's
            // burst and 20 a second after, each call taking 300 ms, so the few sent first are
            // each cancelled too late with a chance over one half, independently: a round with
            // no message sent is rare and four such rounds in a row rarer still.
            let dueInstant = ContinuousClock.now.advanced(by: .milliseconds(Int(due.timeIntervalSinceNow * 1000)))
            let offsetsMs = (0..<perRound).map { slice in -600 + Int((Double(slice) + Double.random(in: 0..<1)) * 3_600 / Double(perRound)) }.shuffled()
            let roundAnswers = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for (index, id) in batch.enumerated() {
                    group.addTask {
                        try await Task.sleep(until: dueInstant.advanced(by: .milliseconds(offsetsMs[index])))
                        let method = index % 2 == 0 ? "DELETE" : "POST"
                        return (id, try await fleet.api(method, "/v1/messages/\(id)" + (method == "POST" ? "/cancel" : "")).status)
                    }
                }
                var all: [String: Int] = [:]
                for try await (id, status) in group { all[id] = status }
                return all
            }
            answers.merge(roundAnswers) { first, _ in first }
            #expect(roundAnswers.values.allSatisfy { [200, 202, 409].contains($0) }, "round \(round): \(roundAnswers.values.sorted())")
        }
        #expect(try await fleet.eventually(seconds: 90) {
            try await fleet.count(status: "queued") + fleet.count(status: "sending") == 0
        })
        let received = try await arrivals(fleet)
        let all = try await statuses(fleet)
        var tally: [String: Int] = [:]
        for id in ids {
            let status = all[id] ?? "missing", answer = answers[id] ?? 0
            tally["\(answer) \(status)", default: 0] += 1
            #expect(status == "sent" || status == "cancelled", "\(id) is \(status)")
            #expect((status == "sent") == received.contains(id), "\(id) is \(status); the provider saw it: \(received.contains(id))")
            switch answer {
            case 200: #expect(status == "cancelled", "\(id) answered 200 and is \(status)")
            case 409: #expect(status == "sent", "\(id) answered 409 and is \(status)")
            default: #expect(answer == 202, "\(id) answered \(answer)")
            }
        }
        // Every message the simulator saw was sent once.
        #expect(try await fleet.simStats()["duplicate_deliveries"] as? Int == 0)
        let sent = ids.filter { all[$0] == "sent" }.count, cancelled = ids.filter { all[$0] == "cancelled" }.count
        print("cancels around provider calls, \(rounds) rounds of \(perRound): \(sent) sent, \(cancelled) cancelled; by answer and outcome: \(tally.sorted { $0.key < $1.key })")
        #expect(sent > 0 && cancelled > 0, "both outcomes must occur: \(sent) sent, \(cancelled) cancelled")
    }
}
