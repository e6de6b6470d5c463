import Foundation
import MailfleetCore
import Testing

@Suite struct BatchPlannerTests {
    @Test func sendGridBatchesShareBodiesAndRespectTheLimit() {
        let tenant = UUID()
        var rendered: [RenderedMessage] = []
        for i in 0..<2500 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, subject: "S\(i)", html: "<p>A</p>"), htmlTemplate: "<p>A</p>", textTemplate: "text")) }
        for _ in 0..<10 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, html: "<p>B</p>"), htmlTemplate: "<p>B</p>", textTemplate: "text")) }
        let batches = BatchPlanner.plan(rendered, for: account(.sendgrid, tenant: tenant))
        #expect(batches.map(\.messages.count) == [1000, 1000, 500, 10])
        for batch in batches { #expect(Set(batch.messages.map(\.contentKey)).count == 1) }
    }

    @Test func recipientLimitSplitsBatches() {
        let tenant = UUID()
        let many = (0..<40).map { "r\($0)@example.com" }
        let rendered = (0..<30).map { _ in
            let m = makeMessage(tenant: tenant, to: many)
            return RenderedMessage(message: m, htmlTemplate: nil, textTemplate: "text")
        }
        let batches = BatchPlanner.plan(rendered, for: account(.sendgrid, tenant: tenant))
        #expect(batches.allSatisfy { $0.recipientCount <= 1000 })
        #expect(batches.reduce(0) { $0 + $1.messages.count } == 30)
        #expect(batches.count == 2)
    }

    @Test func sesBatchesShareBodiesUpToFiftyMessagesWhateverTheirRecipients() {
        let tenant = UUID()
        var rendered: [RenderedMessage] = []
        for i in 0..<120 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, subject: "S\(i)", html: "<p>A</p>"), htmlTemplate: "<p>A</p>", textTemplate: "text")) }
        for _ in 0..<3 { rendered.append(RenderedMessage(message: makeMessage(tenant: tenant, html: "<p>B</p>"), htmlTemplate: "<p>B</p>", textTemplate: "text")) }
        let batches = BatchPlanner.plan(rendered, for: account(.ses, tenant: tenant))
        #expect(batches.map(\.messages.count) == [50, 50, 20, 3])
        for batch in batches { #expect(Set(batch.messages.map(\.contentKey)).count == 1) }
        // 40 recipients each: SES limits destinations per entry (50), not per call, so 30 such
        // messages still share one call (a limit of 50 recipients per call would need 30).
        let many = (0..<40).map { "r\($0)@example.com" }
        let wide = (0..<30).map { _ in RenderedMessage(message: makeMessage(tenant: tenant, to: many), htmlTemplate: nil, textTemplate: "text") }
        #expect(BatchPlanner.plan(wide, for: account(.ses, tenant: tenant)).map(\.messages.count) == [30])
    }

    @Test func outboxIgnoresBodies() {
        let rendered = (0..<3).map { i in RenderedMessage(message: makeMessage(html: "<p>\(i)</p>"), htmlTemplate: "<p>\(i)</p>", textTemplate: nil) }
        #expect(BatchPlanner.plan(rendered, for: account(.outbox)).count == 1)
    }
}
