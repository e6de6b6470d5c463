import Foundation

/// A `POST /v1/messages` body: one message, or `{"messages": [...]}`. Each item decodes on its
/// own, so one bad item in a batch fails only itself.
public enum SubmissionBody: Decodable, Sendable {
    /// One message.
    case single(SubmissionItem)
    /// `{"messages": [...]}`.
    case batch([SubmissionItem])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        if container.contains(AnyCodingKey(stringValue: "messages")) {
            if let extra = container.allKeys.first(where: { $0.stringValue != "messages" }) {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: [extra], debugDescription: "unknown field: a batch body holds only \"messages\""))
            }
            var items: [SubmissionItem] = []
            var array = try container.nestedUnkeyedContainer(forKey: AnyCodingKey(stringValue: "messages"))
            while !array.isAtEnd {
                items.append(try array.decode(SubmissionItem.self))
            }
            self = .batch(items)
        } else {
            self = .single(SubmissionItem(from: decoder))
        }
    }
}

extension SubmissionBody {
    /// The common case, parsed without `Decodable`: a valid single message or a batch of
    /// valid ones (`MessageSubmission.init(plainJSON:)`). Nil means "decode the usual way",
    /// which also gives each item's precise error; a request is never judged by this path alone.
    public static func plain(_ body: Data) -> SubmissionBody? {
        guard case .object(let root)? = try? JSONReader.parse(body) else { return nil }
        if let messages = root["messages"] {
            guard root.count == 1, case .array(let items) = messages else { return nil }
            var submissions: [SubmissionItem] = []
            submissions.reserveCapacity(items.count)
            for item in items {
                guard let submission = MessageSubmission(plainJSON: item) else { return nil }
                submissions.append(SubmissionItem(result: .success(submission)))
            }
            return .batch(submissions)
        }
        guard let submission = MessageSubmission(plainJSON: .object(root)) else { return nil }
        return .single(SubmissionItem(result: .success(submission)))
    }
}

/// One decoded item, or why it could not be decoded.
public struct SubmissionItem: Decodable, Sendable {
    /// The submission, or why it could not be decoded.
    public let result: Result<MessageSubmission, FieldError>

    /// Wraps a decoded (or failed) item.
    public init(result: Result<MessageSubmission, FieldError>) {
        self.result = result
    }

    public init(from decoder: any Decoder) {
        let base = decoder.codingPath.count
        do {
            let keys = try decoder.container(keyedBy: AnyCodingKey.self).allKeys
            if let unknown = keys.first(where: { !MessageSubmission.knownFields.contains($0.stringValue) }) {
                result = .failure(FieldError(code: "unknown_field", field: unknown.stringValue, message: "unknown field \(unknown.stringValue)"))
                return
            }
            result = .success(try MessageSubmission(from: decoder))
        } catch let error as DecodingError {
            result = .failure(FieldError(decoding: error, droppingPrefix: base))
        } catch {
            result = .failure(FieldError(code: "invalid", field: nil, message: "\(error)"))
        }
    }
}
