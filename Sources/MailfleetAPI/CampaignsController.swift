import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/campaigns`: create (a draft), list, get (with progress and stats), an A/B test's
/// report, and the commands start, pause, resume and cancel. Reads need the `read` scope; the
/// rest `send`.
public struct CampaignsController: Sendable {
    let store: CampaignStore
    let templates: TemplateStore
    /// Where a cancel's messages are dropped from the delayed sets (best effort).
    let queue: MessageQueue
    let limits: APILimits

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.post("campaigns") { request, context in try await self.create(request, context: context) }
        v1.get("campaigns") { request, context in try await self.list(request, context: context) }
        v1.get("campaigns/{id}") { request, context in try await self.show(request, context: context) }
        v1.get("campaigns/{id}/ab") { request, context in try await self.abReport(request, context: context) }
        for command in CampaignCommand.allCases {
            v1.post("campaigns/{id}/\(command.rawValue)") { request, context in try await self.apply(command, request, context: context) }
        }
    }

    func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<CampaignView> {
        let key = try context.key(for: .send)
        let body = try await request.decode(CampaignBody.self, limit: limits.maxSmallBodyBytes)
        if body.name.isEmpty || body.name.unicodeScalars.count > 200 || body.name.containsLineBreakOrNUL {
            throw APIError.invalid(FieldError(code: "invalid_value", field: "name", message: "name must be 1 to 200 characters on one line"))
        }
        let schedule: CampaignSchedule
        do {
            schedule = try CampaignSchedule.parse(sendAt: body.sendAt, timeZone: body.timeZone, perRecipient: body.recipientLocalTime ?? false)
        } catch {
            throw APIError.invalid(error)
        }
        var template: MessageTemplate
        // The parts and the version come from one read (one statement), so the campaign records
        // the version its parts are of even when the template gets a new version meanwhile.
        var version: Int?
        if let templateID = body.templateID {
            guard let record = try await database({ try await templates.get(tenantID: key.tenantID, id: templateID, version: body.templateVersion) }) else {
                throw APIError.invalid(FieldError(code: "template_not_found", field: "template_id", message: "no template \(templateID.lowercasedString) (at that version)"))
            }
            template = record.template
            version = record.version
            if let subject = body.subject { template.subject = subject }
        } else {
            template = MessageTemplate(subject: body.subject ?? "", text: body.text, html: body.html)
        }
        if let problem = template.validate().first { throw APIError.invalid(problem) }
        if template.subject.containsLineBreakOrNUL {
            throw APIError.invalid(FieldError(code: "invalid_header_value", field: "subject", message: "subject must not contain CR, LF or NUL"))
        }
        let variants = CampaignVariant.named(body.variants ?? [])
        switch (body.abTest, variants.isEmpty) {
        case (nil, false): throw APIError.invalid(FieldError(code: "invalid_value", field: "ab_test", message: "variants need ab_test"))
        case (.some, true): throw APIError.invalid(FieldError(code: "invalid_value", field: "variants", message: "ab_test needs 2 to 10 variants"))
        case (let test?, false):
            let tracking = (opens: body.trackOpens ?? false, clicks: body.trackClicks ?? false)
            if let problem = test.validate(variants: variants, base: template, trackOpens: tracking.opens, trackClicks: tracking.clicks) {
                throw APIError.invalid(problem)
            }
        case (nil, true): break
        }
        let campaign = Campaign(
            id: UUID(), tenantID: key.tenantID, name: body.name, listID: body.listID, segmentID: body.segmentID, templateID: body.templateID,
            templateVersion: version, template: template, from: body.from, replyTo: body.replyTo, trackOpens: body.trackOpens ?? false,
            trackClicks: body.trackClicks ?? false, schedule: schedule, perHour: body.perHour, variants: variants, abTest: body.abTest)
        do {
            let created = try await store.create(campaign, actor: "api:\(key.keyID)")
            return EditedResponse(status: .created, response: CampaignView(created))
        } catch CampaignStore.CreateRefusal.noList {
            throw APIError.invalid(FieldError(code: "list_not_found", field: "list_id", message: "no list \(body.listID.lowercasedString)"))
        } catch CampaignStore.CreateRefusal.noSegment {
            throw APIError.invalid(FieldError(code: "segment_not_found", field: "segment_id", message: "no segment \(body.segmentID?.lowercasedString ?? "")"))
        } catch {
            throw APIError.unavailable(cause: error)
        }
    }

    /// A page of the tenant's campaigns, newest first: `state` narrows it, `limit` sizes it (1 to
    /// 1,000, default 100), `after` continues from a previous page's `next`.
    func list(_ request: Request, context: APIRequestContext) async throws -> CampaignPage {
        let key = try context.key(for: .read)
        let query = request.uri.queryParameters
        let limit = try PageLimit.read(query.get("limit"), default: 100)
        var state: CampaignState?
        if let text = query.get("state") {
            guard let value = CampaignState(rawValue: text) else {
                throw APIError.invalidParameter("state", "state is one of \(CampaignState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = value
        }
        var after: UUID?
        if let text = query.get("after") {
            guard let value = UUID(uuidString: text) else { throw APIError.invalidParameter("after", "after must be the next of a previous page") }
            after = value
        }
        let page = try await database { try await store.list(tenantID: key.tenantID, state: state, after: after, limit: limit) }
        return CampaignPage(campaigns: page.map { CampaignView($0) }, next: page.count == limit ? page.last?.id.lowercasedString : nil)
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> CampaignView {
        let key = try context.key(for: .read)
        let id = try Self.campaignID(context)
        guard let campaign = try await database({ try await store.campaign(id: id, tenantID: key.tenantID) }) else { throw APIError.notFound("campaign") }
        let stats = try await database { try await store.stats(id: id, tenantID: key.tenantID) }
        return CampaignView(campaign, stats: stats)
    }

    /// `GET /v1/campaigns/{id}/ab`: the A/B test's counts, rates, intervals and comparisons as
    /// they stand, and its decision once taken; 409 `no_ab_test` for a campaign without one (the
    /// campaign exists: a 404 would say it did not).
    func abReport(_ request: Request, context: APIRequestContext) async throws -> ABTestReportView {
        let key = try context.key(for: .read)
        let id = try Self.campaignID(context)
        switch try await database({ try await store.abReport(id: id, tenantID: key.tenantID) }) {
        case .notFound: throw APIError.notFound("campaign")
        case .noTest: throw APIError(.conflict, code: "no_ab_test", message: "campaign \(id.lowercasedString) has no A/B test")
        case .report(let report): return ABTestReportView(report: report)
        }
    }

    /// Start, pause, resume or cancel: 200 with the campaign, 409 `invalid_state` when the
    /// command does not apply to its state, 404 for a campaign the tenant does not have.
    func apply(_ command: CampaignCommand, _ request: Request, context: APIRequestContext) async throws -> CampaignView {
        let key = try context.key(for: .send)
        let id = try Self.campaignID(context)
        switch try await database({ try await store.apply(command, id: id, tenantID: key.tenantID, actor: "api:\(key.keyID)") }) {
        case .notFound:
            throw APIError.notFound("campaign")
        case .refused(let refusal):
            throw APIError(.conflict, code: "invalid_state", message: refusal.message)
        case .applied(let campaign, let cancelled):
            if let cancelled, !cancelled.cancelled.isEmpty {
                do {
                    try await queue.forget(cancelled.cancelled)
                } catch {
                    // Workers drop cancelled entries when they reach them.
                    context.logger.warning("dropping a cancelled campaign's queue entries failed", metadata: ["error": "\(error)"])
                }
            }
            return CampaignView(campaign, stats: try await database { try await store.stats(id: id, tenantID: key.tenantID) })
        }
    }

    /// The `{id}` of the path; one that is not a UUID names no campaign.
    static func campaignID(_ context: APIRequestContext) throws(APIError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("campaign") }
        return id
    }
}

/// The body of `POST /v1/campaigns`.
struct CampaignBody: Decodable {
    let name: String
    let listID: UUID
    let segmentID: UUID?
    let templateID: UUID?
    let templateVersion: Int?
    let subject: String?
    let text: String?
    let html: String?
    let from: EmailAddress
    let replyTo: EmailAddress?
    let sendAt: String?
    let timeZone: String?
    let recipientLocalTime: Bool?
    let perHour: Int?
    let trackOpens: Bool?
    let trackClicks: Bool?
    let variants: [CampaignVariant]?
    let abTest: ABTest?

    enum CodingKeys: String, CodingKey {
        case name, subject, text, html, from
        case listID = "list_id"
        case segmentID = "segment_id"
        case templateID = "template_id"
        case templateVersion = "template_version"
        case replyTo = "reply_to"
        case sendAt = "send_at"
        case timeZone = "time_zone"
        case recipientLocalTime = "recipient_local_time"
        case perHour = "per_hour"
        case trackOpens = "track_opens"
        case trackClicks = "track_clicks"
        case variants
        case abTest = "ab_test"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownFields(known: [
            "name", "list_id", "segment_id", "template_id", "template_version", "subject", "text", "html", "from", "reply_to", "send_at",
            "time_zone", "recipient_local_time", "per_hour", "track_opens", "track_clicks", "variants", "ab_test",
        ])
        name = try c.decode(String.self, forKey: .name)
        listID = try Self.uuid(c, .listID, "list_id must be a list id (a UUID)")!
        segmentID = try Self.uuid(c, .segmentID, "segment_id must be a segment id (a UUID)")
        templateID = try Self.uuid(c, .templateID, "template_id must be a template id (a UUID)")
        templateVersion = try c.decodeIfPresent(Int.self, forKey: .templateVersion)
        if let templateVersion, templateVersion < 1 || templateVersion > Int(Int32.max) {
            throw DecodingError.dataCorruptedError(forKey: .templateVersion, in: c, debugDescription: "template_version must be a positive integer")
        }
        if templateVersion != nil, templateID == nil {
            throw DecodingError.dataCorruptedError(forKey: .templateVersion, in: c, debugDescription: "template_version needs a template_id")
        }
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        html = try c.decodeIfPresent(String.self, forKey: .html)
        if templateID != nil, text != nil || html != nil {
            throw DecodingError.dataCorruptedError(forKey: .templateID, in: c, debugDescription: "give either template_id or text and html, not both")
        }
        from = try c.decode(EmailAddress.self, forKey: .from)
        replyTo = try c.decodeIfPresent(EmailAddress.self, forKey: .replyTo)
        sendAt = try c.decodeIfPresent(String.self, forKey: .sendAt)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        recipientLocalTime = try c.decodeIfPresent(Bool.self, forKey: .recipientLocalTime)
        perHour = try c.decodeIfPresent(Int.self, forKey: .perHour)
        if let perHour, perHour < 1 || perHour > Campaign.maxPerHour {
            throw DecodingError.dataCorruptedError(forKey: .perHour, in: c, debugDescription: "per_hour must be 1 to \(Campaign.maxPerHour)")
        }
        trackOpens = try c.decodeIfPresent(Bool.self, forKey: .trackOpens)
        trackClicks = try c.decodeIfPresent(Bool.self, forKey: .trackClicks)
        variants = try c.decodeIfPresent([CampaignVariant].self, forKey: .variants)
        abTest = try c.decodeIfPresent(ABTest.self, forKey: .abTest)
    }

    private static func uuid(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, _ rule: String) throws -> UUID? {
        guard let text = try c.decodeIfPresent(String.self, forKey: key) else {
            if key == .listID { _ = try c.decode(String.self, forKey: key) }
            return nil
        }
        guard let id = UUID(uuidString: text) else { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: rule) }
        return id
    }
}
