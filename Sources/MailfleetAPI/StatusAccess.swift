import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// Who may see the status page: whoever presents the operator credential
/// (`MAILFLEET_STATUS_TOKEN`), as the password of HTTP basic auth (any user name, so a browser
/// prompts for it) or as a bearer token. Tenant API keys are never enough.
struct StatusAccess: Sendable {
    /// The operator credential.
    private let token: String

    /// Access for `token`.
    init(token: String) {
        self.token = token
    }

    /// Throws 401 (with the challenge that makes a browser prompt) unless the request carries
    /// the credential.
    func check(_ request: Request) throws {
        guard allows(authorization: request.headers[.authorization]) else {
            var error = APIError.unauthorized("the status page needs the operator credential: basic auth with it as the password, or Authorization: Bearer <it>")
            error.headers[.wwwAuthenticate] = #"Basic realm="mailfleet status", charset="UTF-8""#
            throw error
        }
    }

    /// True when `authorization` presents the credential.
    func allows(authorization: String?) -> Bool {
        guard let authorization, let presented = Self.credential(in: authorization) else { return false }
        return ConstantTime.equal(presented, token)
    }

    /// The credential an Authorization header presents: a bearer token, or a basic-auth password.
    static func credential(in header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer":
            return value
        case "basic":
            guard let decoded = Data(base64Encoded: value), let pair = String(data: decoded, encoding: .utf8),
                  let colon = pair.firstIndex(of: ":") else { return nil }
            return String(pair[pair.index(after: colon)...])
        default:
            return nil
        }
    }
}
