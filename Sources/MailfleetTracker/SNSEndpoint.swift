import Foundation
import MailfleetProviderFormats
import MailfleetRuntime

/// What the tracker asks of Amazon SNS: its signing certificates, fetched once per URL and kept
/// (SNS rotates them rarely, under a new URL), and subscription confirmations. Both go through
/// `get`, the project's HTTP client in the tracker; tests hand in the vectors' certificates.
///
/// Requests arriving together for one URL share one fetch, and a failed fetch is remembered for
/// `failureTTL`: anyone may post a (refused later) envelope naming an SNS URL, and each must not
/// cost an outbound request.
public final class SNSEndpoint: Sendable {
    /// Fetches a URL: its status and body.
    public typealias Get = @Sendable (String) async throws -> (status: Int, body: [UInt8])

    /// A certificate URL's state.
    private enum Entry {
        case fetched(SNSSigningCertificate)
        case fetching(Task<Result<SNSSigningCertificate, WebhookRejection>, Never>)
        case failed(WebhookRejection, until: ContinuousClock.Instant)
    }

    private let get: Get
    private let failureTTL: Duration
    private let certificates = Locked<[String: Entry]>([:])

    /// Creates the endpoint over a fetcher; a failed certificate fetch is answered from memory for `failureTTL`.
    public init(failureTTL: Duration = .seconds(60), get: @escaping Get) {
        self.get = get
        self.failureTTL = failureTTL
    }

    /// The certificate at `url` (already checked by `SNSWebhookVerifier.admit`), from the cache or fetched.
    func certificate(at url: String) async throws(WebhookRejection) -> SNSSigningCertificate {
        let now = ContinuousClock.now
        let known: Result<SNSSigningCertificate, WebhookRejection>?
        let fetching: Task<Result<SNSSigningCertificate, WebhookRejection>, Never>?
        (known, fetching) = certificates.withLock { entries in
            switch entries[url] {
            case .fetched(let certificate)?: return (.success(certificate), nil)
            case .failed(let rejection, let until)? where now < until: return (.failure(rejection), nil)
            case .fetching(let running)?: return (nil, running)
            case .failed?, nil:
                // Started under the lock, so no second fetch of the URL starts meanwhile; it
                // records its result under the same lock.
                let started = Task {
                    let result = await self.fetch(url)
                    let ttl = self.failureTTL
                    self.certificates.withLock { entries in
                        switch result {
                        case .success(let certificate): entries[url] = .fetched(certificate)
                        case .failure(let rejection): entries[url] = .failed(rejection, until: .now + ttl)
                        }
                    }
                    return result
                }
                entries[url] = .fetching(started)
                return (nil, started)
            }
        }
        if let known { return try known.get() }
        // The lock returns one of the two.
        return try await fetching!.value.get()
    }

    /// One fetch of a certificate.
    private func fetch(_ url: String) async -> Result<SNSSigningCertificate, WebhookRejection> {
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await get(url)
        } catch {
            return .failure(WebhookRejection(.unavailable, "signing certificate \(url) could not be fetched: \(error)"))
        }
        guard answer.status == 200 else { return .failure(WebhookRejection(.unavailable, "signing certificate \(url) answered \(answer.status)")) }
        return Result { () throws(WebhookRejection) in try SNSSigningCertificate(pem: String(decoding: answer.body, as: UTF8.self)) }
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
