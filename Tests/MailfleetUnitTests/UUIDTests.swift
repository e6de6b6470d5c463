import Foundation
import MailfleetCore
import Testing

@Suite struct UUIDTests {
    @Test func timeOrderedIdsAreVersion7SortByTimeAndDoNotRepeat() {
        let start = Date()
        var seen = Set<UUID>()
        var previous = UUID.timeOrdered(at: start)
        for i in 1...5_000 {
            let id = UUID.timeOrdered(at: start.addingTimeInterval(Double(i) / 1000))
            #expect(id.uuid.6 >> 4 == 7)
            #expect(id.uuid.8 >> 6 == 0b10)
            #expect(id.lowercasedString > previous.lowercasedString)
            #expect(seen.insert(id).inserted)
            previous = id
        }
        let now = UUID.timeOrdered(at: Date(timeIntervalSince1970: 1_700_000_000.123))
        #expect(now.lowercasedString.hasPrefix("018bcfe5-687b-7"))  // 1,700,000,000,123 ms = 0x018bcfe5687b
    }

    @Test func lowercasedStringMatchesFoundation() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
    }
}
