import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetProviderFormats
import MailfleetStore

/// `POST /webhooks/{provider}/{account_id}`: a provider's reports about sent mail. Each request
/// is verified against its account's secret before anything is stored (docs/TRACKING.md), then
/// its events are written through the event buffer, which answers only once they are committed.
public struct WebhookController: Sendable {
    let accounts: WebhookAccounts
    let replay: WebhookReplayGuard
    let sns: SNSEndpoint
    let events: EventBuffer
    let freshness: WebhookFreshness
    let logger: Logger
    let now: @Sendable () -> Date
    let counters: WebhookCounters

    /// The providers that post webhooks.
    static let providers: [ProviderKind] = [.sendgrid, .mailgun, .ses, .postmark]
    /// The largest body read (SendGrid batches up to a few MB of events).
    static let maxBody = 16 << 20
    /// The config key of an SES account holding its allowed SNS topic ARNs, comma-separated.
    public static let topicsConfigKey = "sns_topic_arns"

    /// Creates the controller; `now` is the clock signatures are checked against.
    public init(
        tenants: TenantStore, replay: WebhookReplayGuard, sns: SNSEndpoint, events: EventBuffer, freshness: WebhookFreshness, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.accounts = WebhookAccounts(tenants: tenants)
        self.replay = replay
        self.sns = sns
        self.events = events
        self.freshness = freshness
        self.logger = logger
        self.now = now
        self.counters = WebhookCounters()
    }

