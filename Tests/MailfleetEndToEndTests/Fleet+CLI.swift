import Foundation

/// What one run of the admin CLI left: its exit status and both outputs.
struct CLIRun {
    let status: Int32
    let stdout: String
    let stderr: String
}

extension Fleet {
    /// Runs the admin CLI with `--json` added and returns the JSON document it printed.
    func cliJSON(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try cli(arguments + ["--json"]).utf8))
    }

    /// Runs the admin CLI with `--json` added and returns the array of objects it printed.
    func cliRows(_ arguments: [String]) throws -> [[String: Any]] {
        guard let rows = try cliJSON(arguments) as? [[String: Any]] else { throw FleetError("mailfleet \(arguments) --json printed no array") }
        return rows
    }

    /// Runs the admin CLI and returns how it ended, failure included.
    func cliRun(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(binDir)/mailfleet")
        process.arguments = arguments
        process.environment = baseEnvironment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read to the end before waiting; the CLI's outputs are small.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
