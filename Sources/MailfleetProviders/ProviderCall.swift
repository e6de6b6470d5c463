import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviderFormats

/// The parts every HTTP provider adapter shares: making the call, and turning a failed call
/// (transport error or non-2xx answer) into outcomes for the messages it carried.
enum ProviderCall {
    /// A response, or the outcome of a call that got none.
    enum Answer {
        case response(HTTPResponse)
        case failed(BatchOutcome)
    }

    /// Performs the request; a transport failure is a retryable outcome for every message.
    static func execute(_ request: HTTPRequest, client: HTTPClient, provider: String, messages: [RenderedMessage]) async -> Answer {
        do {
            return .response(try await client.execute(request))
        } catch {
            return .failed(.all(messages, .retryable(reason: "\(provider): \(error)", retryAfter: nil), status: 0))
        }
    }

    /// The outcome of a whole call answered with a non-2xx status (`BatchOutcome.failedCall`);
    /// nil when the status is 2xx.
    static func failure(_ response: HTTPResponse, provider: String, messages: [RenderedMessage]) -> BatchOutcome? {
        BatchOutcome.failedCall(
            status: response.status, retryAfter: response.header("Retry-After"), body: response.body, provider: provider, messages: messages)
    }

    /// The endpoint without trailing slashes.
    static func base(_ endpoint: String) -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
