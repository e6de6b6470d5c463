import Foundation

/// One message as a caller submits it to `POST /v1/messages`, before validation.
public struct MessageSubmission: Sendable, Decodable {
    /// The content fields.
    public var content: MessageContent
    /// The lane; defaults to transactional for single sends, bulk for batches.
    public var priority: Priority?
    /// When to send; absent or past means now.
    public var sendAt: Date?
    /// A stored template to render subject, text and html from (instead of giving them).
    public var templateID: UUID?
    /// The template's variables (a JSON object).
    public var variables: JSONValue?
    /// The tenant's own batch name, which `POST /v1/batches/{batch_id}/cancel` names (`BatchID`).
    public var batchID: String?

    enum CodingKeys: String, CodingKey {
        case priority
        case batchID = "batch_id"
        case sendAt = "send_at"
        case templateID = "template_id"
        case variables
    }

    /// Fields the API understands; anything else is refused so typos do not pass silently.
    public static let knownFields: Set<String> = [
        "from", "to", "cc", "bcc", "reply_to", "subject", "text", "html", "headers", "metadata",
        "tags", "track_opens", "track_clicks", "priority", "send_at", "template_id", "variables", "attachments", "batch_id",
    ]

    public init(from decoder: any Decoder) throws {
        content = try MessageContent(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        priority = try c.decodeIfPresent(Priority.self, forKey: .priority)
        if let text = try c.decodeIfPresent(String.self, forKey: .sendAt) {
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .sendAt, in: c, debugDescription: "send_at must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z")
            }
            sendAt = date
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .templateID) {
            guard let id = UUID(uuidString: text) else {
                throw DecodingError.dataCorruptedError(forKey: .templateID, in: c, debugDescription: "template_id must be a template id (a UUID)")
            }
            templateID = id
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .batchID) {
            guard BatchID.isValid(text) else { throw DecodingError.dataCorruptedError(forKey: .batchID, in: c, debugDescription: BatchID.rule) }
            batchID = text
        }
        variables = try c.decodeIfPresent(JSONValue.self, forKey: .variables)
        if let variables {
            guard case .object = variables else {
                throw DecodingError.dataCorruptedError(forKey: .variables, in: c, debugDescription: "variables must be a JSON object")
            }
            guard templateID != nil else {
                throw DecodingError.dataCorruptedError(forKey: .variables, in: c, debugDescription: "variables need a template_id")
            }
        }
        if templateID != nil, !content.subject.isEmpty || content.text != nil || content.html != nil {
            throw DecodingError.dataCorruptedError(
                forKey: .templateID, in: c, debugDescription: "give either template_id (and variables) or subject, text and html, not both")
        }
    }

    /// Replaces subject and bodies with a rendered template.
    public mutating func apply(_ rendered: RenderedTemplate) {
        content.subject = rendered.subject
        content.text = rendered.text
        content.html = rendered.html
    }

    /// Creates a submission directly (tests, CLI).
    public init(content: MessageContent, priority: Priority? = nil, sendAt: Date? = nil, batchID: String? = nil) {
        self.content = content
        self.priority = priority
        self.sendAt = sendAt
        self.batchID = batchID
    }

    /// Checks the rules JSON decoding cannot express; returns every problem found.
    public func validate(limits: MessageLimits = .init()) -> [FieldError] {
        var errors: [FieldError] = []
        let recipients = content.allRecipients.count
        if content.to.isEmpty { errors.append(.init(code: "missing_recipient", field: "to", message: "at least one recipient is required in to")) }
        if recipients > limits.maxRecipients {
            errors.append(.init(code: "too_many_recipients", field: "to", message: "at most \(limits.maxRecipients) recipients (to, cc and bcc together)"))
        }
        if content.subject.isEmpty { errors.append(.init(code: "missing_subject", field: "subject", message: "subject must not be empty")) }
        if content.subject.containsLineBreakOrNUL { errors.append(.init(code: "invalid_header_value", field: "subject", message: "subject must not contain CR, LF or NUL")) }
        if content.subject.utf8.count > limits.maxSubjectBytes {
            errors.append(.init(code: "too_large", field: "subject", message: "subject is longer than \(limits.maxSubjectBytes) bytes"))
        }
        if (content.text ?? "").isEmpty && (content.html ?? "").isEmpty {
            errors.append(.init(code: "missing_body", field: "text", message: "text or html is required"))
        }
        for (name, value) in content.headers.sorted(by: { $0.key < $1.key }) {
            let field = "headers.\(name)"
            if !HeaderRules.isValidName(name) {
                errors.append(.init(code: "invalid_header_name", field: field, message: "header names are printable ASCII without ':' or spaces"))
            } else if HeaderRules.isReserved(name) {
                errors.append(.init(code: "reserved_header", field: field, message: "\(name) is set by Mailfleet and cannot be given as a header"))
            }
            if value.containsLineBreakOrNUL {
                errors.append(.init(code: "invalid_header_value", field: field, message: "header values must not contain CR, LF or NUL"))
            }
        }
        // Bodies may hold line breaks but never NUL: it ends strings in C code downstream and
        // Postgres jsonb refuses it, which would fail every message sharing the commit.
        if content.text?.containsNUL == true { errors.append(.init(code: "invalid_value", field: "text", message: "text must not contain NUL")) }
        if content.html?.containsNUL == true { errors.append(.init(code: "invalid_value", field: "html", message: "html must not contain NUL")) }
        // Metadata and tags travel in provider headers and custom arguments: same rule as headers.
        for (key, value) in content.metadata.sorted(by: { $0.key < $1.key }) where key.isEmpty || key.containsLineBreakOrNUL || value.containsLineBreakOrNUL {
            errors.append(.init(code: "invalid_header_value", field: "metadata.\(key)", message: "metadata keys must be non-empty; keys and values must not contain CR, LF or NUL"))
        }
        for (index, tag) in content.tags.enumerated() where tag.isEmpty || tag.containsLineBreakOrNUL {
            errors.append(.init(code: "invalid_header_value", field: "tags[\(index)]", message: "tags must be non-empty and must not contain CR, LF or NUL"))
        }
        let size = content.estimatedSize
        if size > limits.maxMessageBytes {
            errors.append(.init(code: "too_large", field: nil, message: "message is \(size) bytes; the limit is \(limits.maxMessageBytes)"))
        }
        return errors
    }
}

