import Crypto
import Foundation

/// AWS Signature Version 4 for a request with its whole body in hand. Pure: the date is an
/// argument, so the signer is tested against AWS's published test-suite signatures.
public struct SigV4Signer: Sendable {
    /// The access key id.
    public var accessKeyID: String
    /// The secret access key. Never logged.
    public var secretAccessKey: String
    /// A session token of temporary credentials, sent as `X-Amz-Security-Token`.
    public var sessionToken: String?
    /// The region, e.g. `us-east-1`.
    public var region: String
    /// The signing name of the service, e.g. `ses`.
    public var service: String

    /// Creates a signer.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// A signed request's intermediate texts (for tests and debugging) and headers to send.
    public struct Signature: Sendable, Equatable {
        /// The canonical request.
        public var canonicalRequest: String
        /// The string to sign.
        public var stringToSign: String
        /// The hex signature.
        public var signature: String
        /// The `Authorization` header value.
        public var authorization: String
        /// Headers the request must carry besides the caller's: `X-Amz-Date`, `Authorization`
        /// and, with temporary credentials, `X-Amz-Security-Token`.
        public var headers: [(name: String, value: String)]

        public static func == (lhs: Signature, rhs: Signature) -> Bool {
            lhs.authorization == rhs.authorization && lhs.canonicalRequest == rhs.canonicalRequest
        }
    }

    /// Signs a request. `headers` are those the caller sends (Host is taken from the URL when
    /// absent); every one of them is signed.
    public func sign(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8], date: Date) -> Signature {
        let components = URLComponents(string: url)
        let amzDate = Self.format(date, "yyyyMMdd'T'HHmmss'Z'")
        let day = String(amzDate.prefix(8))

        var all = headers
        if !all.contains(where: { $0.name.lowercased() == "host" }), let host = components?.host {
            let port = components?.port.map { ":\($0)" } ?? ""
            all.append(("Host", host + port))
        }
        all.removeAll { $0.name.lowercased() == "x-amz-date" }
        all.append(("X-Amz-Date", amzDate))
        if let sessionToken { all.append(("X-Amz-Security-Token", sessionToken)) }

        // Lowercased names, sorted; repeated names join their values with commas; values
        // trimmed with inner runs of spaces collapsed.
        var grouped: [String: [String]] = [:]
        for (name, value) in all { grouped[name.lowercased(), default: []].append(Self.collapse(value)) }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let canonicalRequest = [
            method.uppercased(),
            Self.canonicalPath(components?.percentEncodedPath ?? "/"),
            Self.canonicalQuery(components?.percentEncodedQuery),
            canonicalHeaders,
            signedHeaders,
            Self.hex(SHA256.hash(data: body)),
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(separator: "\n")

        var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        var extra: [(name: String, value: String)] = [("X-Amz-Date", amzDate), ("Authorization", authorization)]
        if let sessionToken { extra.append(("X-Amz-Security-Token", sessionToken)) }
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, authorization: authorization, headers: extra)
    }

    /// The path with dot segments removed and each segment encoded once (RFC 3986 unreserved
    /// characters kept), as every service but S3 expects.
    static func canonicalPath(_ encodedPath: String) -> String {
        var segments: [String] = []
        let raw = encodedPath.isEmpty ? "/" : encodedPath
        let parts = raw.split(separator: "/", omittingEmptySubsequences: true)
        for part in parts {
            let segment = String(part).removingPercentEncoding ?? String(part)
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(encode(segment))
        }
        var path = "/" + segments.joined(separator: "/")
        if raw.hasSuffix("/") && !segments.isEmpty { path += "/" }
        return path
    }

    /// Query parameters encoded and sorted by name, then value.
    static func canonicalQuery(_ encodedQuery: String?) -> String {
        guard let encodedQuery, !encodedQuery.isEmpty else { return "" }
        let pairs = encodedQuery.split(separator: "&").map { item -> (String, String) in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
            return (encode(name), encode(value))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters, with uppercase hex.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    private static func collapse(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    private static func format(_ date: Date, _ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }
}
