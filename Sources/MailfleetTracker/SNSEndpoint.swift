import Foundation
import MailfleetProviderFormats
import MailfleetRuntime

/// What the tracker asks of Amazon SNS: its signing certificates, fetched once per URL and kept
/// (SNS rotates them rarely, under a new URL), and subscription confirmations. Both go through
/// `get`, the project's HTTP client in the tracker; tests hand in the vectors' certificates.
public final class SNSEndpoint: Sendable {
    /// Fetches a URL: its status and body.
    public typealias Get = @Sendable (String) async throws -> (status: Int, body: [UInt8])

    private let get: Get
    private let certificates = Locked<[String: SNSSigningCertificate]>([:])

    /// Creates the endpoint over a fetcher.
    public init(get: @escaping Get) {
        self.get = get
    }

    /// The certificate at `url` (already checked by `SNSWebhookVerifier.admit`), from the cache or fetched.
    func certificate(at url: String) async throws(WebhookRejection) -> SNSSigningCertificate {
        if let known = certificates.withLock({ $0[url] }) { return known }
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await get(url)
        } catch {
            throw WebhookRejection(.unavailable, "signing certificate \(url) could not be fetched: \(error)")
        }
        guard answer.status == 200 else { throw WebhookRejection(.unavailable, "signing certificate \(url) answered \(answer.status)") }
        let certificate = try SNSSigningCertificate(pem: String(decoding: answer.body, as: UTF8.self))
        certificates.withLock { $0[url] = certificate }
        return certificate
    }

    /// Confirms a subscription by fetching its `SubscribeURL` (already checked to be SNS's own).
    func confirm(_ subscribeURL: String) async throws(WebhookRejection) {
        let status: Int
        do {
            status = try await get(subscribeURL).status
        } catch {
            throw WebhookRejection(.unavailable, "subscription confirmation failed: \(error)")
        }
        guard status == 200 else { throw WebhookRejection(.unavailable, "subscription confirmation answered \(status)") }
    }
}
