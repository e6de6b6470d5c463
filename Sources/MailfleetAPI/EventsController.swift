import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `GET /v1/events`: a page of the key's own tenant's events, newest first. Needs `read`.
/// `type` narrows it to some event types (comma-separated), `since` and `until` (RFC 3339) to
/// a time range, `limit` sizes it (1 to 1,000, default 100), `after` continues from a previous
/// page's `next`.
struct EventsController: Sendable {
    let store: MessageStore

    /// Adds the route to the `/v1` group.
    func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("events") { request, context in try await self.list(request, context: context) }
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> EventPage {
        let key = try context.key(for: .read)
        let query = request.uri.queryParameters
        let limit = try PageLimit.read(query.get("limit"), default: 100)
        var types: [EventType] = []
        if let text = query.get("type") {
            for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let type = EventType(rawValue: String(name)) else {
                    throw APIError.invalidParameter("type", "type is one or more of \(EventType.allCases.map(\.rawValue).joined(separator: ", ")), comma-separated")
                }
                types.append(type)
            }
        }
        let since = try Self.time(query.get("since"), "since")
        let until = try Self.time(query.get("until"), "until")
        var cursor: EventCursor?
        if let text = query.get("after") {
            guard let value = EventCursor(text: text) else { throw APIError.invalidParameter("after", "after must be the next of a previous page") }
            cursor = value
        }
        let page = try await database { try await store.events(tenantID: key.tenantID, types: types, since: since, until: until, after: cursor, limit: limit) }
        return EventPage(events: page.map(EventPage.Item.init), next: page.count == limit ? page.last?.cursor.text : nil)
    }

    static func time(_ text: String?, _ name: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = ISO8601.parse(text) else { throw APIError.invalidParameter(name, "\(name) must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z") }
        return date
    }
}

/// A page of `GET /v1/events`, newest first; `next` (absent on the last page) is the `after` of the next.
struct EventPage: ResponseEncodable, Equatable {
    /// One event with its message.
    struct Item: Encodable, Equatable {
        var id: String
        var messageID: String
        var type: String
        var at: String
        /// The event's stored detail (a JSON object).
        var detail: JSONValue

        enum CodingKeys: String, CodingKey {
            case id, type, at, detail
            case messageID = "message_id"
        }

        init(_ event: ListedEvent) {
            id = String(event.id)
            messageID = event.messageID.lowercasedString
            type = event.type
            at = ISO8601.format(event.occurredAt)
            // Details are JSON the store wrote; one that does not parse is shown empty, not fatal.
            detail = (try? JSONReader.parse(event.detail)) ?? .object([:])
        }
    }

    var events: [Item]
    var next: String?
}