    /// Adds the route (`ProviderAccount.webhookPath` names it for each account).
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/webhooks/{provider}/{account_id}") { request, context in await self.receive(request, context: context) }
    }

    func receive(_ request: Request, context: some RequestContext) async -> Response {
        guard let kind = context.parameters.get("provider").flatMap(ProviderKind.init(rawValue:)), Self.providers.contains(kind) else {
            return Self.answer(WebhookRejection(.unknownAccount, "no webhooks for that provider"))
        }
        do {
            // The account first: a request for no account of ours is refused before its body is read.
            let account = try await account(kind, context: context)
            let body: [UInt8]
            do {
                body = Array((try await request.body.collect(upTo: Self.maxBody)).readableBytesView)
            } catch {
                // Too large, or the connection closed.
                throw WebhookRejection(.malformed, "the body could not be read: \(error)")
            }
            let (received, token) = try await verify(kind, account, request, body: body)
            let fates: [WebhookEventFate]
            do {
                fates = try await events.record(received)
            } catch {
                // Let Mailgun's retry of this request through: it was never stored.
                if let token { try? await replay.forget(token, accountID: account.id) }
                throw WebhookRejection(.unavailable, "events could not be stored: \(error)")
            }
            var counts: [WebhookEventFate: Int] = [:]
            var stored: [WebhookEvent] = []
            for (event, fate) in zip(received, fates) {
                counts[fate, default: 0] += 1
                // Only events stored in a history: an uncorrelated one is not remembered, so a
                // provider's redelivery of it would be counted again.
                if fate == .stored {
                    counters.recorded(kind, event.event.kind)
                    stored.append(event.event)
                }
            }
            counters.recorded(tenant: account.tenantID, stored: stored)
            if let mismatched = counts[.mismatched] {
                // Our id of another tenant's message through this account: a misconfigured or
                // forged sender; acknowledged (a retry would not change it) but dropped.
                logger.warning(
                    "webhook events naming another tenant's messages dropped",
                    metadata: ["provider": "\(kind.rawValue)", "account": "\(account.id.lowercasedString)", "events": "\(mismatched)"])
            }
            return Self.json(
                .ok,
                Receipt(
                    received: received.count, stored: counts[.stored] ?? 0, duplicates: counts[.duplicate] ?? 0, uncorrelated: counts[.uncorrelated] ?? 0,
                    mismatched: counts[.mismatched] ?? 0))
        } catch let rejection as WebhookRejection {
            counters.rejected(kind, rejection.reason)
            logger.notice("webhook refused", metadata: ["provider": "\(kind.rawValue)", "reason": "\(rejection)"])
            return Self.answer(rejection)
        } catch {
            // Every path above throws a rejection; this is for the compiler.
            counters.rejected(kind, .unavailable)
            logger.error("webhook failed", metadata: ["provider": "\(kind.rawValue)", "error": "\(error)"])
            return Self.answer(WebhookRejection(.unavailable, "\(error)"))
        }
    }

    /// The account a request is for: one of `kind` with that id.
    func account(_ kind: ProviderKind, context: some RequestContext) async throws(WebhookRejection) -> ProviderAccount {
        guard let id = context.parameters.get("account_id").flatMap(UUID.init(uuidString:)) else {
            throw WebhookRejection(.unknownAccount, "no such account")
        }
        let found: ProviderAccount?
        do {
            found = try await accounts.account(id)
        } catch {
            throw WebhookRejection(.unavailable, "accounts unreadable: \(error)")
        }
        guard let account = found, account.kind == kind else { throw WebhookRejection(.unknownAccount, "no such \(kind.rawValue) account") }
        return account
    }

    /// Checks the request against its account and reads its events; the Mailgun token used, if any.
    func verify(
        _ kind: ProviderKind, _ account: ProviderAccount, _ request: Request, body: [UInt8]
    ) async throws -> ([ReceivedWebhookEvent], token: String?) {
        func received(_ events: [WebhookEvent]) -> [ReceivedWebhookEvent] {
            events.map { ReceivedWebhookEvent(tenantID: account.tenantID, accountID: account.id, event: $0) }
        }
        switch kind {
        case .sendgrid:
            let verifier = try SendGridWebhookVerifier(publicKeyBase64: try Self.secret(account), freshness: freshness)
            try verifier.verify(
                signature: request.headers[.init(SendGridWebhookVerifier.signatureHeader)!],
                timestamp: request.headers[.init(SendGridWebhookVerifier.timestampHeader)!], body: body, now: now())
            return (received(try SendGridWebhookEvents.parse(body)), nil)
        case .mailgun:
            let payload = try MailgunWebhookEvents.parse(body)
            let signature = payload.signature
            try MailgunWebhookVerifier(signingKey: try Self.secret(account), freshness: freshness)
                .verify(timestamp: signature?.timestamp, token: signature?.token, signature: signature?.signature, now: now())
            let token = signature?.token ?? ""
            let first: Bool
            do {
                first = try await replay.firstUse(of: token, accountID: account.id, eventID: payload.eventID)
            } catch {
                throw WebhookRejection(.unavailable, "replay memory unreachable: \(error)")
            }
            guard first else { throw WebhookRejection(.replayed, "token already used") }
            return (received(payload.event.map { [$0] } ?? []), token)
        case .postmark:
            try PostmarkWebhookVerifier(secret: try Self.secret(account)).verify(authorization: request.headers[.authorization])
            return (received(try PostmarkWebhookEvents.parse(body)), nil)
        case .ses:
            let envelope = try SNSEnvelope.decode(body)
            let topics = Set((account.config[Self.topicsConfigKey] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            // SNS retries a failed delivery for up to an hour with its first signature.
            let verifier = SNSWebhookVerifier(allowedTopics: topics, freshness: WebhookFreshness(tolerance: max(freshness.tolerance, 3600)))
            try verifier.admit(envelope)
            try verifier.verify(envelope, certificate: try await sns.certificate(at: envelope.signingCertURL), now: now())
            switch envelope.type {
            case "SubscriptionConfirmation":
                guard let url = envelope.subscribeURL, SNSWebhookVerifier.isAllowedSubscribeURL(url) else {
                    throw WebhookRejection(.disallowedCertificate, "SubscribeURL is not SNS's own")
                }
                try await sns.confirm(url)
                logger.info("SNS subscription confirmed", metadata: ["account": "\(account.id.lowercasedString)", "topic": "\(envelope.topicArn)"])
                return ([], nil)
            case "UnsubscribeConfirmation":
                return ([], nil)
            default:
                // Anything else published on the topic is verified but not SES's: answered 200,
                // or SNS would retry it for an hour.
                do {
                    return (received(try SESWebhookEvents.parse(envelope)), nil)
                } catch {
                    logger.notice("SNS notification without an SES event", metadata: ["account": "\(account.id.lowercasedString)", "error": "\(error)"])
                    return ([], nil)
                }
            }
        case .outbox, .smtp:
            throw WebhookRejection(.unknownAccount, "no webhooks for that provider")
        }
    }

    /// The account's webhook secret; an account without one takes no webhooks.
    static func secret(_ account: ProviderAccount) throws(WebhookRejection) -> String {
        guard let secret = account.webhookSecret, !secret.isEmpty else {
            throw WebhookRejection(.unknownAccount, "the account has no webhook secret set")
        }
        return secret
    }

    /// What a successful request answers.
    struct Receipt: Encodable {
        var received: Int
        var stored: Int
        var duplicates: Int
        var uncorrelated: Int
        var mismatched: Int
    }

    /// The error body every Mailfleet answer uses.
    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    /// The refusal's answer. A 503's detail (a Postgres, Redis or curl error) is for the log
    /// only: the caller is not authenticated yet, or is a provider that just retries.
    static func answer(_ rejection: WebhookRejection) -> Response {
        let message = rejection.reason == .unavailable ? "temporarily unavailable; retry later" : rejection.detail
        return json(HTTPResponse.Status(code: rejection.status), ErrorBody(error: .init(code: rejection.reason.rawValue, message: message)))
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let body = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
