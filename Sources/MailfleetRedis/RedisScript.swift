/// A Lua script run with EVALSHA; the client loads it and caches its SHA1 on first use.
public struct RedisScript: Sendable {
    /// The Lua source.
    public let source: String

    /// Wraps Lua source; nothing is sent until the script is first evaluated.
    public init(_ source: String) {
        self.source = source
    }
}
