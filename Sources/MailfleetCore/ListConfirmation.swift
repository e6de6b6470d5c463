import Crypto
import Foundation

/// What a double opt-in confirmation link stands for: one contact on one list, until a time
/// (docs/CAMPAIGNS.md "Double opt-in").
public struct ListConfirmation: Sendable, Equatable, Codable {
    /// How long a link works.
    public static let lifetime: TimeInterval = 7 * 86_400

    /// The tenant.
    public var tenantID: UUID
    /// The list.
    public var listID: UUID
    /// The contact to confirm.
    public var contactID: UUID
    // Whole seconds since 1970, so the token stays short.
    private var expires: Int64

    /// A confirmation that expires `lifetime` after `now`.
    public init(tenantID: UUID, listID: UUID, contactID: UUID, now: Date = Date()) {
        self.tenantID = tenantID
        self.listID = listID
        self.contactID = contactID
        expires = Int64((now.timeIntervalSince1970 + Self.lifetime).rounded(.down))
    }

    /// When the link stops working.
    public var expiresAt: Date { Date(timeIntervalSince1970: Double(expires)) }

    enum CodingKeys: String, CodingKey { case tenantID = "t", listID = "l", contactID = "c", expires = "e" }
}

/// Signs and verifies confirmation links with HMAC-SHA256 in the tracking tokens' form,
/// `base64url(payload).base64url(mac)`, under a key derived from the tracking secret: one
/// secret to manage, and no tracking token can pass as a confirmation or the reverse.
public struct ListConfirmationSigner: Sendable {
    private let key: SymmetricKey

    /// A signer from the fleet's tracking secret.
    public init(secret: String) {
        let derived = HMAC<SHA256>.authenticationCode(for: Data("mailfleet list confirmation".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        key = SymmetricKey(data: Data(derived))
    }

    /// The URL-safe signed form.
    public func sign(_ confirmation: ListConfirmation) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = Base64URL.encode((try? encoder.encode(confirmation)) ?? Data())
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Base64URL.encode(Data(mac))
    }

    /// The confirmation a signed string stands for (expired or not), or nil when it is malformed or forged.
    public func verify(_ signed: String) -> ListConfirmation? {
        let parts = signed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64URL.decode(String(parts[1])), let payload = Base64URL.decode(String(parts[0])) else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: key) else { return nil }
        return try? JSONDecoder().decode(ListConfirmation.self, from: payload)
    }

    /// The link under the tracker's public URL: `{tracker}/confirm/{token}`.
    public func url(trackerURL: String, _ confirmation: ListConfirmation) -> String {
        (trackerURL.hasSuffix("/") ? String(trackerURL.dropLast()) : trackerURL) + "/confirm/" + sign(confirmation)
    }
}
