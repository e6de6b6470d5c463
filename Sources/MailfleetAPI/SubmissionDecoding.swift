import Foundation
import MailfleetCore

/// A `POST /v1/messages` body: one message, or `{"messages": [...]}`. Each item decodes on its
/// own, so one bad item in a batch fails only itself.
enum SubmissionBody: Decodable {
    case single(SubmissionItem)
    case batch([SubmissionItem])

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if container.contains(AnyKey("messages")) {
            if let extra = container.allKeys.first(where: { $0.stringValue != "messages" }) {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: [extra], debugDescription: "unknown field: a batch body holds only \"messages\""))
            }
            var items: [SubmissionItem] = []
            var array = try container.nestedUnkeyedContainer(forKey: AnyKey("messages"))
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
    static func plain(_ body: Data) -> SubmissionBody? {
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
struct SubmissionItem: Decodable {
    let result: Result<MessageSubmission, FieldError>

    init(result: Result<MessageSubmission, FieldError>) {
        self.result = result
    }

    init(from decoder: any Decoder) {
        let base = decoder.codingPath.count
        do {
            let keys = try decoder.container(keyedBy: AnyKey.self).allKeys
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
