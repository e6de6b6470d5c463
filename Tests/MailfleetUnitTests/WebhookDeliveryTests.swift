import Foundation
import MailfleetCore
import Testing

/// The pure parts of webhook delivery: the retry schedule, what an attempt comes to, the
/// payload, endpoint validation and the per-endpoint slots.
struct WebhookDeliveryTests {
    static let tenant = UUID(uuidString: "0190a1b2-0000-7000-8000-000000000001")!
    static let message = UUID(uuidString: "0190a1b2-0000-7000-8000-0000000000aa")!

    static func claim(_ delivery: Int, endpoint: UUID, attempts: Int = 0) -> WebhookClaim {
        WebhookClaim(
            message: WebhookMessage(
                deliveryID: delivery, eventID: delivery * 10, tenantID: tenant, messageID: message, type: "bounced",
                detailJSON: #"{"recipient":"a@example.com","bounce_type":"hard"}"#, occurredAt: Date(timeIntervalSince1970: 1_700_000_000)),
            endpointID: endpoint, attempts: attempts)
    }

    @Test func theStandardScheduleLastsAboutThreeDaysInTenAttempts() {
        let schedule = WebhookRetrySchedule.standard
        #expect(schedule.attempts == 10)
        let total = schedule.delays.reduce(0, +)
        #expect(total > 3 * 86_400 && total < 3.5 * 86_400)
    }

    @Test func delaysGrowWithJitterAndEndAfterTheLast() {
        let schedule = WebhookRetrySchedule(delays: [5, 300, 1800])
        var generator = SeededGenerator(state: 7)
        for (index, base) in schedule.delays.enumerated() {
            for _ in 0..<50 {
                let delay = schedule.delay(afterAttempt: index + 1, using: &generator)!
                #expect(delay >= base * 0.8 && delay <= base * 1.2)
            }
        }
        #expect(schedule.delay(afterAttempt: 4, using: &generator) == nil)
        #expect(schedule.delay(afterAttempt: 0, using: &generator) == nil)
        let spread = Set((0..<20).map { _ in schedule.delay(afterAttempt: 2, using: &generator)! })
        #expect(spread.count > 1)
    }

    @Test func scheduleTextIsReadOrRefused() {
        #expect(WebhookRetrySchedule(text: "1, 2,0.5")?.delays == [1, 2, 0.5])
        #expect(WebhookRetrySchedule(text: "") == nil)
        #expect(WebhookRetrySchedule(text: "1,x") == nil)
        #expect(WebhookRetrySchedule(text: "1,-2") == nil)
    }

    @Test func twoHundredsDeliverEverythingElseRetriesOrFails() {
        let endpoint = UUID()
        let plan = WebhookRequestPlan(endpointID: endpoint, claims: [Self.claim(1, endpoint: endpoint), Self.claim(2, endpoint: endpoint, attempts: 2)], batch: true)
        let schedule = WebhookRetrySchedule(delays: [10, 20], jitter: 0)
        var generator = SeededGenerator(state: 1)
        let now = Date(timeIntervalSince1970: 1000)
        let ok = WebhookAttemptRecord(plan: plan, tenantID: Self.tenant, status: 204, transportError: nil, latencyMs: 3, schedule: schedule, now: now, using: &generator)
        #expect(ok.delivered && ok.outcome == "delivered" && ok.error == nil)
        #expect(ok.deliveries.map(\.state) == [.delivered, .delivered])
        // A batch's id names exactly its deliveries: the same ones in any order share it, a
        // batch grouped differently (the same first delivery and count) does not.
        #expect(ok.webhookID.hasPrefix("msg_b") && ok.webhookID.count == 29)
        let same = WebhookMessage.webhookID(of: [Self.claim(2, endpoint: endpoint).message, Self.claim(1, endpoint: endpoint).message])
        let regrouped = WebhookMessage.webhookID(of: [Self.claim(1, endpoint: endpoint).message, Self.claim(3, endpoint: endpoint).message])
        #expect(ok.webhookID == same && ok.webhookID != regrouped)
        #expect(WebhookMessage.webhookID(of: [Self.claim(7, endpoint: endpoint).message]) == "msg_7")

        let refused = WebhookAttemptRecord(plan: plan, tenantID: Self.tenant, status: 500, transportError: nil, latencyMs: 3, schedule: schedule, now: now, using: &generator)
        #expect(!refused.delivered && refused.error == "HTTP 500")
        // The first delivery had its first attempt: 10 s; the second its third, past the schedule.
        #expect(refused.deliveries[0] == .init(id: 1, state: .pending, nextAttemptAt: Date(timeIntervalSince1970: 1010)))
        #expect(refused.deliveries[1] == .init(id: 2, state: .failed, nextAttemptAt: nil))
        #expect(refused.outcome == "failed")

        let single = WebhookRequestPlan(endpointID: endpoint, claims: [Self.claim(3, endpoint: endpoint, attempts: 1)], batch: false)
        let timeout = WebhookAttemptRecord(plan: single, tenantID: Self.tenant, status: nil, transportError: "timed out", latencyMs: 3, schedule: schedule, now: now, using: &generator)
        #expect(timeout.outcome == "retrying" && timeout.error == "timed out" && timeout.deliveries[0].nextAttemptAt == Date(timeIntervalSince1970: 1020))
        let redirect = WebhookAttemptRecord(plan: single, tenantID: Self.tenant, status: 302, transportError: nil, latencyMs: 3, schedule: schedule, now: now, using: &generator)
        #expect(!redirect.delivered)
    }

    @Test func thePayloadCarriesTypeTimeAndData() throws {
        let claim = Self.claim(42, endpoint: UUID())
        let body = try WebhookMessage.body([claim.message], batch: false)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["type"] as? String == "email.bounced")
        #expect(json["id"] as? String == "msg_42")
        #expect(json["timestamp"] as? String == "2023-11-14T22:13:20.000Z")
        let data = try #require(json["data"] as? [String: Any])
        #expect(data["event_id"] as? String == "420")
        #expect(data["message_id"] as? String == Self.message.uuidString.lowercased())
        #expect(data["tenant_id"] as? String == Self.tenant.uuidString.lowercased())
        #expect(data["recipient"] as? String == "a@example.com")
        #expect((data["details"] as? [String: Any])?["bounce_type"] as? String == "hard")

        let batch = try WebhookMessage.body([claim.message, Self.claim(43, endpoint: UUID()).message], batch: true)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(batch)) as? [[String: Any]])
        #expect(items.map { $0["id"] as? String } == ["msg_42", "msg_43"])
    }

    @Test func endpointURLsAndTypesAreChecked() throws {
        let strict = EgressPolicy()
        let local = EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!])
        try WebhookEndpoint.validate(url: "https://hooks.example.com/in?x=1", policy: strict)
        try WebhookEndpoint.validate(url: "http://127.0.0.1:9000/hook", policy: local)
        for bad in ["ftp://example.com", "https://", "not a url", "https://user:pw@example.com/", "/relative", String(repeating: "a", count: 3000)] {
            #expect(throws: FieldError.self) { try WebhookEndpoint.validate(url: bad, policy: local) }
        }
        // The operator's egress policy: plain http, and loopback, private or metadata
        // addresses in any form, are refused unless allowed.
        for refused in [
            "http://hooks.example.com/in", "https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data/", "https://10.0.0.12:6379/",
            "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://2130706433/hook",
        ] {
            #expect(throws: FieldError.self) { try WebhookEndpoint.validate(url: refused, policy: strict) }
        }
        #expect(try WebhookEndpoint.validate(eventTypes: ["email.bounced", "email.bounced", "email.delivered"]) == ["email.bounced", "email.delivered"])
        #expect(throws: FieldError.self) { try WebhookEndpoint.validate(eventTypes: ["bounced"]) }
        #expect(EventType.webhookTypes.contains("email.complained"))
    }

    @Test func theOldSecretSignsOnlyDuringItsGrace() {
        let now = Date()
        var endpoint = WebhookEndpoint(
            id: UUID(), tenantID: Self.tenant, url: "https://x.example", eventTypes: [], enabled: true, batch: false, secret: .generate(),
            previousSecret: .generate(), previousSecretExpiresAt: now.addingTimeInterval(60), createdAt: now, updatedAt: now)
        #expect(endpoint.signingSecrets(at: now).count == 2)
        #expect(endpoint.signingSecrets(at: now.addingTimeInterval(61)).count == 1)
        endpoint.previousSecretExpiresAt = nil
        #expect(endpoint.signingSecrets(at: now) == [endpoint.secret])
        #expect(endpoint.wants("email.opened"))
        endpoint.eventTypes = ["email.bounced"]
        #expect(!endpoint.wants("email.opened") && endpoint.wants("email.bounced"))
    }

    @Test func aSlowEndpointFillsOnlyItsOwnSlots() {
        var board = WebhookDispatchBoard(limits: .init(concurrency: 2, batchSize: 3, depth: 2))
        let slow = UUID()
        let fast = UUID()
        let claims = (1...10).map { Self.claim($0, endpoint: slow) } + (11...12).map { Self.claim($0, endpoint: fast) }
        // The slow endpoint holds 2 slots x depth 2 = 4 deliveries; the rest go back.
        let surplus = board.admit(claims, batch: [slow: false, fast: false])
        #expect(surplus.map(\.message.deliveryID) == [5, 6, 7, 8, 9, 10])
        #expect(board.full == [slow])
        let started = board.start()
        #expect(started.filter { $0.endpointID == slow }.count == 2)
        #expect(started.filter { $0.endpointID == fast }.map { $0.claims[0].message.deliveryID } == [11, 12])
        // Nothing more starts while the slow endpoint's two requests are open.
        #expect(board.start().isEmpty)
        // A fast request ends: the fast endpoint has nothing waiting, so its slot closes.
        #expect(board.next(after: fast) == nil)
        // A slow request ends: its slot takes the next waiting delivery.
        #expect(board.next(after: slow)?.claims.map(\.message.deliveryID) == [3])
        #expect(board.waiting == 1)
    }

    @Test func aBatchingEndpointWithABacklogHoldsOnlyItsShareOfTheBudget() {
        // Its depth alone would allow 4 x 8 x 100 = 3,200 waiting, more than a replica's whole
        // budget of two claims (1,000): the share caps it, so it is left out of the next claim.
        var board = WebhookDispatchBoard(limits: .init(concurrency: 4, batchSize: 100))
        let backlog = UUID()
        let surplus = board.admit((1...1_000).map { Self.claim($0, endpoint: backlog) }, batch: [backlog: true])
        #expect(surplus.count == 750)
        #expect(board.waiting == 250 && board.full == [backlog])
    }

    @Test func aRemovedEndpointGivesUpItsWaitingDeliveriesAndItsSlotsCloseAsRequestsEnd() {
        var board = WebhookDispatchBoard(limits: .init(concurrency: 1, batchSize: 1))
        let gone = UUID()
        _ = board.admit((1...4).map { Self.claim($0, endpoint: gone) }, batch: [gone: false])
        #expect(board.start().count == 1)
        #expect(board.remove(gone).map(\.message.deliveryID) == [2, 3, 4])
        #expect(board.waiting == 0 && board.endpointIDs == [gone])
        #expect(board.next(after: gone) == nil)
        #expect(board.endpointIDs.isEmpty && board.openRequests == 0)
    }

    @Test func batchingEndpointsGetSeveralDeliveriesPerRequest() {
        var board = WebhookDispatchBoard(limits: .init(concurrency: 1, batchSize: 3))
        let endpoint = UUID()
        _ = board.admit((1...7).map { Self.claim($0, endpoint: endpoint) }, batch: [endpoint: true])
        let first = board.start()
        #expect(first.count == 1 && first[0].batch && first[0].claims.map(\.message.deliveryID) == [1, 2, 3])
        #expect(board.next(after: endpoint)?.claims.map(\.message.deliveryID) == [4, 5, 6])
        #expect(board.next(after: endpoint)?.claims.map(\.message.deliveryID) == [7])
        #expect(board.next(after: endpoint) == nil)
        #expect(board.waiting == 0 && board.drain().isEmpty)
    }
}
