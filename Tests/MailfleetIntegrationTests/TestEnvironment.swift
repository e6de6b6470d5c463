import Foundation
import MailfleetPostgres

/// URLs of the test servers that `./ops/test` starts; a missing one fails the test (never skips it).
enum TestEnvironment {
    /// Thrown when a required variable is not set, telling the reader how to run the tests.
    struct MissingVariable: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not set: run ./ops/test" }
    }

    /// The Postgres URL from MAILFLEET_TEST_DATABASE_URL.
    static func databaseURL() throws -> String {
        try value(of: "MAILFLEET_TEST_DATABASE_URL")
    }

    /// The Redis URL from MAILFLEET_TEST_REDIS_URL.
    static func redisURL() throws -> String {
        try value(of: "MAILFLEET_TEST_REDIS_URL")
    }

    /// The admin Postgres URL (database `postgres`) from MAILFLEET_TEST_ADMIN_DATABASE_URL.
    static func adminDatabaseURL() throws -> String {
        try value(of: "MAILFLEET_TEST_ADMIN_DATABASE_URL")
    }

    /// A new, empty database for one test; returns its URL.
    static func freshDatabase() async throws -> String {
        let admin = try adminDatabaseURL()
        let name = "mf_it_\(UUID().uuidString.prefix(8).lowercased())"
        let pool = PostgresPool(url: admin, size: 1, name: "it-admin")
        try await pool.query("CREATE DATABASE \(name)")
        await pool.shutdown()
        return String(admin[..<admin.lastIndex(of: "/")!]) + "/\(name)"
    }

    private static func value(of name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw MissingVariable(name: name)
        }
        return value
    }
}
