import Foundation

/// Reads `MAILFLEET_*` environment variables with defaults that work for local runs.
public enum Env {
    /// A string variable, or the fallback when unset or empty.
    public static func string(_ name: String, _ fallback: String) -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return fallback }
        return value
    }

    /// An integer variable, or the fallback when unset or not a number.
    public static func int(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? fallback
    }

    /// Local defaults shared by every executable and script.
    public enum Defaults {
        /// Postgres started by `./ops/run`.
        public static let databaseURL = "postgres://postgres@127.0.0.1:15432/mailfleet"
        /// Redis started by `./ops/run`.
        public static let redisURL = "redis://127.0.0.1:16379/0"
        /// Queue partitions.
        public static let partitions = 8
        /// Tracking token secret for local runs (set MAILFLEET_TRACKING_SECRET in production).
        public static let trackingSecret = "mailfleet-dev-tracking-secret"
    }
}
