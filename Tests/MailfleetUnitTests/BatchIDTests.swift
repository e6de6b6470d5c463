import Foundation
import MailfleetCore
import Testing

/// A tenant-chosen `batch_id`: its rule, and both submission readers (the plain byte reader
/// and `Decodable`) agreeing on it.
@Suite struct BatchIDTests {
    @Test func theRuleAllowsURLSafeNamesUpTo64Characters() {
        for good in ["a", "newsletter-2026-06", "camp_1.2:x", String(repeating: "z", count: 64)] { #expect(BatchID.isValid(good), "\(good)") }
        for bad in ["", String(repeating: "z", count: 65), "has space", "slash/y", "per%cent", "é", "tab\t"] { #expect(!BatchID.isValid(bad), "\(bad)") }
        #expect(BatchID.pattern == "^[A-Za-z0-9._:-]{1,64}$")
    }

    @Test func aValidBatchIDIsReadTheSameByBothReaders() throws {
        let body = Data(#"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","batch_id":"spring-sale"}"#.utf8)
        guard case .single(let plain)? = SubmissionBody.plain(body) else {
            Issue.record("the plain reader should take a valid batch_id")
            return
        }
        #expect(try plain.result.get().batchID == "spring-sale")
        #expect(try JSONDecoder().decode(MessageSubmission.self, from: body).batchID == "spring-sale")
        // It reaches the message to store.
        let plan = SubmissionPlan(items: [plain.result], isBatch: false, tenantID: UUID(), templates: [:], limits: MessageLimits(), now: Date())
        #expect(plan.messages.first?.batchID == "spring-sale")
    }

    @Test func anInvalidBatchIDIsRefusedNamingTheField() throws {
        for value in [#""""#, #""a b""#, "12", #""x/y""#] {
            let body = Data(#"{"messages":[{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","batch_id":\#(value)}]}"#.utf8)
            // The plain reader leaves it to Decodable, which says what is wrong.
            #expect(SubmissionBody.plain(body) == nil, "\(value)")
            guard case .batch(let items) = try JSONDecoder().decode(SubmissionBody.self, from: body) else {
                Issue.record("not read as a batch")
                continue
            }
            guard case .failure(let error) = items[0].result else {
                Issue.record("batch_id \(value) was accepted")
                continue
            }
            #expect(error.field == "batch_id", "\(value)")
        }
    }
}
