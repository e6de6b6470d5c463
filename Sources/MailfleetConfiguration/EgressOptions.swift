import ArgumentParser
import MailfleetCore

private let settings = Settings.catalogue

/// Where webhooks to tenants may connect; read by every process that registers or delivers
/// to tenant-supplied URLs.
public struct EgressOptions: ParsableArguments {
    @Option(name: settings.webhookAllowHTTP.name, help: settings.webhookAllowHTTP.help) var allowHTTPFlag: String?
    @Option(name: settings.webhookAllowedNetworks.name, help: settings.webhookAllowedNetworks.help) var allowedNetworksFlag: String?

    /// No flags given.
    public init() {}

    /// Whether http:// webhook URLs are allowed (local development only).
    public var allowPlainHTTP: Bool { get throws { try settings.webhookAllowHTTP.value(flag: allowHTTPFlag) } }
    /// Networks webhooks may reach although they are private, loopback or otherwise refused.
    public var allowedNetworks: [IPNetwork] { get throws { try settings.webhookAllowedNetworks.value(flag: allowedNetworksFlag) } }

    /// The policy the HTTP client that delivers webhooks, and URL registration, enforce.
    public var policy: EgressPolicy {
        get throws { EgressPolicy(allowPlainHTTP: try allowPlainHTTP, allowedNetworks: try allowedNetworks) }
    }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = try policy } }
}
