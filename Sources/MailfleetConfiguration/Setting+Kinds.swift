import Foundation
import Logging
import MailfleetCore

extension Setting where Value == String {
    /// Any text that is not empty.
    static func text(_ variable: String, flag: String, default value: String, _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: "a value that is not empty",
            parse: { $0.isEmpty ? nil : $0 }, format: { $0 })
    }

    /// A URL with one of `schemes` and a host.
    static func url(_ variable: String, flag: String, default value: String, schemes: [String], _ summary: String) -> Setting {
        let names = schemes.map { "\($0)://" }.joined(separator: " or ")
        return Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: "a URL starting \(names) with a host",
            parse: { text in
                guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
                      schemes.contains(scheme), let host = components.host, !host.isEmpty else { return nil }
                return text
            },
            format: { $0 })
    }

    /// One of `choices`, as written (e.g. a level name).
    static func choice(_ variable: String, flag: String, default value: String, among choices: [String], _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: "one of " + choices.joined(separator: ", "),
            parse: { choices.contains($0) ? $0 : nil }, format: { $0 })
    }

    /// A secret: shown in `--help` and the README as what it is, never as its value.
    static func secret(_ variable: String, flag: String, default value: String, described: String, _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: "a value that is not empty",
            parse: { $0.isEmpty ? nil : $0 }, format: { _ in described })
    }
}

extension Setting where Value == Int {
    /// A whole number in `range`.
    static func number(_ variable: String, flag: String, default value: Int, in range: ClosedRange<Int>, _ summary: String) -> Setting {
        let expectation = range.upperBound == Int.max
            ? "a whole number of at least \(range.lowerBound)" : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        return Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: expectation,
            parse: { Int($0).flatMap { range.contains($0) ? $0 : nil } }, format: { String($0) })
    }

    /// A TCP port to listen on (0 lets the system choose).
    static func port(_ variable: String, flag: String, default value: Int, _ summary: String) -> Setting {
        number(variable, flag: flag, default: value, in: 0...65_535, summary)
    }
}

extension Setting where Value == Double {
    /// A number of seconds greater than zero (fractions allowed).
    static func seconds(_ variable: String, flag: String, default value: Double, _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: "a number of seconds greater than 0",
            parse: { Double($0).flatMap { $0.isFinite && $0 > 0 ? $0 : nil } },
            format: { $0 == $0.rounded() ? String(Int($0)) : String($0) })
    }
}

extension Setting where Value == Logger.Level {
    /// A swift-log level name.
    static func logLevel(_ variable: String, flag: String, default value: Logger.Level, _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary,
            expectation: "one of " + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "),
            parse: { Logger.Level(rawValue: $0) }, format: { $0.rawValue })
    }
}

extension Setting where Value == Bool {
    /// A yes-or-no switch: true, false, yes, no, on, off, 1 or 0 (any case).
    static func switched(_ variable: String, flag: String, default value: Bool, _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: "true or false",
            parse: { text in
                switch text.lowercased() {
                case "true", "yes", "on", "1": return true
                case "false", "no", "off", "0": return false
                default: return nil
                }
            },
            format: { $0 ? "true" : "false" })
    }
}

extension Setting where Value == [IPNetwork] {
    /// Comma-separated networks in CIDR form ("10.0.0.0/8,fd00::/8"); a bare address is a
    /// network of one address. Empty means none.
    static func networks(_ variable: String, flag: String, _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: [], summary: summary,
            expectation: "comma-separated networks in CIDR form, e.g. 10.0.0.0/8,fd00::/8",
            parse: { text in
                var networks: [IPNetwork] = []
                for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
                    let trimmed = entry.trimmingCharacters(in: .whitespaces)
                    guard let network = IPNetwork(trimmed) else { return nil }
                    networks.append(network)
                }
                return networks
            },
            format: { $0.isEmpty ? "none" : $0.map(\.description).joined(separator: ",") })
    }
}

extension Setting where Value == [Double] {
    /// A comma-separated list of seconds, each greater than 0 (fractions allowed).
    static func secondsList(_ variable: String, flag: String, default value: [Double], _ summary: String) -> Setting {
        Setting(
            variable: variable, flag: flag, defaultValue: value, summary: summary, expectation: "comma-separated seconds, each greater than 0",
            parse: { text in
                let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                let values = parts.compactMap(Double.init).filter { $0.isFinite && $0 > 0 }
                return values.count == parts.count && !values.isEmpty ? values : nil
            },
            format: { $0.map { $0 == $0.rounded() ? String(Int($0)) : String($0) }.joined(separator: ",") })
    }
}
