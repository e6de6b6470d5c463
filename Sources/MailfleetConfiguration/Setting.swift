import ArgumentParser
import Foundation

/// One `MAILFLEET_*` setting: its environment variable, the flag that overrides it, its default,
/// and how a value is read and checked.
public struct Setting<Value: Sendable>: Sendable {
    /// The environment variable, e.g. `MAILFLEET_PARTITIONS`.
    public let variable: String
    /// The flag that overrides the variable, e.g. `--partitions`.
    public let flag: String
    /// The value when neither the flag nor the variable is given.
    public let defaultValue: Value
    /// What the setting means, for `--help` and the README.
    public let summary: String
    /// What a valid value looks like, for error messages.
    let expectation: String
    let parse: @Sendable (String) -> Value?
    let format: @Sendable (Value) -> String

    /// The default as it is written in the README and `--help`.
    public var defaultText: String { format(defaultValue) }

    /// The flag's text when given, else the variable's (when set and not empty), else the default.
    /// A value that does not parse is an error naming the flag or the variable it came from.
    public func value(flag text: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Value {
        if let text { return try read(text, from: flag) }
        if let text = environment[variable], !text.isEmpty { return try read(text, from: variable) }
        return defaultValue
    }

    /// `--help` text: the summary, the variable and the default.
    public var help: ArgumentHelp {
        ArgumentHelp("\(summary) (\(variable); default \(defaultText)).", valueName: String(flag.dropFirst(2)))
    }

    /// The flag's name as ArgumentParser spells it.
    public var name: NameSpecification { .customLong(String(flag.dropFirst(2))) }

    private func read(_ text: String, from source: String) throws -> Value {
        guard let value = parse(text) else {
            throw ConfigurationError(source: source, text: text, expectation: expectation)
        }
        return value
    }
}

/// Lets the catalogue and the README check treat settings of every value type alike.
public protocol DocumentedSetting: Sendable {
    /// The environment variable.
    var variable: String { get }
    /// The flag that overrides it.
    var flag: String { get }
    /// The default as written in the README.
    var defaultText: String { get }
    /// What the setting means.
    var summary: String { get }
    /// Throws the error a process would stop with if it read this setting from `environment`.
    func check(environment: [String: String]) throws
}

extension Setting: DocumentedSetting {
    public func check(environment: [String: String]) throws {
        _ = try value(flag: nil, environment: environment)
    }
}
