import Foundation
import MailfleetCore
import Testing

/// `SubmissionPlan`: items to stored messages and the answer, without the API's I/O.
@Suite struct SubmissionPlanTests {
    let tenant = UUID()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func item(_ json: String) -> Result<MessageSubmission, FieldError> {
        do {
            return .success(try JSONDecoder().decode(MessageSubmission.self, from: Data(json.utf8)))
        } catch {
            Issue.record("the test's item does not decode: \(error)")
            return .failure(FieldError(code: "test", field: nil, message: "\(error)"))
        }
    }

    /// Ids 00000000-0000-0000-0000-00000000000N, in order of creation.
    func plan(_ items: [Result<MessageSubmission, FieldError>], batch: Bool, templates: [UUID: MessageTemplate] = [:]) -> SubmissionPlan {
        var next = 0
        return SubmissionPlan(items: items, isBatch: batch, tenantID: tenant, templates: templates, limits: MessageLimits(), now: now) { _ in
            next += 1
            return UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", next))!
        }
    }

    func json(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    let valid = #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#

    @Test func aSingleMessageIsTransactionalAndAnsweredWithItsID() throws {
        let plan = plan([item(valid)], batch: false)
        #expect(plan.refusal == nil)
        #expect(plan.messages.count == 1)
        let message = try #require(plan.messages.first)
        #expect(message.priority == .transactional && message.status == .queued && message.tenantID == tenant && message.createdAt == now)
        #expect(plan.status == 202)
        #expect(try json(plan.body) == ["id": "00000000-0000-0000-0000-000000000001", "status": "queued"])
    }

    @Test func aSingleInvalidMessageIsRefusedWithItsFirstProblem() {
        let plan = plan([item(#"{"from":"a@example.com","to":[],"subject":"s"}"#)], batch: false)
        #expect(plan.refusal?.code == "missing_recipient")
        #expect(plan.messages.isEmpty)
        let decodeFailure = FieldError(code: "invalid_type", field: "to", message: "expected an array")
        #expect(self.plan([.failure(decodeFailure)], batch: false).refusal == decodeFailure)
    }

    @Test func aBatchIsBulkAndAnswersPerItemWithBadItemsFailingAlone() throws {
        let plan = plan([item(valid), .failure(FieldError(code: "unknown_field", field: "nmae", message: "unknown field nmae")), item(valid)], batch: true)
        #expect(plan.refusal == nil)
        #expect(plan.messages.map(\.priority) == [.bulk, .bulk])
        #expect(plan.status == 202)
        let body = try json(plan.body)
        #expect(body["accepted"] as? Int == 2 && body["rejected"] as? Int == 1)
        let entries = try #require(body["messages"] as? [NSDictionary])
        #expect(entries.map { $0["index"] as? Int } == [0, 1, 2])
        #expect(entries[0] == ["index": 0, "id": "00000000-0000-0000-0000-000000000001", "status": "queued"])
        #expect(entries[1] == ["index": 1, "error": ["code": "unknown_field", "message": "unknown field nmae", "field": "nmae"]])
        #expect(entries[2]["id"] as? String == "00000000-0000-0000-0000-000000000002")
    }

    @Test func aBatchWhoseEveryItemFailedIs422() throws {
        let plan = plan([.failure(FieldError(code: "too_large", field: nil, message: "big"))], batch: true)
        #expect(plan.status == 422)
        #expect(try json(plan.body) == ["accepted": 0, "rejected": 1, "messages": [["index": 0, "error": ["code": "too_large", "message": "big"]]]])
    }

    @Test func anExplicitPriorityWinsAndOnlyAFutureSendAtIsKept() {
        let plan = plan([
            item(#"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","priority":"bulk","send_at":"2020-01-01T00:00:00Z"}"#),
            item(#"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","send_at":"2099-01-01T00:00:00Z"}"#),
        ], batch: false)
        #expect(plan.outcomes.count == 2)
        let messages = plan.messages
        #expect(messages[0].priority == .bulk && messages[0].sendAt == nil)
        #expect(messages[1].sendAt == ISO8601.parse("2099-01-01T00:00:00Z"))
    }

    @Test func templatesAreRenderedAtAcceptTimeAndAMissingOneFailsItsItem() throws {
        let known = UUID()
        let unknown = UUID()
        let items = [
            item(#"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(known)","variables":{"name":"Ada"}}"#),
            item(#"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(unknown)"}"#),
            item(valid),
        ]
        #expect(SubmissionPlan.templateIDs(in: items) == [known, unknown])
        let plan = plan(items, batch: true, templates: [known: MessageTemplate(subject: "Hi {{name}}", text: "Hello {{name}}", html: nil)])
        let first = try plan.outcomes[0].get()
        #expect(first.content.subject == "Hi Ada" && first.content.text == "Hello Ada")
        guard case .failure(let problem) = plan.outcomes[1] else { Issue.record("an item naming an unknown template passed"); return }
        #expect(problem == FieldError(code: "template_not_found", field: "template_id", message: "no template \(unknown.lowercasedString)"))
        #expect(plan.messages.count == 2)
    }

    @Test func aRenderedTemplateIsValidatedLikeAnyMessage() {
        let id = UUID()
        let plan = plan(
            [item(#"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(id)","variables":{"s":"a\nb"}}"#)], batch: false,
            templates: [id: MessageTemplate(subject: "{{s}}", text: "t", html: nil)])
        #expect(plan.refusal?.code == "invalid_header_value")
    }

    @Test func suppressedRecipientsAreDroppedAndAMessageWithNobodyLeftInToIsStoredSuppressed() throws {
        var plan = plan([
            item(#"{"from":"a@example.com","to":["Keep@example.com","Gone@example.com"],"cc":["gone@example.com"],"subject":"s","text":"t"}"#),
            item(#"{"from":"a@example.com","to":["gone@example.com"],"bcc":["keep@example.com"],"subject":"s","text":"t"}"#),
        ], batch: true)
        let lowercased = { (address: EmailAddress) in address.email.lowercased() }
        #expect(plan.recipients(normalised: lowercased) == ["keep@example.com", "gone@example.com"])
        plan.suppress(["gone@example.com"], normalised: lowercased)
        let messages = plan.messages
        #expect(messages[0].status == .queued)
        #expect(messages[0].content.to.map(\.email) == ["Keep@example.com"] && messages[0].content.cc.isEmpty)
        // Nobody left in to: kept whole, stored as suppressed, never enqueued.
        #expect(messages[1].status == .suppressed && messages[1].content.to.count == 1)
        let entries = try #require(try json(plan.body)["messages"] as? [NSDictionary])
        #expect(entries[0]["suppressed_recipients"] as? [String] == ["gone@example.com", "gone@example.com"])
        #expect(entries[1]["status"] as? String == "suppressed")
        #expect(entries[1]["suppressed_recipients"] as? [String] == ["gone@example.com"])
    }

    @Test func anEmptySuppressionListChangesNothing() throws {
        var plan = plan([item(valid)], batch: false)
        let before = plan.body
        plan.suppress([], normalised: { $0.email })
        #expect(plan.body == before)
        #expect(try json(before)["suppressed_recipients"] == nil)
    }

    @Test func answersEscapeWhatTheyQuote() throws {
        let problem = FieldError(code: "invalid_value", field: "headers.\"x\"", message: "line\nbreak \\ and \u{1}")
        let plan = plan([.failure(problem)], batch: true)
        let entries = try #require(try json(plan.body)["messages"] as? [NSDictionary])
        #expect(entries[0]["error"] as? NSDictionary == ["code": "invalid_value", "field": "headers.\"x\"", "message": "line\nbreak \\ and \u{1}"])
    }
}
