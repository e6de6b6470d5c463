import MailfleetCore
import Testing

/// The comparison every credential check uses.
@Suite struct ConstantTimeTests {
    @Test func equalOnlyForTheSameBytes() {
        #expect(ConstantTime.equal("s3cret-token", "s3cret-token"))
        #expect(ConstantTime.equal("", ""))
        #expect(!ConstantTime.equal("s3cret-token", "s3cret-tokeN"))
        // Different lengths, including one a prefix of the other and trailing NUL-like zeros.
        #expect(!ConstantTime.equal("s3cret", "s3cret-token"))
        #expect(!ConstantTime.equal("s3cret-token", "s3cret"))
        #expect(!ConstantTime.equal("", "a"))
        #expect(!ConstantTime.equal("a", "a\u{0}"))
        // Lengths that differ by a multiple of 256 still differ.
        #expect(!ConstantTime.equal(String(repeating: "a", count: 256), ""))
    }
}
