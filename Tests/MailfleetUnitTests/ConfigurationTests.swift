import Foundation
import MailfleetConfiguration
import Testing

@Suite struct ConfigurationTests {
    static let settings = Settings.catalogue

    /// README's configuration table: variable -> its flag, default and meaning (backticks dropped
    /// from the first three).
    static func readmeTable() throws -> [String: (flag: String, defaultText: String, summary: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Configuration\n").dropFirst().first)
            .components(separatedBy: "\n## ").first ?? ""
        var rows: [String: (flag: String, defaultText: String, summary: String)] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `MAILFLEET_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(cells.count == 4, "a configuration row has four cells: \(line)")
            let unquoted = cells.map { $0.replacingOccurrences(of: "`", with: "") }
            #expect(rows[unquoted[0]] == nil, "\(unquoted[0]) appears twice in README")
            rows[unquoted[0]] = (unquoted[1], unquoted[2], cells[3])
        }
        return rows
    }

    @Test func readmeConfigurationTableMatchesTheSettings() throws {
        let rows = try Self.readmeTable()
        let all = Settings.all
        #expect(all.count >= 20)
        for setting in all {
            let row = "| `\(setting.variable)` | `\(setting.flag)` | `\(setting.defaultText)` | \(setting.summary) |"
            guard let found = rows[setting.variable] else {
                Issue.record("README's configuration table lacks \(setting.variable); add: \(row)")
                continue
            }
            #expect(found.flag == setting.flag, "README gives \(setting.variable) the flag \(found.flag); the code: \(row)")
            #expect(found.defaultText == setting.defaultText, "README gives \(setting.variable) the default \(found.defaultText); the code: \(row)")
            #expect(found.summary == setting.summary, "README's meaning of \(setting.variable) differs from the code's: \(row)")
        }
        let known = Set(all.map(\.variable))
        for variable in rows.keys where !known.contains(variable) {
            Issue.record("README's configuration table names \(variable), which no process reads")
        }
    }

    /// ops/run starts the fleet where the defaults point, so the executables and the admin CLI
    /// reach it with no settings at all.
    @Test func opsRunUsesTheSameDefaults() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("ops/run"), encoding: .utf8)
        var scriptDefaults: [String: String] = [:]
        for match in script.matches(of: /\$\{(MAILFLEET_[A-Z_]+):-([0-9A-Za-z.\/:@_-]+)\}/) {
            scriptDefaults[String(match.1)] = String(match.2)
        }
        let ports = Set(["MAILFLEET_API_PORT", "MAILFLEET_TRACKER_PORT", "MAILFLEET_SIM_PORT", "MAILFLEET_SCHEDULER_PORT"])
        for setting in Settings.all where ports.contains(setting.variable) {
            #expect(scriptDefaults[setting.variable] == setting.defaultText, "ops/run's default for \(setting.variable)")
        }
        let database = try #require(URLComponents(string: Self.settings.databaseURL.defaultValue))
        let redis = try #require(URLComponents(string: Self.settings.redisURL.defaultValue))
        #expect(scriptDefaults["MAILFLEET_PG_PORT"] == database.port.map(String.init))
        #expect(scriptDefaults["MAILFLEET_REDIS_PORT"] == redis.port.map(String.init))
    }

    @Test func everyVariableIsNamedOnceAndPrefixed() {
        let variables = Settings.all.map(\.variable)
        #expect(Set(variables).count == variables.count)
        #expect(variables.allSatisfy { $0.hasPrefix("MAILFLEET_") })
        #expect(Settings.all.allSatisfy { $0.flag.hasPrefix("--") })
    }

    @Test func theFlagWinsOverTheVariableWhichWinsOverTheDefault() throws {
        let partitions = Self.settings.partitions
        #expect(try partitions.value(flag: nil, environment: [:]) == 8)
        #expect(try partitions.value(flag: nil, environment: ["MAILFLEET_PARTITIONS": ""]) == 8)
        #expect(try partitions.value(flag: nil, environment: ["MAILFLEET_PARTITIONS": "4"]) == 4)
        #expect(try partitions.value(flag: "2", environment: ["MAILFLEET_PARTITIONS": "4"]) == 2)
        #expect(try Self.settings.logLevel.value(flag: nil, environment: ["MAILFLEET_LOG_LEVEL": "debug"]) == .debug)
        #expect(try Self.settings.leaseSeconds.value(flag: nil, environment: ["MAILFLEET_LEASE_SECONDS": "0.5"]) == 0.5)
    }

    @Test(arguments: [
        ("MAILFLEET_PARTITIONS", "abc"), ("MAILFLEET_PARTITIONS", "0"), ("MAILFLEET_WORKER_LANES", "-3"),
        ("MAILFLEET_API_PORT", "70000"), ("MAILFLEET_DATABASE_URL", "localhost:5432/mailfleet"),
        ("MAILFLEET_REDIS_URL", "postgres://127.0.0.1/0"), ("MAILFLEET_TRACKER_URL", "http://"),
        ("MAILFLEET_LEASE_SECONDS", "-1"), ("MAILFLEET_RECONCILE_EVERY_SECONDS", "nan"), ("MAILFLEET_LOG_LEVEL", "loud"),
    ])
    func aBadValueIsRefusedNamingItsVariable(variable: String, text: String) throws {
        let setting = try #require(Settings.all.first { $0.variable == variable })
        let error = try #require(throws: ConfigurationError.self) { try setting.check(environment: [variable: text]) }
        #expect(error.description.hasPrefix("\(variable)=\(text): expected "))
    }

    @Test func aRefusedURLDoesNotShowItsPassword() throws {
        let setting = try #require(Settings.all.first { $0.variable == "MAILFLEET_REDIS_URL" })
        let error = try #require(throws: ConfigurationError.self) {
            try setting.check(environment: ["MAILFLEET_REDIS_URL": "rediss://default:s3cret@cache.internal:6380/0"])
        }
        #expect(error.description.hasPrefix("MAILFLEET_REDIS_URL=rediss://default:***@cache.internal:6380/0: expected "))
        #expect(!error.description.contains("s3cret"))
    }

    @Test func aBadFlagIsRefusedNamingTheFlag() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try Self.settings.partitions.value(flag: "many", environment: ["MAILFLEET_PARTITIONS": "4"])
        }
        #expect(error.description == "--partitions many: expected a whole number of at least 1")
    }

    @Test func optionGroupsRefuseBadFlagsWhenParsed() {
        #expect(throws: (any Error).self) { try WorkerOptions.parse(["--lanes", "-1"]) }
        #expect(throws: (any Error).self) { try APIOptions.parse(["--database-url", "not a url"]) }
        #expect(throws: (any Error).self) { try SchedulerOptions.parse(["--reconcile-every-seconds", "0"]) }
    }

    @Test func optionGroupsTakeTheirFlags() throws {
        let options = try WorkerOptions.parse(["--lanes", "2", "--partitions", "3", "--redis-url", "redis://10.0.0.1:6380/2"])
        #expect(try options.lanes == 2)
        #expect(try options.queue.partitions == 3)
        #expect(try options.queue.redisURL == "redis://10.0.0.1:6380/2")
    }
}
