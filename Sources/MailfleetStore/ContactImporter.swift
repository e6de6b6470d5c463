import Foundation
import MailfleetCore

/// One import run: bytes in (in chunks of any size, as a request body or a file arrives),
/// rows parsed and written in batches of `batchSize`, so memory stays flat however long the
/// file. The import's record is made only once the file has passed its file-level checks
/// (a CSV header with an email column; UTF-8), so a refused file writes nothing.
public struct ContactImporter: Sendable {
    /// Rows per statement: large enough to amortise the round trip, small enough that a
    /// batch's arrays stay a few hundred kilobytes.
    public static let batchSize = 2000

    /// Why an import could not run.
    public enum Failure: Error, Sendable, Equatable {
        /// The tenant has no such list.
        case noList
        /// The file as a whole is unusable; nothing was written.
        case file(ContactFileError)
    }

    let store: ContactImportStore
    let tenantID: UUID
    let listID: UUID
    let actor: String
    let doubleOptIn: Bool
    let batchSize: Int
    private var parser: ContactFileParser
    private var batch = ContactBatch()
    /// The import's record with its counts so far; nil until the first batch is written.
    public private(set) var record: ContactImport?

    /// Prepares an import of a `format` file into a list; throws `Failure.noList` when the tenant has no such list.
    public init(store: ContactImportStore, tenantID: UUID, listID: UUID, format: ContactFileFormat, actor: String, batchSize: Int = ContactImporter.batchSize) async throws {
        guard let doubleOptIn = try await store.doubleOptIn(tenantID: tenantID, listID: listID) else { throw Failure.noList }
        self.store = store
        self.tenantID = tenantID
        self.listID = listID
        self.actor = actor
        self.doubleOptIn = doubleOptIn
        self.batchSize = batchSize
        parser = ContactFileParser(format: format)
    }

    /// Reads `bytes`, writing every batch they fill; returns the record when a batch was written.
    @discardableResult
    public mutating func feed(_ bytes: some Collection<UInt8>) async throws -> ContactImport? {
        let lines: [ContactLine]
        do {
            lines = try parser.feed(bytes)
        } catch {
            throw Failure.file(error)
        }
        var wrote = false
        for line in lines {
            batch.add(line)
            if batch.rowsRead >= batchSize {
                try await flush()
                wrote = true
            }
        }
        return wrote ? record : nil
    }

    /// Ends the file: writes the last batch and marks the import completed.
    public mutating func finish() async throws -> ContactImport {
        let lines: [ContactLine]
        do {
            lines = try parser.finish()
        } catch {
            throw Failure.file(error)
        }
        for line in lines { batch.add(line) }
        try await flush()
        guard let record else { throw Failure.noList }
        guard let ended = try await store.end(importID: record.id, tenantID: tenantID, state: .completed) else { throw Failure.noList }
        self.record = ended
        return ended
    }

    /// Marks a begun import interrupted (its input broke off); best effort.
    public func abandon() async {
        guard let record else { return }
        _ = try? await store.end(importID: record.id, tenantID: tenantID, state: .interrupted)
    }

    private mutating func flush() async throws {
        if record == nil {
            guard let begun = try await store.begin(tenantID: tenantID, listID: listID, format: parser.format, actor: actor) else { throw Failure.noList }
            record = begun
        }
        guard let current = record, batch.rowsRead > 0 else { return }
        record = try await store.write(batch, importID: current.id, tenantID: tenantID, listID: listID, doubleOptIn: doubleOptIn)
        batch = ContactBatch()
    }
}
