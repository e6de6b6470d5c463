import Foundation
import MailfleetCore
import MailfleetProviderFormats
import MailfleetRuntime

/// Writes each message as an RFC 5322 `.eml` file into a folder: the provider for local runs.
/// Files appear atomically (written under a temporary name, then renamed), named by message id.
public struct OutboxProvider: EmailProvider {
    private let directory: URL
    private let builder: MIMEBuilder
    // File writes block; they run on a thread of our own, never on the cooperative pool.
    private let thread: DedicatedThread

    /// Creates an outbox writing into `directory` (created if missing).
    public init(directory: String, builder: MIMEBuilder = MIMEBuilder(), thread: DedicatedThread) {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        self.builder = builder
        self.thread = thread
    }

    /// Writes every message of the batch.
    public func send(_ batch: ProviderBatch) async -> BatchOutcome {
        let directory = self.directory
        let builder = self.builder
        let files = batch.messages.map { (id: $0.message.id, text: builder.build($0)) }
        do {
            return try await thread.run {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                var outcomes: [UUID: DeliveryOutcome] = [:]
                for file in files {
                    let name = "\(file.id.lowercasedString).eml"
                    let temporary = directory.appendingPathComponent(".\(name).tmp")
                    let final = directory.appendingPathComponent(name)
                    do {
                        try Data(file.text.utf8).write(to: temporary)
                        if rename(temporary.path, final.path) != 0 { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
                        outcomes[file.id] = .accepted(providerMessageID: name)
                    } catch {
                        outcomes[file.id] = .retryable(reason: "outbox write failed: \(error)", retryAfter: nil)
                    }
                }
                return BatchOutcome(outcomes: outcomes, status: 0)
            }
        } catch {
            return .all(batch, .retryable(reason: "outbox unavailable: \(error)", retryAfter: nil), accountFailure: "\(error)", status: 0)
        }
    }
}
