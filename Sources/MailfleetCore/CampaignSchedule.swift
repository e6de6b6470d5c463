import Foundation

/// When a campaign's messages go out: at once, at one instant, or at one wall-clock time in
/// each recipient's own time zone. Each message gets its own `send_at`, so the scheduled-send
/// path delivers it; the runner only decides when expansion begins (`firstRunAt`).
public struct CampaignSchedule: Sendable, Hashable {
    /// The campaign's send time as an instant (nil: at once). For a local time, that time in
    /// the campaign's zone.
    public var sendAt: Date?
    /// The wall-clock time given, when it was given without an offset.
    public var localTime: LocalDateTime?
    /// The campaign's IANA time zone: where a local time is read, and each recipient's zone
    /// when the contact has none (or one that is not a zone).
    public var timeZone: String?
    /// Whether each recipient gets the local time in their own zone.
    public var perRecipient: Bool

    /// The latest zone offset in use (Kiribati, UTC+14): the first place a wall time arrives.
    public static let earliestOffsetSeconds = 14 * 3600

    /// Creates a schedule from its stored parts.
    public init(sendAt: Date?, localTime: LocalDateTime?, timeZone: String?, perRecipient: Bool) {
        self.sendAt = sendAt
        self.localTime = localTime
        self.timeZone = timeZone
        self.perRecipient = perRecipient
    }

    /// Reads the API's fields: `send_at` as RFC 3339 with an offset, or as a local time
    /// (`2026-03-01T09:00:00`) with `time_zone`; `recipient_local_time` needs the local form.
    public static func parse(sendAt text: String?, timeZone zoneName: String?, perRecipient: Bool) throws(FieldError) -> CampaignSchedule {
        var zone: TimeZone?
        if let zoneName {
            guard let found = TimeZone(identifier: zoneName), zoneName.contains("/") || zoneName == "UTC" else {
                throw FieldError(code: "invalid_value", field: "time_zone", message: "time_zone must be an IANA time zone such as Europe/Berlin")
            }
            zone = found
        }
        guard let text else {
            if perRecipient {
                throw FieldError(code: "invalid_value", field: "send_at", message: "recipient_local_time needs send_at as a local time (2026-03-01T09:00:00) and time_zone")
            }
            return CampaignSchedule(sendAt: nil, localTime: nil, timeZone: zoneName, perRecipient: false)
        }
        if let local = LocalDateTime(text) {
            guard let zone else {
                throw FieldError(code: "invalid_value", field: "time_zone", message: "a send_at without an offset needs time_zone")
            }
            return CampaignSchedule(sendAt: local.date(in: zone), localTime: local, timeZone: zoneName, perRecipient: perRecipient)
        }
        guard let instant = ISO8601.parse(text) else {
            throw FieldError(
                code: "invalid_value", field: "send_at",
                message: "send_at must be RFC 3339 with an offset (2026-03-01T09:00:00+01:00) or a local time (2026-03-01T09:00:00) with time_zone")
        }
        if perRecipient {
            throw FieldError(code: "invalid_value", field: "send_at", message: "recipient_local_time needs send_at as a local time (2026-03-01T09:00:00), without an offset")
        }
        return CampaignSchedule(sendAt: instant, localTime: nil, timeZone: zoneName, perRecipient: false)
    }

    /// When expansion may begin (nil: at once): the send time, or for per-recipient local time
    /// the moment that wall time first arrives anywhere (UTC+14), so no recipient's message is
    /// made after its time.
    public var firstRunAt: Date? {
        if perRecipient, let localTime { return Date(timeIntervalSince1970: localTime.utcSeconds - Double(Self.earliestOffsetSeconds)) }
        return sendAt
    }

    /// The `send_at` of one recipient's message: nil (at once) when the time has passed,
    /// else the campaign's time, or with per-recipient local time the wall time in the
    /// contact's zone (the campaign's when the contact has none or it is not a zone).
    public func sendAt(contactTimeZone: String?, now: Date) -> Date? {
        var at = sendAt
        if perRecipient, let localTime {
            let zone = contactTimeZone.flatMap(TimeZone.init(identifier:)) ?? timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            at = localTime.date(in: zone)
        }
        guard let at, at > now else { return nil }
        return at
    }
}
