import Foundation
import MailfleetCore
import MailfleetPostgres
import Synchronization

/// A failing sequence backs off on its own, as a campaign does (`CampaignStore+Backoff`).
/// Without this, a pass that always fails (a sequence whose stored steps no longer read, a row
/// that breaks a statement) would be rolled back and taken again at once, for ever, and no
/// tenant's steps would go out. The failed pass is done again one sequence per transaction;
/// a sequence that fails alone is charged with it here, in a transaction of its own: its
/// `failures` count goes up, `last_error` says what failed, and its taken enrollments' `next_run_at`
/// moves by `CampaignBackoff`'s growing delay. A pass over it that works sets `failures` back to 0.
extension SequenceStore {
    /// The enrollments (with their sequences) a pass took, told from inside its transaction to
    /// the code that handles the transaction's failure.
    final class DueClaim: Sendable {
        private let taken = Mutex<[(id: UUID, sequenceID: UUID)]>([])

        var enrollments: [(id: UUID, sequenceID: UUID)] {
            get { taken.withLock { $0 } }
            set { taken.withLock { $0 = newValue } }
        }
    }

    /// Charges a failed pass to one sequence: one more failure in a row, `last_error`, and its
    /// enrollments among `enrollments` still due pushed to the backoff's delay. Returns the
    /// error as recorded.
    func backOff(sequenceID: UUID, enrollments: [UUID], error: String, now: Date, backoff: CampaignBackoff) async throws -> String {
        try await pool.transaction { connection in
            let failures = (try connection.query("SELECT failures FROM sequences WHERE id = $1 FOR UPDATE", [sequenceID]).first?.int("failures") ?? 0) + 1
            let until = now.addingTimeInterval(backoff.delay(afterFailures: failures))
            // Bounded: a driver's error text can be long, and this is shown with the sequence.
            let text = "step pass failed (\(failures) in a row; next try at \(ISO8601.format(until))): \(error.prefix(500))"
            try connection.query("UPDATE sequences SET failures = $2, last_error = $3, updated_at = now() WHERE id = $1", [sequenceID, failures, text])
            try connection.query(
                """
                UPDATE sequence_enrollments SET next_run_at = $2, updated_at = now()
                WHERE id = ANY($1::uuid[]) AND state = 'active' AND next_run_at <= $3
                """, [enrollments, until, now])
            return text
        }
    }
}
