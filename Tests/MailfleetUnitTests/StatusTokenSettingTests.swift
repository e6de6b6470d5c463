import MailfleetConfiguration
import Testing

/// `MAILFLEET_STATUS_TOKEN`: unset (or empty) turns the status page off; a given value turns it
/// on; it is never shown in help or the README.
@Suite struct StatusTokenSettingTests {
    let setting = Settings.catalogue.statusToken

    @Test func unsetOrEmptyMeansOffAndAValueMeansOn() throws {
        #expect(try setting.value(flag: nil, environment: [:]) == "")
        #expect(try setting.value(flag: nil, environment: ["MAILFLEET_STATUS_TOKEN": ""]) == "")
        #expect(try setting.value(flag: nil, environment: ["MAILFLEET_STATUS_TOKEN": "s3cret"]) == "s3cret")
        #expect(try APIOptions.parse(["--status-token", "from-flag-0123456789"]).statusToken == "from-flag-0123456789")
        // An empty flag is a mistake, not a way to turn the page off.
        #expect(throws: (any Error).self) { try APIOptions.parse(["--status-token", ""]) }
    }

    @Test func aShortOrSamplePasswordIsRefused() {
        #expect(throws: (any Error).self) { try APIOptions.parse(["--status-token", "from-flag"]) }
        #expect(throws: (any Error).self) { try APIOptions.parse(["--status-token", "change-me"]) }
        #expect(throws: (any Error).self) { try APIOptions.parse(["--status-token", String(repeating: "x", count: APIOptions.minimumStatusTokenLength - 1)]) }
        #expect(throws: Never.self) { try APIOptions.parse(["--status-token", String(repeating: "x", count: APIOptions.minimumStatusTokenLength)]) }
    }

    @Test func itsValueIsNeverShown() {
        #expect(setting.defaultText == "unset (page off)")
        #expect(setting.help.abstract.contains("MAILFLEET_STATUS_TOKEN"))
    }
}
