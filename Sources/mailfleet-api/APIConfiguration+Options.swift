import MailfleetAPI
import MailfleetConfiguration

extension APIConfiguration {
    /// The API's configuration from its settings.
    init(_ options: APIOptions) throws {
        self.init()
        host = try options.host
        port = try options.port
        partitions = try options.queue.partitions
        databasePoolSize = try options.databasePoolSize
        rateLimitPerMinute = try options.rateLimitPerMinute
        trackerURL = try options.trackerURL
        statusToken = try options.statusToken
        egress = try options.egress.policy
        trackingSecret = try options.trackingSecret
    }
}
