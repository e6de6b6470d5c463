import Foundation
import MailfleetCore
import MailfleetStore

extension SchedulerService {
    /// One retention pass (`RetentionStore.pass`): the coming days' partitions, the expired
    /// days dropped or held, the row deletes. Counted and logged; a failure is logged and the
    /// next pass tries again.
    func keepRetention() async {
        let pass: RetentionStore.Pass
        do {
            pass = try await retentionStore.pass(configuration.retention)
        } catch {
            logger.error("retention pass failed", metadata: ["error": "\(error)"])
            return
        }
        partitionsMade.increment(by: Int64(pass.made.count))
        partitionsDropped.increment(by: Int64(pass.dropped.count))
        partitionsHeld.set(Double(pass.held.count))
        retentionDeleted.increment(by: Int64(pass.deletedMessages + pass.deletedEvents))
        let days = { (list: [Date]) in list.map { MessageRetention.suffix(of: $0) }.joined(separator: ",") }
        if !pass.made.isEmpty { logger.info("made day partitions", metadata: ["days": "\(days(pass.made))"]) }
        if !pass.dropped.isEmpty {
            logger.info("dropped day partitions past the retention", metadata: ["days": "\(days(pass.dropped))", "retention_days": "\(configuration.retention.days)"])
        }
        if !pass.held.isEmpty {
            logger.warning(
                "day partitions past the retention kept: a message in them is still owed work (queued, in a running campaign or an active drip sequence)",
                metadata: ["days": "\(days(pass.held))"])
        }
        if !pass.busy.isEmpty {
            logger.info("day partitions left for the next pass: their tables were busy", metadata: ["days": "\(days(pass.busy))"])
        }
        if pass.deletedMessages + pass.deletedEvents > 0 {
            logger.info("deleted rows past their retention", metadata: ["messages": "\(pass.deletedMessages)", "events": "\(pass.deletedEvents)"])
        }
    }
}
