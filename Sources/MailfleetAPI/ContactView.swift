import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// A contact as the API answers it (with its memberships where the route reads them).
struct ContactView: ResponseEncodable, Equatable {
    var id: String
    var email: String
    var attributes: [String: JSONValue]
    var timeZone: String?
    var lists: [MembershipView]?
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, email, attributes, lists
        case timeZone = "time_zone", createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ contact: Contact, memberships: [Membership]? = nil) {
        id = contact.id.lowercasedString
        email = contact.email
        attributes = contact.attributes
        timeZone = contact.timeZone
        lists = memberships?.map(MembershipView.init)
        createdAt = ISO8601.format(contact.createdAt)
        updatedAt = ISO8601.format(contact.updatedAt)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(email, forKey: .email)
        try c.encode(attributes, forKey: .attributes)
        // Always present, null when unset, so clients need not tell "absent" from "none".
        try c.encode(timeZone, forKey: .timeZone)
        try c.encodeIfPresent(lists, forKey: .lists)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// One of a contact's lists.
struct MembershipView: Codable, Equatable {
    var listID: String
    var name: String
    var status: String

    enum CodingKeys: String, CodingKey { case listID = "list_id", name, status }

    init(_ membership: Membership) {
        listID = membership.listID.lowercasedString
        name = membership.listName
        status = membership.status.rawValue
    }
}

/// A page of `GET /v1/contacts`; `next` (absent on the last page) is the `after` of the next.
struct ContactPage: ResponseEncodable, Equatable {
    var contacts: [ContactView]
    var next: String?
}

/// A list member as the API answers it; `confirm_url` only when it is pending and the API
/// knows the tracker's address (the link the tenant puts in its confirmation mail).
struct ListMemberView: ResponseEncodable, Equatable {
    var listID: String
    var contact: ContactView
    var status: String
    var subscribedAt: String?
    var unsubscribedAt: String?
    var createdAt: String
    var confirmURL: String?

    enum CodingKeys: String, CodingKey {
        case listID = "list_id", contact, status, subscribedAt = "subscribed_at", unsubscribedAt = "unsubscribed_at", createdAt = "created_at"
        case confirmURL = "confirm_url"
    }

    init(_ member: ListMember, confirmURL: String? = nil) {
        listID = member.listID.lowercasedString
        contact = ContactView(member.contact)
        status = member.status.rawValue
        subscribedAt = member.subscribedAt.map(ISO8601.format)
        unsubscribedAt = member.unsubscribedAt.map(ISO8601.format)
        createdAt = ISO8601.format(member.createdAt)
        self.confirmURL = member.status == .pending ? confirmURL : nil
    }
}

/// A page of `GET /v1/lists/{id}/members`.
struct ListMemberPage: ResponseEncodable, Equatable {
    var members: [ListMemberView]
    var next: String?
}

/// A contact list as the API answers it.
struct ContactListView: ResponseEncodable, Equatable {
    var id: String
    var name: String
    var doubleOptIn: Bool
    var members: MemberCounts
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, members
        case doubleOptIn = "double_opt_in", createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ list: ContactList) {
        id = list.id.lowercasedString
        name = list.name
        doubleOptIn = list.doubleOptIn
        members = list.counts
        createdAt = ISO8601.format(list.createdAt)
        updatedAt = ISO8601.format(list.updatedAt)
    }
}

/// A page of `GET /v1/lists`.
struct ContactListPage: ResponseEncodable, Equatable {
    var lists: [ContactListView]
    var next: String?
}

/// An import as the API answers it.
struct ContactImportView: ResponseEncodable, Equatable {
    var id: String
    var listID: String
    var format: String
    var state: String
    var counts: ContactImportCounts
    var createdAt: String
    var updatedAt: String
    var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, format, state, counts
        case listID = "list_id", createdAt = "created_at", updatedAt = "updated_at", finishedAt = "finished_at"
    }

    init(_ record: ContactImport) {
        id = record.id.lowercasedString
        listID = record.listID.lowercasedString
        format = record.format.rawValue
        state = record.state.rawValue
        counts = record.counts
        createdAt = ISO8601.format(record.createdAt)
        updatedAt = ISO8601.format(record.updatedAt)
        finishedAt = record.finishedAt.map(ISO8601.format)
    }
}

/// `GET /v1/lists/{id}/imports`.
struct ContactImportList: ResponseEncodable, Equatable {
    var imports: [ContactImportView]
}

/// A page of `GET /v1/imports/{id}/errors`: refused rows by line.
struct ContactImportErrorPage: ResponseEncodable, Equatable {
    struct Row: Codable, Equatable {
        var line: Int
        var reason: String
    }

    var errors: [Row]
    var next: String?
}
