import Foundation
import MailfleetCore
import Testing

@Suite struct MailboxProviderTests {
    @Test func domainsGroupByTheBuiltInTable() {
        let table: [String: MailboxProvider?] = [
            "gmail.com": .google, "GoogleMail.com": .google, "outlook.com": .microsoft, "hotmail.com": .microsoft,
            "hotmail.co.uk": .microsoft, "live.fr": .microsoft, "live.com.au": .microsoft, "msn.com": .microsoft,
            "yahoo.com": .yahoo, "yahoo.co.jp": .yahoo, "yahoo.com.br": .yahoo, "ymail.com": .yahoo, "aol.com": .yahoo,
            "icloud.com": .apple, "me.com": .apple, "mac.com": .apple,
            "example.com": nil, "gmail.example.com": nil, "mail.yahoo.example.org": nil, "live.example.org": nil, "corp.google.com": nil,
        ]
        for (domain, group) in table { #expect(MailboxProvider.of(domain: domain) == group, "\(domain)") }
    }

    @Test func accountSettingsOverrideTheTenantWhichOverridesTheDefault() {
        let account = AccountSendLimits(config: [
            "messages_per_second": "200", "calls_per_second": "unlimited", "mailbox_rate.google": "20", "mailbox_rate.yahoo": "unlimited",
            "domain": "mg.example.com",
        ])
        #expect(account.messagesPerSecond == 200)
        #expect(account.callsPerSecond == nil)
        let tenant = TenantSendLimits(messagesPerSecond: nil, mailboxRates: [.google: 5, .microsoft: 30, .apple: 0])
        #expect(tenant.mailboxRate(.google, account: account) == 20)
        #expect(tenant.mailboxRate(.microsoft, account: account) == 30)
        #expect(tenant.mailboxRate(.yahoo, account: account) == nil)
        #expect(tenant.mailboxRate(.apple, account: account) == nil)
        #expect(TenantSendLimits().mailboxRate(.apple, account: AccountSendLimits(config: [:])) == 50)
    }

    @Test func badLimitSettingsAreNamed() {
        #expect(AccountSendLimits.problems(in: ["messages_per_second": "10", "region": "eu", "mailbox_rate.google": "unlimited"]).isEmpty)
        let problems = AccountSendLimits.problems(in: ["messages_per_second": "0", "calls_per_second": "fast", "mailbox_rate.hotmail": "5"])
        #expect(problems.count == 3)
        #expect(problems.contains { $0.hasPrefix("mailbox_rate.hotmail: unknown mailbox provider") })
        #expect(problems.contains { $0.hasPrefix("messages_per_second=0") })
        // An empty value (removing the setting in an update) is fine.
        #expect(AccountSendLimits.problems(in: ["messages_per_second": ""]).isEmpty)
    }
}
