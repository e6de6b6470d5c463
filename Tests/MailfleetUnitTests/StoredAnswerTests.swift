import Foundation
import MailfleetCore
import Testing

@Suite struct StoredAnswerTests {
    @Test func aSingleSendNamesItsMessage() {
        let id = UUID()
        #expect(StoredAnswer.messageIDs(in: #"{"id":"\#(id.lowercasedString)","status":"queued"}"#) == [id])
    }

    @Test func aBatchNamesTheMessagesOfItsAcceptedItemsOnly() {
        let first = UUID(), third = UUID()
        let body = """
            {"accepted":2,"rejected":1,"messages":[{"index":0,"id":"\(first.lowercasedString)"},\
            {"index":1,"error":{"code":"invalid_address","message":"bad"}},{"index":2,"id":"\(third.lowercasedString)","status":"suppressed"}]}
            """
        #expect(StoredAnswer.messageIDs(in: body) == [first, third])
    }

    @Test func errorsAndBadJSONNameNothing() {
        #expect(StoredAnswer.messageIDs(in: #"{"error":{"code":"invalid_json","message":"x"}}"#).isEmpty)
        #expect(StoredAnswer.messageIDs(in: "not json").isEmpty)
        #expect(StoredAnswer.messageIDs(in: #"{"id":"not-a-uuid"}"#).isEmpty)
    }
}
