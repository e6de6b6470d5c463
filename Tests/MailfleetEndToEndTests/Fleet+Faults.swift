import Foundation
import MailfleetHTTPClient

/// What the fault tests need of a fleet beyond the delivery tests: more simulators and
/// accounts, the simulators' per-message records, metrics and ids in Postgres.
extension Fleet {
    /// Starts another simulator process under `key` (a second provider); returns its URL.
    func startSimulator(_ key: String) async throws -> String {
        "http://127.0.0.1:\(try await launch(key, "mailfleet-sim", [:]))"
    }

    /// Adds a SendGrid-shaped account named `name` at `endpoint` to the fleet's tenant chain.
    func addSendGridAccount(name: String, endpoint: String, priority: Int) throws {
        let secretFile = stateDir + "/sendgrid-\(name).key"
        try "SG.e2e-test-key".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try cli([
            "providers", "add", "--tenant", tenantID, "--name", name, "--kind", "sendgrid", "--endpoint", endpoint,
            "--priority", "\(priority)", "--secret-file", secretFile,
        ])
    }

    /// First acceptance time (seconds since 1970) of every message the simulator at `url` (the
    /// fleet's own by default) took, by lowercased message id.
    func simArrivals(at url: String? = nil) async throws -> [String: Double] {
        let response = try await http.execute(HTTPRequest(url: (url ?? simURL) + "/_arrivals"))
        let object = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Double]) ?? [:]
        return Dictionary(object.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
    }

    /// The Prometheus exposition of the process listening on `port`.
    func metrics(port: Int) async throws -> String {
        try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics", timeout: .seconds(2))).bodyString
    }

    /// Ids of the messages in Postgres with `status`.
    func ids(status: String) async throws -> Set<String> {
        Set(try await pool.query("SELECT id::text AS id FROM messages WHERE status = $1", [status]).map { try $0.string("id").lowercased() })
    }
}
