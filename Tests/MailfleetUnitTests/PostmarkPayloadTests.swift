import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

@Suite struct PostmarkPayloadTests {
    @Test func eachMessageHasItsOwnBodiesAndMetadata() throws {
        let a = renderedWithTracking(["a@example.com"], metadata: ["n": "1"])
        let json = try PostmarkPayload.encode([a], messageStream: "broadcast")
        let items = try #require(JSONSerialization.jsonObject(with: Data(json)) as? [[String: Any]])
        #expect(items.count == 1)
        #expect(items[0]["To"] as? String == "a@example.com")
        #expect(items[0]["HtmlBody"] as? String == "<a href=\"https://t/c/a@example.com\">x</a>https://t/o/a@example.com")
        #expect((items[0]["Metadata"] as? [String: String])?["mailfleet_message_id"] == a.message.id.uuidString.lowercased())
        #expect(items[0]["MessageStream"] as? String == "broadcast")
    }

    @Test func resultsAreReadPerMessage() {
        let body = #"[{"ErrorCode":0,"Message":"OK","MessageID":"m1"},{"ErrorCode":406,"Message":"inactive"},{"ErrorCode":300,"Message":"bad"},{"ErrorCode":10,"Message":"token"},{"ErrorCode":100,"Message":"maintenance"}]"#
        let results = PostmarkPayload.results(Array(body.utf8), count: 5)
        #expect(results == [
            .accepted(messageID: "m1"), .rejected(reason: "postmark 406: inactive"), .rejected(reason: "postmark 300: bad"),
            .accountFailure(reason: "postmark 10: token"), .retryable(reason: "postmark 100: maintenance"),
        ])
        #expect(PostmarkPayload.results(Array(body.utf8), count: 4) == nil)
    }
}
