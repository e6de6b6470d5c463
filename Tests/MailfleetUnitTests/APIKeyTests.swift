import Foundation
import MailfleetCore
import Testing

@Suite struct APIKeyTests {
    @Test func generatedKeysParseAndHash() {
        let key = APIKey.generate()
        #expect(key.plaintext.hasPrefix("mf_live_\(key.id)_"))
        // 32 characters from a 62-letter alphabet: about 190 bits.
        #expect(key.plaintext.count == "mf_live_".count + 8 + 1 + 32)
        let parsed = APIKey(presented: key.plaintext)
        #expect(parsed?.id == key.id)
        #expect(parsed?.hash == key.hash)
        #expect(key.hash.count == 64)
        #expect(APIKey.generate() != key)
    }

    @Test(arguments: ["", "mf_live_short", "sk_live_abcdefgh_0123456789012345678901", "mf_live_abcdefgh_tooShort"])
    func malformedKeysAreRefused(_ text: String) {
        #expect(APIKey(presented: text) == nil)
    }
}
