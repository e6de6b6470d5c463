import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// Quotas end to end: set by the CLI, enforced by the API (429 with Retry-After, a batch
/// refused whole), shown by the API, the CLI and the gauge. Period boundaries are tested with a
/// set clock in `QuotaLedgerTests` and `QuotaStoreTests`, not by waiting for midnight.
@Suite(.serialized) struct QuotaTests {
    @Test func theCLISetsAQuotaTheAPIEnforcesItAndEveryViewShowsIt() async throws {
        let fleet = try await Fleet.start("quota", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        _ = try fleet.cli(["tenants", "set-quota", "--tenant", fleet.tenantID, "--daily", "3", "--monthly", "50"])
        let one = #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#
        #expect(try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(one),\#(one)]}"#).status == 202)

        let refused = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(one),\#(one)]}"#)
        #expect(refused.status == 429)
        #expect((Fleet.object(refused)["error"] as? [String: Any])?["code"] as? String == "quota_exceeded")
        let retryAfter = refused.headers.first { $0.name.lowercased() == "retry-after" }.flatMap { Int($0.value) }
        #expect(retryAfter.map { $0 >= 1 && $0 <= 86_400 } == true)
        #expect(try await fleet.api("POST", "/v1/messages", json: one).status == 202)

        let quota = Fleet.object(try await fleet.api("GET", "/v1/quota"))
        let daily = try #require(quota["daily"] as? [String: Any])
        #expect(daily["limit"] as? Int == 3 && daily["used"] as? Int == 3 && daily["remaining"] as? Int == 0)
        let cli = try fleet.cli(["tenants", "quota", "--tenant", fleet.tenantID, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(cli.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["period"] as? String } == ["daily", "monthly"])
        #expect(rows.map { $0["used"] as? Int } == [3, 3] && rows.map { $0["limit"] as? Int } == [3, 50])

        // The gauge counts the tenant as at its daily quota once the API has read it (every 10 s).
        let series = #"mailfleet_quota_tenants{period="daily",level="reached"}"#
        var exposition = ""
        let reached = try await fleet.eventually(seconds: 30) {
            exposition = try await fleet.http.execute(HTTPRequest(url: fleet.apiURL + "/metrics")).bodyString
            return MetricsCatalogueTests.sample(series, in: exposition) == 1
        }
        #expect(reached, "\(exposition.split(separator: "\n").filter { $0.contains("quota") })")
        // Lifting the daily quota admits again.
        _ = try fleet.cli(["tenants", "set-quota", "--tenant", fleet.tenantID, "--unlimited-daily"])
        #expect(try await fleet.api("POST", "/v1/messages", json: one).status == 202)
    }
}
