import Foundation
import MailfleetCore

/// The body of `POST /v1/lists` and `PATCH /v1/lists/{id}` (every field optional on `PATCH`).
struct ContactListBody: Decodable {
    let name: String?
    let doubleOptIn: Bool?

    enum CodingKeys: String, CodingKey { case name, doubleOptIn = "double_opt_in" }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["name", "double_opt_in"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        doubleOptIn = try c.decodeIfPresent(Bool.self, forKey: .doubleOptIn)
    }
}

/// The body of `POST /v1/contacts` and `POST /v1/lists/{id}/members`: an address with optional
/// attributes and time zone (and, for members, a status). `checked()` applies `ContactFields`.
struct ContactBody: Decodable {
    let email: String
    let attributes: [String: JSONValue]
    let timeZone: String?
    let status: MembershipStatus?

    enum CodingKeys: String, CodingKey { case email, attributes, timeZone = "time_zone", status }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["email", "attributes", "time_zone", "status"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        email = try c.decode(String.self, forKey: .email)
        attributes = try c.decodeIfPresent([String: JSONValue].self, forKey: .attributes) ?? [:]
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        status = try c.decodeIfPresent(MembershipStatus.self, forKey: .status)
    }

    /// The stored address, attributes and time zone, or the first field that is refused (422).
    func checked() throws(APIError) -> (email: String, attributes: [String: JSONValue], timeZone: String?) {
        do {
            return (try ContactFields.address(email), try ContactFields.attributes(attributes), try ContactFields.timeZone(timeZone))
        } catch {
            throw APIError.invalid(error)
        }
    }
}

/// The body of `PATCH /v1/contacts/{id}`: attributes merged (null removes one), time zone
/// replaced (null clears it).
struct ContactChangeBody: Decodable {
    let attributes: [String: JSONValue]?
    let timeZone: String??

    enum CodingKeys: String, CodingKey { case attributes, timeZone = "time_zone" }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["attributes", "time_zone"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        attributes = try c.decodeIfPresent([String: JSONValue].self, forKey: .attributes)
        if c.contains(.timeZone) {
            timeZone = .some(try c.decodeNil(forKey: .timeZone) ? nil : try c.decode(String.self, forKey: .timeZone))
        } else {
            timeZone = nil
        }
    }
}

/// The body of `PATCH /v1/lists/{id}/members/{contact_id}`.
struct MemberStatusBody: Decodable {
    let status: MembershipStatus

    enum CodingKeys: String, CodingKey { case status }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["status"])
        status = try decoder.container(keyedBy: CodingKeys.self).decode(MembershipStatus.self, forKey: .status)
    }
}
