import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviderFormats
import MailfleetProviders
import Testing
#if canImport(Glibc)
import Glibc
#endif


/// A `mailfleet-sim` process of its own, for calling provider adapters directly. It keeps every
/// per-message record unless told `record` (counters, arrivals or all).
final class SimulatorProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let http: HTTPClient
    var url: String { "http://127.0.0.1:\(port)" }

    init(record: String = "all") async throws {
        var env = ProcessInfo.processInfo.environment
        env["MAILFLEET_SIM_RECORD"] = record
        guard let bin = env["MAILFLEET_BIN_DIR"] else { throw FleetError("MAILFLEET_BIN_DIR is not set: run ./ops/test") }
        let http = HTTPClient(name: "sim-test-http")
        let logPath = (env["MAILFLEET_TEST_STATE"] ?? NSTemporaryDirectory()) + "/sim-\(UUID().uuidString.prefix(8)).log"
        do {
            (process, port) = try await ListeningProcess.start(
                executable: "\(bin)/mailfleet-sim", environment: env, logPath: logPath, http: http)
        } catch {
            http.shutdown()
            throw error
        }
        self.http = http
    }

    func control(_ json: String) async throws {
        _ = try await http.execute(HTTPRequest(method: "POST", url: url + "/_control", headers: [HTTPHeader("Content-Type", "application/json")], body: Array(json.utf8)))
    }

    func stats() async throws -> [String: Any] {
        let r = try await http.execute(HTTPRequest(url: url + "/_stats"))
        return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:]
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        http.shutdown()
    }
}

func batch(_ kind: ProviderKind, endpoint: String, secret: String?, config: [String: String] = [:], to: [String]) -> ProviderBatch {
    let account = ProviderAccount(id: UUID(), tenantID: UUID(), name: "sim", kind: kind, endpoint: endpoint, priority: 1, secret: secret, config: config)
    let messages = to.map { address -> RenderedMessage in
        let content = MessageContent(
            from: try! EmailAddress(email: "sender@example.com"), to: [try! EmailAddress(email: address)], subject: "Hi", text: "Hello",
            metadata: ["who": address])
        let message = Message(id: UUID(), tenantID: account.tenantID, priority: .bulk, status: .sending, content: content)
        return RenderedMessage(message: message, htmlTemplate: nil, textTemplate: "Hello")
    }
    return ProviderBatch(account: account, messages: messages)
}

/// SES messages of one campaign body: tracking placeholders, each with its own subject and metadata.
func sesCampaign(endpoint: String, to: [String], subjects: [String]? = nil) -> ProviderBatch {
    let account = ProviderAccount(id: UUID(), tenantID: UUID(), name: "sim", kind: .ses, endpoint: endpoint, priority: 1, secret: "AKID:secret", config: ["configuration_set": "cs"])
    let html = "<p><a href=\"[[mf:click:0]]\">read</a></p>[[mf:open]]"
    let messages = to.enumerated().map { index, address -> RenderedMessage in
        let content = MessageContent(
            from: try! EmailAddress(email: "news@example.com", name: "News"), to: [try! EmailAddress(email: address)],
            subject: subjects?[index] ?? "Hello \(address)", text: "Read: [[mf:click:0]]", html: html, headers: ["X-Campaign": "spring"],
            metadata: ["n": "\(index)"])
        let message = Message(id: UUID(), tenantID: account.tenantID, priority: .bulk, status: .sending, content: content)
        return RenderedMessage(
            message: message, htmlTemplate: html, textTemplate: "Read: [[mf:click:0]]",
            substitutions: ["[[mf:click:0]]": "https://t.example.com/c/\(address)", "[[mf:open]]": "https://t.example.com/o/\(address).gif"])
    }
    return ProviderBatch(account: account, messages: messages)
}
