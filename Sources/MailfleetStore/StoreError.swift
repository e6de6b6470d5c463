import Foundation
import MailfleetCore

/// Storage errors that are not Postgres's own.
public enum StoreError: Error, CustomStringConvertible {
    /// An idempotency key vanished between conflict and read (expired mid-request).
    case idempotencyRace(String)
    /// A message names a body that is not stored (never expected: both are written in one
    /// transaction).
    case missingBody(messageID: UUID)

    public var description: String {
        switch self {
        case .idempotencyRace(let key): return "idempotency key \(key) changed while the request ran; retry it"
        case .missingBody(let id): return "message \(id.lowercasedString) names a body that is not stored"
        }
    }
}
