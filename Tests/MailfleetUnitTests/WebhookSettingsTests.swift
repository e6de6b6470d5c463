import MailfleetConfiguration
import Testing

/// The webhook dispatcher's settings: the on/off switch and the retry schedule list.
struct WebhookSettingsTests {
    let settings = Settings.catalogue

    @Test func theDispatchSwitchReadsOnAndOffWords() throws {
        #expect(try settings.webhookDispatch.value(flag: nil, environment: [:]) == true)
        for word in ["off", "false", "no", "0", "OFF"] {
            #expect(try settings.webhookDispatch.value(flag: nil, environment: ["MAILFLEET_WEBHOOK_DISPATCH": word]) == false)
        }
        #expect(try settings.webhookDispatch.value(flag: "on", environment: ["MAILFLEET_WEBHOOK_DISPATCH": "off"]) == true)
        #expect(throws: ConfigurationError.self) { try settings.webhookDispatch.value(flag: "maybe") }
    }

    @Test func theRetryScheduleIsAListOfPositiveSeconds() throws {
        #expect(settings.webhookRetrySchedule.defaultText == "5,300,1800,7200,18000,36000,50400,72000,86400")
        #expect(try settings.webhookRetrySchedule.value(flag: "0.5, 2,10") == [0.5, 2, 10])
        for bad in ["", "1,,2", "1,x", "1,-3", "0", "1,nan"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try settings.webhookRetrySchedule.value(flag: bad) }
        }
    }
}
