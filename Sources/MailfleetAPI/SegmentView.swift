import Foundation
import Hummingbird
import MailfleetCore

/// A segment as the API answers it.
struct SegmentView: ResponseEncodable, Equatable {
    var id: String
    var name: String
    var filter: SegmentFilter
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey { case id, name, filter, createdAt = "created_at", updatedAt = "updated_at" }

    init(_ segment: Segment) {
        id = segment.id.lowercasedString
        name = segment.name
        filter = segment.filter
        createdAt = ISO8601.format(segment.createdAt)
        updatedAt = ISO8601.format(segment.updatedAt)
    }
}

/// A page of segments in name order; `next` continues after the last.
struct SegmentPage: ResponseEncodable, Equatable {
    var segments: [SegmentView]
    var next: String?
}

/// Who a filter matches: how many, and the first addresses in address order.
struct SegmentCountView: ResponseEncodable, Equatable {
    var count: Int
    var sample: [String]
}
