import Foundation
import Hummingbird
import MailfleetCore

/// A campaign as the API answers it; `stats` only on `GET /v1/campaigns/{id}`.
struct CampaignView: ResponseEncodable, Equatable {
    /// How far expansion got.
    struct Progress: Encodable, Equatable {
        /// Messages made.
        var expanded: Int
        /// Recipients counted when it started (every one made, once done); absent before it starts.
        var recipientsTotal: Int?
        /// Recipients whose message could not be made.
        var skipped: Int
        /// Percent of the recipients expanded (0 to 100), when the total is known.
        var percent: Double?

        enum CodingKeys: String, CodingKey {
            case expanded, skipped, percent
            case recipientsTotal = "recipients_total"
        }
    }

    var id: String
    var name: String
    var state: String
    var listID: String
    var segmentID: String?
    var templateID: String?
    var templateVersion: Int?
    var subject: String
    var from: String
    var replyTo: String?
    var sendAt: String?
    var localSendAt: String?
    var timeZone: String?
    var recipientLocalTime: Bool
    var perHour: Int?
    var trackOpens: Bool
    var trackClicks: Bool
    var progress: Progress
    var stats: CampaignStats?
    /// An A/B test's variants, its settings and, once decided, the winner's name.
    var variants: [CampaignVariant]?
    var abTest: ABTest?
    var abWinner: String?
    var lastError: String?
    var createdAt: String
    var updatedAt: String
    var startedAt: String?
    var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, state, subject, from, progress, stats, variants
        case abTest = "ab_test"
        case abWinner = "ab_winner"
        case listID = "list_id"
        case segmentID = "segment_id"
        case templateID = "template_id"
        case templateVersion = "template_version"
        case replyTo = "reply_to"
        case sendAt = "send_at"
        case localSendAt = "local_send_at"
        case timeZone = "time_zone"
        case recipientLocalTime = "recipient_local_time"
        case perHour = "per_hour"
        case trackOpens = "track_opens"
        case trackClicks = "track_clicks"
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// The view of a campaign, with its stats when given.
    init(_ campaign: Campaign, stats: CampaignStats? = nil) {
        id = campaign.id.lowercasedString
        name = campaign.name
        state = campaign.state.rawValue
        listID = campaign.listID.lowercasedString
        segmentID = campaign.segmentID?.lowercasedString
        templateID = campaign.templateID?.lowercasedString
        templateVersion = campaign.templateVersion
        subject = campaign.template.subject
        from = campaign.from.description
        replyTo = campaign.replyTo?.description
        sendAt = campaign.schedule.sendAt.map(ISO8601.format)
        localSendAt = campaign.schedule.localTime?.text
        timeZone = campaign.schedule.timeZone
        recipientLocalTime = campaign.schedule.perRecipient
        perHour = campaign.perHour
        trackOpens = campaign.trackOpens
        trackClicks = campaign.trackClicks
        let percent = campaign.recipientsTotal.map { total in
            total == 0 ? 100 : (Double(min(campaign.expanded + campaign.skipped, total)) * 1000 / Double(total)).rounded() / 10
        }
        progress = Progress(expanded: campaign.expanded, recipientsTotal: campaign.recipientsTotal, skipped: campaign.skipped, percent: percent)
        self.stats = stats
        if campaign.isABTest {
            variants = campaign.variants
            abTest = campaign.abTest
            abWinner = campaign.abDecision?.winnerName
        }
        lastError = campaign.lastError
        createdAt = ISO8601.format(campaign.createdAt)
        updatedAt = ISO8601.format(campaign.updatedAt)
        startedAt = campaign.startedAt.map(ISO8601.format)
        finishedAt = campaign.finishedAt.map(ISO8601.format)
    }
}

/// A page of `GET /v1/campaigns`, newest first; `next` (absent on the last page) is the `after`
/// of the next.
struct CampaignPage: ResponseEncodable, Equatable {
    var campaigns: [CampaignView]
    var next: String?
}

/// `GET /v1/campaigns/{id}/ab`: the A/B test's report (`ABTestReport`, also the CLI's `--json`).
struct ABTestReportView: ResponseEncodable {
    var report: ABTestReport

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
    }
}
