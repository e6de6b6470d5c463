import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MailfleetCore
import MailfleetPostgres
import MailfleetProviderFormats
import MailfleetRedis
import MailfleetRuntime
import MailfleetStore
import MailfleetTracker
import Testing
import X509
import _CryptoExtras

/// `POST /webhooks/{provider}/{account_id}` through the tracker's router (no sockets) on the
/// real Postgres and Redis, with the providers' own signed vectors: verified before anything
/// is stored, each provider event stored once, statuses moving forward only, and hard bounces,
/// complaints and unsubscribes suppressing the recipient with the event that caused it.
@Suite("Provider webhooks", .serialized)
struct WebhookRouteTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/vectors")

    static func vector(_ path: String) throws -> Data { try Data(contentsOf: vectors.appendingPathComponent(path)) }
    static func object(_ path: String) throws -> [String: Any] { try JSONSerialization.jsonObject(with: try vector(path)) as! [String: Any] }

    struct Setup: Sendable {
        let pool: PostgresPool
        let tenant: UUID
        let sendgrid: ProviderAccount
        let mailgun: ProviderAccount
        let ses: ProviderAccount
        let postmark: ProviderAccount
        let certificateFetches: Locked<[String]>
        let confirmations: Locked<[String]>
        let redis: RedisClient
        /// The Redis key prefix of the Mailgun tokens used.
        let replayPrefix: String

        /// A sent message of the tenant to `to`, with the provider's id when given.
        /// A message in `status`; `sending` is stored as a worker's claim stores it, queued under a lease.
        func sentMessage(to: String, providerMessageID: String? = nil, status: String = "sent") async throws -> UUID {
            let id = UUID()
            let sending = status == MessageStatus.sending.rawValue
            try await pool.query(
                """
                INSERT INTO messages (id, tenant_id, status, priority, content, provider_message_id, sent_at, lease_until)
                VALUES ($1, $2, $3, 'bulk', $4::json, $5, now(), CASE WHEN $6::bool THEN now() + interval '5 minutes' END)
                """, [id, tenant, sending ? MessageStatus.queued.rawValue : status, #"{"to":[{"email":"\#(to)"}]}"#, providerMessageID, sending])
            return id
        }

        func status(_ id: UUID) async throws -> String? {
            try await pool.query("SELECT \(MessageStore.shownStatus()) AS status FROM messages WHERE id = $1", [id]).first?.string("status")
        }

        func events(_ id: UUID) async throws -> [String] {
            try await pool.query("SELECT type FROM events WHERE message_id = $1 ORDER BY id", [id]).map { try $0.string("type") }
        }

        func eventCount() async throws -> Int {
            try await pool.query("SELECT count(*) AS n FROM events").first!.int("n")
        }

        /// The suppression of `email`: its reason and whether it names its causing event.
        func suppression(_ email: String) async throws -> (reason: String, hasEvent: Bool)? {
            try await pool.query("SELECT reason, event_id IS NOT NULL AS has_event FROM suppressions WHERE tenant_id = $1 AND email = $2", [tenant, email])
                .first.map { (try $0.string("reason"), try $0.bool("has_event")) }
        }
    }

    static let sendGridVector = "sendgrid/sendgrid_go_node_eventwebhook.json"
    static let mailgunVector = "mailgun/mailgun_php_webhook.json"
    static let snsCertificate = "sns/php_validator_sns_cert.pem"

    /// A tenant with one account per webhook provider, and the tracker's router whose clock reads `now`.
    static func run(now: Date = Date(), certificate pem: Data? = nil, certificateFetchFails: Bool = false, _ test: @Sendable (Setup, any TestClientProtocol) async throws -> Void) async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-webhooks")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-webhooks")
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "webhooks")
            let sendGridKey = try object(sendGridVector)["public_key_b64_spki"] as! String
            let mailgunKey = try object(mailgunVector)["signing_key"] as! String
            let firstTopic = try object("sns/php_validator_http_1_sv1.json")["TopicArn"] as! String
            let setup = Setup(
                pool: pool, tenant: tenant,
                sendgrid: try await tenants.addProviderAccount(
                    tenantID: tenant, name: "sg", kind: .sendgrid, endpoint: nil, priority: 1, secret: "SG.x", webhookSecret: sendGridKey),
                mailgun: try await tenants.addProviderAccount(
                    tenantID: tenant, name: "mg", kind: .mailgun, endpoint: nil, priority: 2, secret: "key", webhookSecret: mailgunKey),
                ses: try await tenants.addProviderAccount(
                    tenantID: tenant, name: "ses", kind: .ses, endpoint: nil, priority: 3, secret: "a:b", config: [WebhookController.topicsConfigKey: firstTopic]),
                postmark: try await tenants.addProviderAccount(
                    tenantID: tenant, name: "pm", kind: .postmark, endpoint: nil, priority: 4, secret: "pm", webhookSecret: "pm-webhook-secret"),
                certificateFetches: Locked([]), confirmations: Locked([]), redis: redis, replayPrefix: "it-webhooks-\(UUID().uuidString.prefix(8))")
            let certificate = try pem ?? vector(snsCertificate)
            let sns = SNSEndpoint { [setup] url in
                if url.contains("Action=ConfirmSubscription") {
                    setup.confirmations.withLock { $0.append(url) }
                    return (200, [])
                }
                setup.certificateFetches.withLock { $0.append(url) }
                if certificateFetchFails { throw CurlFailure() }
                return (200, Array(certificate))
            }
            let logger = Logger(label: "it-webhooks")
            let buffer = EventBuffer(store: EventStore(pool: pool), webhooks: WebhookEventStore(pool: pool), logger: logger)
            let controller = WebhookController(
                tenants: tenants, replay: WebhookReplayGuard(redis: redis, prefix: setup.replayPrefix), sns: sns,
                events: buffer, freshness: WebhookFreshness(tolerance: 300), logger: logger, now: { now })
            let router = Router()
            controller.addRoutes(to: router)
            try await Application(router: router, logger: logger).test(.router) { client in try await test(setup, client) }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    static func post(_ client: any TestClientProtocol, _ account: ProviderAccount, _ body: [UInt8], headers: HTTPFields = [:]) async throws -> (status: Int, body: [String: Any]) {
        let answer = try await client.execute(
            uri: "/webhooks/\(account.kind.rawValue)/\(account.id.lowercasedString)", method: .post, headers: headers, body: ByteBuffer(bytes: body))
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]) ?? [:]
        return (Int(answer.status.code), json)
    }

    static func errorCode(_ body: [String: Any]) -> String? { (body["error"] as? [String: Any])?["code"] as? String }

    // MARK: SendGrid

    /// A SendGrid request signed now with the private key sendgrid-go ships with its vector.
    static func sendGridSigned(_ events: String, at time: Date) throws -> (body: [UInt8], headers: HTTPFields) {
        let key = try P256.Signing.PrivateKey(derRepresentation: Data(base64Encoded: try object(sendGridVector)["private_key_b64_sec1"] as! String)!)
        let timestamp = String(Int(time.timeIntervalSince1970))
        let body = Array(events.utf8)
        let signature = try key.signature(for: Data(timestamp.utf8) + Data(body)).derRepresentation.base64EncodedString()
        return (body, [.init(SendGridWebhookVerifier.signatureHeader)!: signature, .init(SendGridWebhookVerifier.timestampHeader)!: timestamp])
    }

    @Test func sendGridIsVerifiedStoredOnceAndMovesStatusForwardOnly() async throws {
        let now = Date()
        try await Self.run(now: now) { setup, client in
            let bounced = try await setup.sentMessage(to: "gone@example.com")
            let delivered = try await setup.sentMessage(to: "ok@example.com", providerMessageID: "sgbatch1")
            let events = """
                [{"event":"delivered","email":"gone@example.com","timestamp":1,"sg_event_id":"d1","mailfleet_message_id":"\(bounced)"},
                 {"event":"bounce","email":"Gone@Example.com","timestamp":2,"sg_event_id":"b1","type":"bounce","status":"5.1.1","reason":"550 5.1.1 unknown user","mailfleet_message_id":"\(bounced)"},
                 {"event":"delivered","email":"ok@example.com","timestamp":3,"sg_event_id":"d2","sg_message_id":"sgbatch1.filter-1"},
                 {"event":"open","email":"x@example.com","timestamp":4,"sg_event_id":"o9","mailfleet_message_id":"\(UUID())"}]
                """
            let signed = try Self.sendGridSigned(events, at: now)

            // Tampered, stale, unsigned, wrong account: refused, nothing stored.
            var tampered = signed.body
            tampered[10] ^= 1
            #expect(try await Self.post(client, setup.sendgrid, tampered, headers: signed.headers).status == 401)
            let stale = try Self.sendGridSigned(events, at: now.addingTimeInterval(-301))
            let staleAnswer = try await Self.post(client, setup.sendgrid, stale.body, headers: stale.headers)
            #expect(staleAnswer.status == 401 && Self.errorCode(staleAnswer.body) == "stale")
            #expect(try await Self.post(client, setup.sendgrid, signed.body).status == 401)
            #expect(try await Self.post(client, setup.mailgun, signed.body, headers: signed.headers).status != 200)
            let unknown = try await client.execute(uri: "/webhooks/sendgrid/\(UUID())", method: .post, headers: signed.headers, body: ByteBuffer(bytes: signed.body))
            #expect(unknown.status == .notFound)
            #expect(try await client.execute(uri: "/webhooks/outbox/\(setup.sendgrid.id)", method: .post, body: ByteBuffer()).status == .notFound)
            #expect(try await setup.eventCount() == 0)
            #expect(try await setup.suppression("gone@example.com") == nil)

            let first = try await Self.post(client, setup.sendgrid, signed.body, headers: signed.headers)
            #expect(first.status == 200)
            #expect(first.body["stored"] as? Int == 3 && first.body["uncorrelated"] as? Int == 1 && first.body["duplicates"] as? Int == 0)
            // The same request again (a provider retry): every event a duplicate, nothing changes.
            let again = try await Self.post(client, setup.sendgrid, signed.body, headers: signed.headers)
            #expect(again.status == 200 && again.body["duplicates"] as? Int == 4 - 1 && again.body["stored"] as? Int == 0)
            #expect(try await setup.events(bounced) == ["delivered", "bounced"])
            #expect(try await setup.status(bounced) == "bounced")
            // Found by SendGrid's own id (the part of sg_message_id before the dot).
            #expect(try await setup.events(delivered) == ["delivered"])
            #expect(try await setup.status(delivered) == "delivered")
            #expect(try await setup.suppression("gone@example.com")! == ("bounce", true))
            #expect(try await setup.suppression("ok@example.com") == nil)

            // A late delivered report never undoes the bounce.
            let late = try Self.sendGridSigned(#"[{"event":"delivered","email":"gone@example.com","timestamp":9,"sg_event_id":"d3","mailfleet_message_id":"\#(bounced)"}]"#, at: now)
            #expect(try await Self.post(client, setup.sendgrid, late.body, headers: late.headers).status == 200)
            #expect(try await setup.status(bounced) == "bounced")
            #expect(try await setup.events(bounced) == ["delivered", "bounced", "delivered"])
        }
    }

    @Test func aReportBeforeTheWorkersSentWriteKeepsItsStatus() async throws {
        let now = Date()
        try await Self.run(now: now) { setup, client in
            // The provider reports while the worker has not yet written `sent`.
            let early = try await setup.sentMessage(to: "early@example.com", status: "sending")
            let bounced = try Self.sendGridSigned(
                #"[{"event":"bounce","email":"early@example.com","timestamp":1,"sg_event_id":"e1","type":"bounce","status":"5.1.1","reason":"550 5.1.1 unknown","mailfleet_message_id":"\#(early)"}]"#, at: now)
            #expect(try await Self.post(client, setup.sendgrid, bounced.body, headers: bounced.headers).status == 200)
            #expect(try await setup.status(early) == "bounced")
            // A delivered message whose sent write comes (again) after its report.
            let delivered = try await setup.sentMessage(to: "on-time@example.com")
            let report = try Self.sendGridSigned(
                #"[{"event":"delivered","email":"on-time@example.com","timestamp":2,"sg_event_id":"e2","mailfleet_message_id":"\#(delivered)"}]"#, at: now)
            #expect(try await Self.post(client, setup.sendgrid, report.body, headers: report.headers).status == 200)

            var outcomes = OutcomeBatch()
            outcomes.sent = [early, delivered].map { .init(messageID: $0, tenantID: setup.tenant, accountID: setup.sendgrid.id, providerMessageID: "pm-\($0)") }
            try await MessageStore(pool: setup.pool).record(outcomes)
            #expect(try await setup.status(early) == "bounced")
            #expect(try await setup.status(delivered) == "delivered")
            let written = try await setup.pool.query("SELECT provider_message_id FROM messages WHERE id = $1", [delivered]).first?.string("provider_message_id")
            #expect(written == "pm-\(delivered)")
        }
    }

    @Test func anEventNamingAnotherTenantsMessageIsDropped() async throws {
        let now = Date()
        try await Self.run(now: now) { setup, client in
            let other = try await TenantStore(pool: setup.pool).createTenant(name: "other")
            let theirs = UUID()
            try await setup.pool.query(
                "INSERT INTO messages (id, tenant_id, status, priority, content, sent_at) VALUES ($1, $2, 'sent', 'bulk', $3::json, now())",
                [theirs, other, #"{"to":[{"email":"victim@example.com"}]}"#])
            let complaint = try Self.sendGridSigned(
                #"[{"event":"spamreport","email":"victim@example.com","timestamp":1,"sg_event_id":"x1","mailfleet_message_id":"\#(theirs)"}]"#, at: now)
            let answer = try await Self.post(client, setup.sendgrid, complaint.body, headers: complaint.headers)
            #expect(answer.status == 200 && answer.body["mismatched"] as? Int == 1 && answer.body["uncorrelated"] as? Int == 0)
            #expect(try await setup.eventCount() == 0)
            #expect(try await setup.status(theirs) == "sent")
            #expect(try await setup.pool.query("SELECT count(*) AS n FROM suppressions").first!.int("n") == 0)
        }
    }

    @Test func aProviderUnsubscribeSuppressesWithTheOneClickReason() async throws {
        let now = Date()
        try await Self.run(now: now) { setup, client in
            let message = try await setup.sentMessage(to: "leaving@example.com")
            let unsubscribe = try Self.sendGridSigned(
                #"[{"event":"unsubscribe","email":"leaving@example.com","timestamp":1,"sg_event_id":"u1","mailfleet_message_id":"\#(message)"}]"#, at: now)
            #expect(try await Self.post(client, setup.sendgrid, unsubscribe.body, headers: unsubscribe.headers).status == 200)
            #expect(try await setup.suppression("leaving@example.com")! == (SuppressionStore.unsubscribedReason, true))
            #expect(SuppressionStore.unsubscribedReason == "unsubscribed")
        }
    }

    @Test func aNulInAProvidersTextIsStoredWithoutIt() async throws {
        let now = Date()
        try await Self.run(now: now) { setup, client in
            let message = try await setup.sentMessage(to: "nul@example.com")
            let dropped = try Self.sendGridSigned(
                #"[{"event":"dropped","email":"nul@example.com","timestamp":1,"sg_event_id":"n1","reason":"bad\u0000reason","mailfleet_message_id":"\#(message)"}]"#, at: now)
            let answer = try await Self.post(client, setup.sendgrid, dropped.body, headers: dropped.headers)
            #expect(answer.status == 200 && answer.body["stored"] as? Int == 1)
            let reason = try await setup.pool.query("SELECT detail->>'reason' AS reason FROM events WHERE message_id = $1", [message]).first?.string("reason")
            #expect(reason == "badreason")
        }
    }

    @Test func sendGridsOwnVectorVerifiesAtItsTime() async throws {
        let v = try Self.object(Self.sendGridVector)
        let timestamp = v["timestamp"] as! String, signature = v["signature_b64"] as! String
        try await Self.run(now: Date(timeIntervalSince1970: Double(timestamp)!)) { setup, client in
            let headers: HTTPFields = [.init(SendGridWebhookVerifier.signatureHeader)!: signature, .init(SendGridWebhookVerifier.timestampHeader)!: timestamp]
            let answer = try await Self.post(client, setup.sendgrid, Array(try Self.vector("sendgrid/sendgrid_go_node_eventwebhook.body")), headers: headers)
            // Verified; its `test_event` is not an event we model.
            #expect(answer.status == 200 && answer.body["received"] as? Int == 0)
        }
    }

    // MARK: Mailgun

    @Test func mailgunTokenIsRefusedTheSecondTime() async throws {
        let v = try Self.object(Self.mailgunVector)
        let otherToken = (v["negative"] as! [String: String])["other_token_same_signature"]!
        try await Self.run(now: Date(timeIntervalSince1970: Double(v["timestamp"] as! String)!)) { setup, client in
            let message = try await setup.sentMessage(to: "baz@example.com")
            var body = try Self.object("mailgun/mailgun_webhook_body.json")
            var data = body["event-data"] as! [String: Any]
            data["event"] = "failed"
            data["severity"] = "permanent"
            data["reason"] = "bounce"
            data["delivery-status"] = ["code": 550, "message": "5.1.1 mailbox does not exist"]
            data["user-variables"] = ["mailfleet_message_id": message.uuidString.lowercased()]
            body["event-data"] = data
            let bytes = Array(try JSONSerialization.data(withJSONObject: body))

            var forged = body
            var signature = forged["signature"] as! [String: String]
            signature["token"] = otherToken
            forged["signature"] = signature
            let forgedAnswer = try await Self.post(client, setup.mailgun, Array(try JSONSerialization.data(withJSONObject: forged)))
            #expect(forgedAnswer.status == 401 && Self.errorCode(forgedAnswer.body) == "bad_signature")
            #expect(try await Self.post(client, setup.mailgun, Array(#"{"event-data":{"event":"delivered"}}"#.utf8)).status == 401)
            #expect(try await Self.post(client, setup.mailgun, Array("not json".utf8)).status == 400)

            let first = try await Self.post(client, setup.mailgun, bytes)
            #expect(first.status == 200 && first.body["stored"] as? Int == 1)
            #expect(try await setup.status(message) == "bounced")
            #expect(try await setup.suppression("baz@example.com")! == ("bounce", true))
            // The same signature posted again with another event: a replay.
            var other = body
            var otherData = data
            otherData["id"] = "another-event"
            other["event-data"] = otherData
            let replay = try await Self.post(client, setup.mailgun, Array(try JSONSerialization.data(withJSONObject: other)))
            #expect(replay.status == 403 && Self.errorCode(replay.body) == "replayed")
            // The same event again (Mailgun's retry of it) is let through and stored once.
            let retry = try await Self.post(client, setup.mailgun, bytes)
            #expect(retry.status == 200 && retry.body["duplicates"] as? Int == 1)
            #expect(try await setup.eventCount() == 1)
        }
    }

    @Test func mailgunRetryAfterATrackerStoppedBeforeItsCommitIsTaken() async throws {
        let v = try Self.object(Self.mailgunVector)
        try await Self.run(now: Date(timeIntervalSince1970: Double(v["timestamp"] as! String)!)) { setup, client in
            let message = try await setup.sentMessage(to: "baz@example.com")
            var body = try Self.object("mailgun/mailgun_webhook_body.json")
            var data = body["event-data"] as! [String: Any]
            data["event"] = "delivered"
            data["user-variables"] = ["mailfleet_message_id": message.uuidString.lowercased()]
            body["event-data"] = data
            let token = (body["signature"] as! [String: String])["token"]!
            // A tracker took the token for this event, then stopped before committing it.
            try await setup.redis.command(
                "SET", "\(setup.replayPrefix):\(setup.mailgun.id.lowercasedString):\(token)", "event:\(data["id"] as! String)", "EX", "900")
            let answer = try await Self.post(client, setup.mailgun, Array(try JSONSerialization.data(withJSONObject: body)))
            #expect(answer.status == 200 && answer.body["stored"] as? Int == 1)
            #expect(try await setup.events(message) == ["delivered"])
        }
    }

    // MARK: SES through SNS

    @Test func snsNotificationsAreVerifiedWithTheCertificateFetchedOnce() async throws {
        let signedAt = ISO8601.parse(try Self.object("sns/php_validator_http_1_sv1.json")["Timestamp"] as! String)!
        try await Self.run(now: signedAt) { setup, client in
            let first = try Self.object("sns/php_validator_http_1_sv1.json")
            let certificateURL = first["SigningCertURL"] as! String
            // A plain publish on the allowed topic: verified, no SES event in it.
            let ok = try await Self.post(client, setup.ses, Array(try Self.vector("sns/php_validator_http_1_sv1.json")))
            #expect(ok.status == 200 && ok.body["received"] as? Int == 0)
            let again = try await Self.post(client, setup.ses, Array(try Self.vector("sns/php_validator_http_1_sv1.json")))
            #expect(again.status == 200)
            #expect(setup.certificateFetches.withLock { $0 } == [certificateURL])

            // Another topic (validly signed): forbidden.
            let otherTopic = try await Self.post(client, setup.ses, Array(try Self.vector("sns/php_validator_http_2_sv2.json")))
            #expect(otherTopic.status == 403 && Self.errorCode(otherTopic.body) == "disallowed_topic")
            // A certificate from elsewhere: forbidden, and never fetched.
            var elsewhere = first
            elsewhere["SigningCertURL"] = "https://attacker.example/SimpleNotificationService-1.pem"
            let refused = try await Self.post(client, setup.ses, Array(try JSONSerialization.data(withJSONObject: elsewhere)))
            #expect(refused.status == 403 && Self.errorCode(refused.body) == "disallowed_certificate")
            // A tampered message: unauthorised.
            var tampered = first
            tampered["Message"] = "Hello world!"
            #expect(try await Self.post(client, setup.ses, Array(try JSONSerialization.data(withJSONObject: tampered))).status == 401)
            #expect(setup.certificateFetches.withLock { $0.count } == 1)
            #expect(setup.confirmations.withLock { $0 }.isEmpty)
        }
    }

    struct CurlFailure: Error, CustomStringConvertible {
        var description: String { "curl: (7) Failed to connect to 10.0.0.7 port 443" }
    }

    @Test func aFailedCertificateFetchIsSharedRememberedAndNotShown() async throws {
        let signedAt = ISO8601.parse(try Self.object("sns/php_validator_http_1_sv1.json")["Timestamp"] as! String)!
        try await Self.run(now: signedAt, certificateFetchFails: true) { setup, client in
            let body = Array(try Self.vector("sns/php_validator_http_1_sv1.json"))
            @Sendable func post() async throws -> (status: Int, code: String?, message: String?) {
                let answer = try await Self.post(client, setup.ses, body)
                return (answer.status, Self.errorCode(answer.body), (answer.body["error"] as? [String: Any])?["message"] as? String)
            }
            let answers = try await withThrowingTaskGroup(of: (status: Int, code: String?, message: String?).self) { group in
                for _ in 0..<4 { group.addTask { try await post() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for answer in answers + [try await post()] {
                #expect(answer.status == 503 && answer.code == "unavailable")
                #expect(answer.message?.contains("curl") == false && answer.message?.contains("10.0.0.7") == false)
            }
            // One fetch for five requests: shared while running, then remembered.
            #expect(setup.certificateFetches.withLock { $0.count } == 1)
        }
    }

    /// An SNS message signed (version 2) with a throw-away key, and that key's certificate.
    struct SNSSigner {
        let key: _RSA.Signing.PrivateKey
        let certificatePEM: Data

        init() async throws {
            key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let name = try DistinguishedName { CommonName("sns.amazonaws.com") }
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: Date().addingTimeInterval(-60),
                notValidAfter: Date().addingTimeInterval(3600), issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
                extensions: .init(), issuerPrivateKey: .init(key))
            certificatePEM = Data(try certificate.serializeAsPEM().pemString.utf8)
        }

        /// The body SNS would post: the envelope's fields under SNS's names, signed.
        func body(_ envelope: SNSEnvelope) throws -> [UInt8] {
            let signature = try key.signature(for: SHA256.hash(data: Data(envelope.canonicalString.utf8)), padding: .insecurePKCS1v1_5)
            var fields: [String: String] = [
                "Type": envelope.type, "MessageId": envelope.messageID, "TopicArn": envelope.topicArn, "Message": envelope.message,
                "Timestamp": envelope.timestamp, "SignatureVersion": envelope.signatureVersion, "Signature": signature.rawRepresentation.base64EncodedString(),
                "SigningCertURL": envelope.signingCertURL,
            ]
            fields["Token"] = envelope.token
            fields["SubscribeURL"] = envelope.subscribeURL
            return Array(try JSONSerialization.data(withJSONObject: fields))
        }
    }

    @Test func sesSubscriptionIsConfirmedAndItsBouncesSuppress() async throws {
        let signer = try await SNSSigner()
        let now = Date()
        try await Self.run(now: now, certificate: signer.certificatePEM) { setup, client in
            let topic = try #require(setup.ses.config[WebhookController.topicsConfigKey])
            let certificateURL = "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-e2e.pem"
            let subscribe = "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=\(topic)&Token=2336412f37"
            func envelope(_ type: String, message: String, subscribeURL: String? = nil) -> SNSEnvelope {
                SNSEnvelope(
                    type: type, messageID: UUID().uuidString.lowercased(), topicArn: topic, message: message, timestamp: ISO8601.format(now),
                    signatureVersion: "2", signature: "", signingCertURL: certificateURL, token: subscribeURL == nil ? nil : "2336412f37", subscribeURL: subscribeURL)
            }
            // A confirmation whose SubscribeURL is not SNS's own is refused, and not fetched.
            let elsewhere = try await Self.post(client, setup.ses, try signer.body(envelope("SubscriptionConfirmation", message: "confirm", subscribeURL: "https://attacker.example/?Action=ConfirmSubscription")))
            #expect(elsewhere.status == 403)
            #expect(setup.confirmations.withLock { $0 }.isEmpty)
            let confirmed = try await Self.post(client, setup.ses, try signer.body(envelope("SubscriptionConfirmation", message: "confirm", subscribeURL: subscribe)))
            #expect(confirmed.status == 200)
            #expect(setup.confirmations.withLock { $0 } == [subscribe])

            let message = try await setup.sentMessage(to: "gone@example.com")
            let bounce = """
                {"notificationType":"Bounce","mail":{"messageId":"ses-1","timestamp":"2026-01-01T00:00:00Z","destination":["gone@example.com"],
                 "tags":{"mailfleet_message_id":["\(message.uuidString.lowercased())"]}},
                 "bounce":{"bounceType":"Permanent","bounceSubType":"General","timestamp":"2026-01-01T00:00:01Z",
                 "bouncedRecipients":[{"emailAddress":"gone@example.com","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]}}
                """
            let notification = envelope("Notification", message: bounce)
            var forged = notification
            forged.message = bounce.replacingOccurrences(of: "Permanent", with: "Transient")
            let signedOriginal = try signer.body(notification)
            // The signature of one message on another's content: refused.
            var forgedBody = try JSONSerialization.jsonObject(with: Data(signedOriginal)) as! [String: String]
            forgedBody["Message"] = forged.message
            #expect(try await Self.post(client, setup.ses, Array(try JSONSerialization.data(withJSONObject: forgedBody))).status == 401)
            let stored = try await Self.post(client, setup.ses, signedOriginal)
            #expect(stored.status == 200 && stored.body["stored"] as? Int == 1)
            #expect(try await setup.status(message) == "bounced")
            #expect(try await setup.suppression("gone@example.com")! == ("bounce", true))
            // SNS redelivers with the same MessageId: stored once.
            let again = try await Self.post(client, setup.ses, signedOriginal)
            #expect(again.status == 200 && again.body["duplicates"] as? Int == 1)
            #expect(try await setup.events(message) == ["bounced"])
            #expect(setup.certificateFetches.withLock { $0 } == [certificateURL])
        }
    }

    // MARK: Postmark

    @Test func postmarkNeedsItsBasicCredentials() async throws {
        try await Self.run { setup, client in
            let message = try await setup.sentMessage(to: "john@example.com")
            var complaint = try Self.object("postmark/postmark_spam_complaint.json")
            complaint["Metadata"] = ["mailfleet_message_id": message.uuidString]
            let body = Array(try JSONSerialization.data(withJSONObject: complaint))
            func basic(_ text: String) -> HTTPFields { [.authorization: "Basic " + Data(text.utf8).base64EncodedString()] }

            #expect(try await Self.post(client, setup.postmark, body).status == 401)
            #expect(try await Self.post(client, setup.postmark, body, headers: basic("mailfleet:wrong")).status == 401)
            #expect(try await setup.eventCount() == 0)
            let answer = try await Self.post(client, setup.postmark, body, headers: basic("mailfleet:pm-webhook-secret"))
            #expect(answer.status == 200 && answer.body["stored"] as? Int == 1)
            #expect(try await setup.status(message) == "complained")
            #expect(try await setup.suppression("john@example.com")! == ("complaint", true))
            // Delivered after the complaint: stored, status stays.
            var delivery = try Self.object("postmark/postmark_delivery.json")
            delivery["Metadata"] = ["mailfleet_message_id": message.uuidString]
            #expect(try await Self.post(client, setup.postmark, Array(try JSONSerialization.data(withJSONObject: delivery)), headers: basic("mailfleet:pm-webhook-secret")).status == 200)
            #expect(try await setup.status(message) == "complained")
            #expect(try await setup.events(message) == ["complained", "delivered"])
        }
    }
}
