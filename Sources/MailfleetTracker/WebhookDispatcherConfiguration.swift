import Foundation
import MailfleetCore
import MailfleetHTTPClient

/// How a tracker replica delivers webhooks; the defaults are the settings catalogue's.
public struct WebhookDispatcherConfiguration: Sendable {
    /// Requests open per endpoint, events per batch request, deliveries held per endpoint.
    public var limits = WebhookDispatchBoard.Limits(concurrency: 4, batchSize: 100)
    /// The limit for connecting to an endpoint.
    public var connectTimeout: Duration = .seconds(5)
    /// The limit for a whole request.
    public var requestTimeout: Duration = .seconds(15)
    /// Waits after failed attempts.
    public var schedule = WebhookRetrySchedule.standard
    /// Time between looks for due deliveries when the last one found less than a full claim.
    public var pollInterval: Duration = .milliseconds(100)
    /// Deliveries claimed at once.
    public var claimSize = 500
    /// Where requests may go: refused address ranges are checked when each connection opens.
    public var egress = EgressPolicy()

    /// The defaults.
    public init() {}

    /// How long a claim is this replica's: long enough for every request its deliveries may
    /// wait behind in their endpoint's slots (`depth` requests each, at most `requestTimeout`
    /// each), plus a margin. A replica that dies leaves its claims due again after this.
    public var leaseSeconds: TimeInterval {
        Double((limits.depth + 1) * requestTimeout.wholeMilliseconds) / 1000 + 5
    }

    /// The dispatcher's HTTP client configuration: the one place it is built.
    public var httpClientConfiguration: HTTPClientConfiguration {
        HTTPClientConfiguration(
            maxConnectionsPerHost: 256, maxTotalConnections: 1024, connectTimeout: connectTimeout,
            userAgent: "mailfleet-webhooks/0.1", egress: egress)
    }
}
