import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// A suppression as the API answers it.
struct SuppressionView: ResponseEncodable, Equatable {
    var email: String
    var reason: String
    var createdAt: String

    enum CodingKeys: String, CodingKey {
        case email, reason
        case createdAt = "created_at"
    }

    init(_ suppression: Suppression) {
        email = suppression.email
        reason = suppression.reason
        createdAt = ISO8601.format(suppression.createdAt)
    }
}

/// A page of `GET /v1/suppressions`; `next` (absent on the last page) is the `after` of the next.
struct SuppressionPage: ResponseEncodable, Equatable {
    var suppressions: [SuppressionView]
    var next: String?
}
