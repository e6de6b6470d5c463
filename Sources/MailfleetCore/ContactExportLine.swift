import Foundation

/// A list member as one line of an export: the CSV columns `email,status,time_zone` then one
/// column per attribute named in the header (asked for up front, as CSV needs), or one NDJSON
/// object in the shape an NDJSON import reads back (plus `status`).
public enum ContactExportLine {
    /// The attribute columns a CSV export can have, of the attribute names its members use:
    /// an import compares header names ignoring case and refuses a header naming one twice, so
    /// a name equal (ignoring case) to `email`, `status` or `time_zone`, or to a name kept
    /// before it, is left out; the file then imports. NDJSON carries every attribute.
    public static func csvColumns(_ attributeNames: [String]) -> [String] {
        var taken: Set<String> = ["email", "status", "time_zone"]
        return attributeNames.filter { taken.insert($0.lowercased()).inserted }
    }

    /// The CSV header row.
    public static func csvHeader(attributes: [String]) -> String {
        (["email", "status", "time_zone"] + attributes).map(csvField).joined(separator: ",") + "\r\n"
    }

    /// One member as a CSV row: attributes that are not strings are written as JSON.
    public static func csv(email: String, status: MembershipStatus, timeZone: String?, attributes: [String: JSONValue], columns: [String]) -> String {
        let values = [email, status.rawValue, timeZone ?? ""] + columns.map { name in
            switch attributes[name] {
            case nil, .null?: return ""
            case .string(let text)?: return text
            case let value?: return (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? ""
            }
        }
        return values.map(csvField).joined(separator: ",") + "\r\n"
    }

    /// One member as an NDJSON line.
    public static func ndjson(email: String, status: MembershipStatus, timeZone: String?, attributes: [String: JSONValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Line(email: email, status: status.rawValue, timeZone: timeZone, attributes: attributes)
        return ((try? String(decoding: encoder.encode(line), as: UTF8.self)) ?? "{}") + "\n"
    }

    /// A field quoted when it must be (RFC 4180): commas, quotes, line breaks, edge spaces.
    public static func csvField(_ text: String) -> String {
        // By scalar: "\r\n" is one Character in Swift, equal to neither "\r" nor "\n".
        let special = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        let needsQuotes = special || text.first == " " || text.last == " "
        return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    private struct Line: Encodable {
        var email: String
        var status: String
        var timeZone: String?
        var attributes: [String: JSONValue]

        enum CodingKeys: String, CodingKey { case email, status, timeZone = "time_zone", attributes }
    }
}
