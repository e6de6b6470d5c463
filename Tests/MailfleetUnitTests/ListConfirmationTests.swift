import Foundation
import MailfleetCore
import Testing

/// Double opt-in links: signed, tamper-evident, expiring, and never interchangeable with a
/// tracking token signed by the same secret.
@Suite struct ListConfirmationTests {
    let signer = ListConfirmationSigner(secret: "s3cret")

    @Test func aSignedLinkVerifiesAndCarriesItsMemberAndExpiry() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let confirmation = ListConfirmation(tenantID: UUID(), listID: UUID(), contactID: UUID(), now: now)
        let verified = try #require(signer.verify(signer.sign(confirmation)))
        #expect(verified == confirmation)
        #expect(verified.expiresAt == now.addingTimeInterval(ListConfirmation.lifetime))
        let url = signer.url(trackerURL: "https://track.example.com/", confirmation)
        #expect(url.hasPrefix("https://track.example.com/confirm/") && !url.contains("//confirm/"))
    }

    @Test func forgedOrForeignTokensDoNotVerify() {
        let confirmation = ListConfirmation(tenantID: UUID(), listID: UUID(), contactID: UUID())
        let token = signer.sign(confirmation)
        #expect(ListConfirmationSigner(secret: "other").verify(token) == nil)
        let parts = token.split(separator: ".")
        #expect(signer.verify(String(parts[0]) + "x." + parts[1]) == nil)
        #expect(signer.verify("garbage") == nil)
        // A tracking token made with the same secret is not a confirmation.
        let tracking = TrackingSigner(secret: "s3cret").sign(TrackingToken(kind: .unsubscribe, messageID: UUID(), tenantID: UUID(), recipient: "a@example.com"))
        #expect(signer.verify(tracking) == nil)
    }
}
