import Crypto
import _CryptoExtras
import Foundation
import X509

/// The RSA public key of an SNS signing certificate (PEM, as SNS serves it at `SigningCertURL`).
public struct SNSSigningCertificate: Sendable {
    let publicKey: _RSA.Signing.PublicKey

    /// Reads a PEM certificate whose key is RSA.
    public init(pem: String) throws(WebhookRejection) {
        guard let certificate = try? Certificate(pemEncoded: pem) else {
            throw WebhookRejection(.malformed, "the signing certificate is not a PEM X.509 certificate")
        }
        guard let key = _RSA.Signing.PublicKey(certificate.publicKey) else {
            throw WebhookRejection(.malformed, "the signing certificate's key is not RSA")
        }
        self.publicKey = key
    }

    /// Uses a bare RSA public key (for a certificate already read elsewhere).
    public init(publicKey: _RSA.Signing.PublicKey) {
        self.publicKey = publicKey
    }

    /// True when `signature` is the PKCS#1 v1.5 signature of `text` with SHA-1 (version 1) or SHA-256 (version 2).
    func isValidSignature(_ signature: [UInt8], over text: String, version: String) -> Bool {
        let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
        let data = Data(text.utf8)
        switch version {
        case "1": return publicKey.isValidSignature(rsa, for: Insecure.SHA1.hash(data: data), padding: .insecurePKCS1v1_5)
        case "2": return publicKey.isValidSignature(rsa, for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
        default: return false
        }
    }
}
