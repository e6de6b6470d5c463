import MailfleetConfiguration
import MailfleetCore
import Testing

/// The operator's webhook egress settings: plain HTTP for development, and the allowlist.
@Suite struct EgressOptionsTests {
    static let settings = Settings.catalogue

    @Test func defaultsAreHTTPSOnlyAndNoAllowedNetworks() throws {
        #expect(try Self.settings.webhookAllowHTTP.value(flag: nil, environment: [:]) == false)
        #expect(try Self.settings.webhookAllowedNetworks.value(flag: nil, environment: [:]) == [])
        #expect(Self.settings.webhookAllowHTTP.defaultText == "false")
        #expect(Self.settings.webhookAllowedNetworks.defaultText == "none")
    }

    @Test func networksAreReadCommaSeparated() throws {
        let networks = try Self.settings.webhookAllowedNetworks.value(
            flag: nil, environment: ["MAILFLEET_WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8, fd00::/8,192.168.1.7/24 ,203.0.113.9"])
        #expect(networks.map(\.description) == ["10.0.0.0/8", "fd00::/8", "192.168.1.0/24", "203.0.113.9/32"])
        #expect(try Self.settings.webhookAllowHTTP.value(flag: nil, environment: ["MAILFLEET_WEBHOOK_ALLOW_HTTP": "TRUE"]))
        #expect(try Self.settings.webhookAllowHTTP.value(flag: "0", environment: ["MAILFLEET_WEBHOOK_ALLOW_HTTP": "yes"]) == false)
    }

    @Test(arguments: [
        ("MAILFLEET_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33"), ("MAILFLEET_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8,banana"),
        ("MAILFLEET_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8,,fd00::/8"), ("MAILFLEET_WEBHOOK_ALLOWED_NETWORKS", "10.0.0/8"),
        ("MAILFLEET_WEBHOOK_ALLOWED_NETWORKS", "fe80::1%eth0/64"), ("MAILFLEET_WEBHOOK_ALLOW_HTTP", "maybe"),
    ])
    func aBadValueStopsTheProcessNamingIt(variable: String, text: String) throws {
        let setting = try #require(Settings.all.first { $0.variable == variable })
        let error = try #require(throws: ConfigurationError.self) { try setting.check(environment: [variable: text]) }
        #expect(error.description.hasPrefix("\(variable)=\(text): expected "))
    }

    @Test func theOptionGroupMakesThePolicy() throws {
        let options = try EgressOptions.parse(["--webhook-allow-http", "true", "--webhook-allowed-networks", "127.0.0.0/8,::1/128"])
        #expect(try options.policy == EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!]))
        #expect(try EgressOptions.parse([]).policy == EgressPolicy())
        #expect(throws: (any Error).self) { try EgressOptions.parse(["--webhook-allowed-networks", "300.0.0.0/8"]) }
        #expect(throws: (any Error).self) { try EgressOptions.parse(["--webhook-allow-http", "sometimes"]) }
    }
}
