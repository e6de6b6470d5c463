/// A reply from Redis (RESP2).
public enum RedisValue: Sendable, Equatable {
    /// A nil bulk string or nil array (e.g. GET of a missing key).
    case null
    /// A bulk string, decoded as UTF-8 (invalid bytes become U+FFFD).
    case string(String)
    /// An integer reply.
    case integer(Int)
    /// A multi-bulk reply.
    case array([RedisValue])
    /// A simple status reply such as `OK` or `PONG`.
    case status(String)
    /// An error reply (only seen as a value in pipelines; single commands throw it).
    case error(String)

    /// The text of a bulk string or status reply.
    public var string: String? {
        switch self {
        case .string(let text), .status(let text): return text
        default: return nil
        }
    }

    /// An integer reply, or a bulk string that parses as an integer (GET of a counter).
    public var int: Int? {
        switch self {
        case .integer(let value): return value
        case .string(let text): return Int(text)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
