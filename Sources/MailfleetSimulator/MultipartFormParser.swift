import Foundation

/// Reads the text fields of a `multipart/form-data` body (RFC 7578), enough for the simulator
/// to check what a Mailgun client sent.
enum MultipartFormParser {
    /// The boundary named by a Content-Type header, if it is multipart/form-data.
    static func boundary(contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == "boundary" { return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }

    /// The fields in order; nil when the body is not well formed.
    static func parse(_ body: Data, boundary: String) -> [(name: String, value: String)]? {
        let delimiter = Data("--\(boundary)".utf8)
        let crlf = Data("\r\n".utf8)
        let headerEnd = Data("\r\n\r\n".utf8)
        var fields: [(name: String, value: String)] = []
        guard var cursor = body.range(of: delimiter)?.upperBound else { return nil }
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body[cursor...].starts(with: Data("--".utf8)) { return fields }
            guard body[cursor...].starts(with: crlf) else { return nil }
            let partStart = cursor + 2
            guard let next = body.range(of: Data("\r\n--\(boundary)".utf8), in: partStart..<body.endIndex) else { return nil }
            let part = body[partStart..<next.lowerBound]
            guard let split = part.range(of: headerEnd) else { return nil }
            let headers = String(decoding: part[part.startIndex..<split.lowerBound], as: UTF8.self)
            let value = String(decoding: part[split.upperBound...], as: UTF8.self)
            guard let name = fieldName(headers) else { return nil }
            fields.append((name, value))
            cursor = next.upperBound
        }
    }

    private static func fieldName(_ headers: String) -> String? {
        for line in headers.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            guard let range = line.range(of: "name=\"") else { return nil }
            let rest = line[range.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            return String(rest[..<end])
        }
        return nil
    }
}