/// Size limits applied when a message is accepted.
public struct MessageLimits: Sendable {
    /// Most recipients in to, cc and bcc together. Default 50.
    public var maxRecipients: Int = 50
    /// Longest subject in bytes. Default 998 (the RFC 5322 line limit).
    public var maxSubjectBytes: Int = 998
    /// Largest message (bodies, headers, metadata) in bytes. Default 10 MB.
    public var maxMessageBytes: Int = 10 * 1024 * 1024
    /// Creates the default limits.
    public init() {}
}

/// One problem with one field of a request.
public struct FieldError: Sendable, Equatable, Codable, Error {
    /// A stable machine-readable code, e.g. `invalid_address`.
    public var code: String
    /// The JSON path of the offending field, e.g. `to[2]`, or nil for the whole message.
    public var field: String?
    /// What is wrong, for a person.
    public var message: String

    /// Creates a field error.
    public init(code: String, field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }
}

/// Which headers a caller may set.
public enum HeaderRules {
    /// Headers Mailfleet writes itself; a caller setting them could forge or break the message.
    public static let reserved: Set<String> = [
        "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "sender", "return-path", "received",
        "dkim-signature", "list-unsubscribe", "list-unsubscribe-post",
    ]

    /// True for a header the caller may not set.
    public static func isReserved(_ name: String) -> Bool { reserved.contains(name.lowercased()) }

    /// RFC 5322 field names: printable ASCII except colon and space.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 76 && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != 58 }
    }
}

extension MessageContent {
    /// A size estimate in bytes: bodies, subject, headers, metadata, addresses.
    public var estimatedSize: Int {
        var size = subject.utf8.count + (text?.utf8.count ?? 0) + (html?.utf8.count ?? 0)
        for (k, v) in headers { size += k.utf8.count + v.utf8.count + 4 }
        for (k, v) in metadata { size += k.utf8.count + v.utf8.count + 4 }
        for a in allRecipients { size += a.email.utf8.count + (a.name?.utf8.count ?? 0) + 4 }
        return size
    }
}

extension MessageSubmission {
    /// The common, valid case read straight from a parsed JSON object: addresses, subject,
    /// bodies, headers, metadata, tags, tracking flags, priority and send_at. Nil for anything
    /// else (templates, attachments, nulls, unknown or mistyped fields, invalid addresses):
    /// the caller then decodes with `Decodable`, which says precisely what is wrong. For every
    /// input it accepts, the result equals what `init(from:)` gives.
    public init?(plainJSON value: JSONValue) {
        guard case .object(let fields) = value else { return nil }
        var priority: Priority?
        var sendAt: Date?
        var batchID: String?
        let content = MessageContent.read(fields, address: EmailAddress.init(submitted:), allowingNulls: false) { key, value in
            switch (key, value) {
            case ("priority", .string(let s)):
                priority = Priority(rawValue: s)
                return priority != nil
            case ("send_at", .string(let s)):
                sendAt = ISO8601.parse(s)
                return sendAt != nil
            case ("batch_id", .string(let s)):
                batchID = s
                return BatchID.isValid(s)
            default:
                return false
            }
        }
        guard let content else { return nil }
        self.init(content: content, priority: priority, sendAt: sendAt, batchID: batchID)
    }
}

extension EmailAddress {
    /// A submitted address (`"Name <a@b.c>"` or `{"email":…,"name":…}`), checked as
    /// `init(from:)` checks it; nil when it is anything else or invalid.
    init?(submitted value: JSONValue) {
        switch value {
        case .string(let text):
            guard let address = try? EmailAddress(parsing: text) else { return nil }
            self = address
        case .object(let fields):
            guard case .string(let email)? = fields["email"], fields.keys.allSatisfy({ $0 == "email" || $0 == "name" }) else { return nil }
            let name: String?
            switch fields["name"] {
            case nil: name = nil
            case .string(let s)?: name = s
            default: return nil
            }
            guard let address = try? EmailAddress(email: email, name: name) else { return nil }
            self = address
        default:
            return nil
        }
    }
}
