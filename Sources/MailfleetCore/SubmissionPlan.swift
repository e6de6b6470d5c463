import Foundation

/// What `POST /v1/messages` makes of a decoded request, decided without I/O: the messages to
/// store (templates rendered, limits checked, suppressed recipients dropped) and the answer.
///
/// The API runs it around its two lookups: `templateIDs(in:)` names the templates to fetch,
/// `init` renders and validates, `recipients` names the addresses to check against the
/// suppression list, `suppress(_:)` applies the list; then `messages` are committed and
/// `status` and `body` answered (and stored for idempotent replays).
public struct SubmissionPlan: Sendable {
    /// Whether the request was a batch (`{"messages": [...]}`) rather than one message.
    public let isBatch: Bool
    /// Per item, in request order: the message to store, or why the item failed.
    public private(set) var outcomes: [Result<Message, FieldError>]
    /// Per message id, the (normalised) recipients dropped because the tenant suppresses them.
    public private(set) var suppressedRecipients: [UUID: [String]] = [:]

    /// The templates the items name, each once (one lookup for the whole request).
    public static func templateIDs(in items: [Result<MessageSubmission, FieldError>]) -> Set<UUID> {
        Set(items.compactMap { (try? $0.get())?.templateID })
    }

    /// Renders the items that name a template, validates every item and makes its message.
    /// Rendering happens at accept time: the stored message is final, so later template edits
    /// or deletion never change mail already accepted, and render errors answer this request.
    /// - Parameters:
    ///   - templates: the latest version of each template in `templateIDs(in:)` the tenant has.
    ///   - newID: the id of each new message (time-ordered by default).
    public init(
        items: [Result<MessageSubmission, FieldError>], isBatch: Bool, tenantID: UUID, templates: [UUID: MessageTemplate],
        limits: MessageLimits, now: Date, newID: (Date) -> UUID = { UUID.timeOrdered(at: $0) }
    ) {
        self.isBatch = isBatch
        // Each template parsed once for the whole batch, on first use.
        var compiled: [UUID: Result<CompiledTemplate, TemplateError>] = [:]
        outcomes = items.map { item in
            let submission: MessageSubmission
            switch Self.rendered(item, templates: templates, compiled: &compiled) {
            case .failure(let problem): return .failure(problem)
            case .success(let rendered): submission = rendered
            }
            if let problem = submission.validate(limits: limits).first { return .failure(problem) }
            return .success(Message(
                id: newID(now), tenantID: tenantID, priority: submission.priority ?? (isBatch ? .bulk : .transactional), status: .queued,
                content: submission.content, sendAt: submission.sendAt.flatMap { $0 > now ? $0 : nil }, createdAt: now,
                batchID: submission.batchID))
        }
    }

    private static func rendered(
        _ item: Result<MessageSubmission, FieldError>, templates: [UUID: MessageTemplate], compiled: inout [UUID: Result<CompiledTemplate, TemplateError>]
    ) -> Result<MessageSubmission, FieldError> {
        guard case .success(var submission) = item, let id = submission.templateID else { return item }
        guard let template = templates[id] else {
            return .failure(FieldError(code: "template_not_found", field: "template_id", message: "no template \(id.lowercasedString)"))
        }
        if compiled[id] == nil {
            compiled[id] = Result { () throws(TemplateError) in try template.compiled() }
        }
        do {
            submission.apply(try compiled[id]!.get().render(variables: submission.variables ?? .object([:])))
            return .success(submission)
        } catch {
            return .failure(FieldError(code: "template_render_failed", field: "template_id", message: "\(error.field): \(error.message)"))
        }
    }

    /// Why a single-message request is refused; a batch's bad items fail alone, in its answer.
    public var refusal: FieldError? {
        guard !isBatch, case .failure(let problem)? = outcomes.first else { return nil }
        return problem
    }

    /// The messages to commit, in request order.
    public var messages: [Message] {
        outcomes.compactMap { try? $0.get() }
    }

    /// Every recipient of the messages (to, cc, bcc), each once, as `normalised` spells it.
    public func recipients(normalised: (EmailAddress) -> String) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for case .success(let message) in outcomes {
            for recipient in message.content.allRecipients where seen.insert(normalised(recipient)).inserted {
                out.append(normalised(recipient))
            }
        }
        return out
    }

    /// Enforces the tenant's suppression list (`suppressed`, spelled as `normalised` spells
    /// addresses): suppressed recipients are dropped from to, cc and bcc; a message left with
    /// nobody in `to` keeps its recipients and is stored as `suppressed`, never to be sent.
    public mutating func suppress(_ suppressed: Set<String>, normalised: (EmailAddress) -> String) {
        guard !suppressed.isEmpty else { return }
        let isSuppressed = { (address: EmailAddress) in suppressed.contains(normalised(address)) }
        for index in outcomes.indices {
            guard case .success(var message) = outcomes[index] else { continue }
            let removed = message.removeSuppressed(where: isSuppressed, normalised: normalised)
            guard !removed.recipients.isEmpty else { continue }
            suppressedRecipients[message.id] = removed.recipients
            if removed.wholeMessage { message.status = .suppressed }
            outcomes[index] = .success(message)
        }
    }

    /// The answer's HTTP status: 202, or 422 for a batch whose every item failed.
    public var status: Int {
        isBatch && !outcomes.contains(where: { (try? $0.get()) != nil }) ? 422 : 202
    }

    /// The answer: `{"id","status","suppressed_recipients"?}` for one message, or
    /// `{"accepted","rejected","messages":[{"index",...}]}` for a batch. Written with the byte
    /// writer because every submission answers it (profiles put Foundation's coders first there).
    public var body: String {
        var json = JSONBytes(capacity: isBatch ? 64 * outcomes.count : 96)
        if isBatch {
            json.beginObject()
            let accepted = outcomes.reduce(0) { count, outcome in (try? outcome.get()) == nil ? count : count + 1 }
            json.key("accepted")
            json.value(accepted)
            json.key("rejected")
            json.value(outcomes.count - accepted)
            json.key("messages")
            json.beginArray()
            for (index, outcome) in outcomes.enumerated() {
                json.beginObject()
                json.key("index")
                json.value(index)
                switch outcome {
                case .success(let message): writeAccepted(message, to: &json)
                case .failure(let problem):
                    json.key("error")
                    problem.write(to: &json)
                }
                json.endObject()
            }
            json.endArray()
            json.endObject()
        } else if case .success(let message)? = outcomes.first {
            json.beginObject()
            writeAccepted(message, to: &json)
            json.endObject()
        }
        return json.string
    }

    private func writeAccepted(_ message: Message, to json: inout JSONBytes) {
        json.key("id")
        json.value(message.id.lowercasedString)
        json.key("status")
        json.value(message.status.rawValue)
        if let dropped = suppressedRecipients[message.id] {
            json.key("suppressed_recipients")
            json.value(dropped)
        }
    }
}

extension FieldError {
    /// Writes `{"code","message","field"?}`, the inner object of an error answer.
    public func write(to json: inout JSONBytes) {
        json.beginObject()
        json.key("code")
        json.value(code)
        json.key("message")
        json.value(message)
        if let field {
            json.key("field")
            json.value(field)
        }
        json.endObject()
    }
}
