import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

@Suite struct SendGridPayloadTests {
    @Test func oneCallCarriesEveryPersonalizationWithItsOwnArgs() throws {
        let tenant = UUID()
        let messages = (0..<3).map { i in
            var m = makeMessage(tenant: tenant, to: ["r\(i)@example.com"], subject: "Hello \(i)")
            m.content.metadata = ["campaign": "c1"]
            return RenderedMessage(message: m, htmlTemplate: "<p>[[mf:open]]</p>", textTemplate: "text", substitutions: ["[[mf:open]]": "https://t/o/\(i)"])
        }
        let batch = ProviderBatch(account: account(.sendgrid, tenant: tenant), messages: messages)
        let json = try JSONSerialization.jsonObject(with: Data(try SendGridPayload.encode(batch))) as! [String: Any]
        let personalizations = json["personalizations"] as! [[String: Any]]
        #expect(personalizations.count == 3)
        for (i, p) in personalizations.enumerated() {
            let to = p["to"] as! [[String: String]]
            #expect(to == [["email": "r\(i)@example.com"]])
            #expect(p["subject"] as? String == "Hello \(i)")
            let args = p["custom_args"] as! [String: String]
            #expect(args["mailfleet_message_id"] == messages[i].message.id.uuidString.lowercased())
            #expect(args["campaign"] == "c1")
            #expect((p["substitutions"] as! [String: String])["[[mf:open]]"] == "https://t/o/\(i)")
        }
        let content = json["content"] as! [[String: String]]
        #expect(content.map { $0["type"]! } == ["text/plain", "text/html"])
    }
}
