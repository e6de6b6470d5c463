import Foundation
import MailfleetCore
import MailfleetPostgres
import Synchronization

/// A failing campaign backs off on its own. Without this, a campaign whose chunk always fails
/// (a segment that no longer decodes, a row that no longer reads) stays the one due longest
/// ago, so the runner would take it again and again and no other campaign would move. The
/// chunk's transaction rolls back; the failure is then charged to that campaign alone, in a
/// transaction of its own: its `failures` count goes up, `last_error` says what failed, and
/// `next_run_at` moves by `CampaignBackoff`'s growing delay. A chunk that works sets
/// `failures` back to 0.
extension CampaignStore {
    /// Which campaign a chunk took, told from inside its transaction to the code that handles
    /// the transaction's failure.
    final class Claim: Sendable {
        private let taken = Mutex<UUID?>(nil)

        var campaignID: UUID? {
            get { taken.withLock { $0 } }
            set { taken.withLock { $0 = newValue } }
        }
    }

    /// Expands the next chunk (at most `chunk` recipients) of the campaign due longest ago.
    /// A chunk that fails after taking its campaign is rolled back and the campaign backs off
    /// (`.failed`); an error before that, or one writing the backoff (Postgres gone), is thrown.
    public func expandNext(chunk: Int, now: Date = Date(), backoff: CampaignBackoff = CampaignBackoff()) async throws -> Expansion {
        try await chargingFailure(now: now, backoff: backoff, step: "expansion") { taken in
            try await expandChunk(chunk: chunk, now: now, taken: taken)
        } failed: { $0 }
    }

    /// Runs a step that takes one campaign (`body` names it in its `Claim`); when the step fails
    /// after that, the failure is charged to the campaign (`backOff`) and `failed` makes the
    /// step's answer from it. An error before a campaign was taken, a shutdown's cancellation,
    /// or an error writing the backoff (Postgres gone) is thrown for the runner's outage handling.
    func chargingFailure<Step: Sendable>(
        now: Date, backoff: CampaignBackoff, step: String, _ body: (Claim) async throws -> Step, failed: (Expansion) -> Step
    ) async throws -> Step {
        let taken = Claim()
        do {
            return try await body(taken)
        } catch {
            guard let campaignID = taken.campaignID, !(error is CancellationError) else { throw error }
            let failure = error
            do {
                return failed(try await backOff(campaignID: campaignID, step: step, error: "\(failure)", now: now, backoff: backoff))
            } catch {
                throw failure
            }
        }
    }

    /// Charges a failed chunk to its campaign: one more failure in a row, `last_error`, and
    /// `next_run_at` pushed by the backoff. A campaign paused or cancelled meanwhile keeps its
    /// state and only records the error.
    func backOff(campaignID: UUID, step: String, error: String, now: Date, backoff: CampaignBackoff) async throws -> Expansion {
        try await pool.transaction { connection in
            let failures = (try connection.query("SELECT failures FROM campaigns WHERE id = $1 FOR UPDATE", [campaignID]).first?.int("failures") ?? 0) + 1
            let until = now.addingTimeInterval(backoff.delay(afterFailures: failures))
            // Bounded: a driver's error text can be long, and this is shown in the campaign.
            let text = "\(step) failed (\(failures) in a row; next try at \(ISO8601.format(until))): \(error.prefix(500))"
            try connection.query(
                """
                UPDATE campaigns SET failures = $2, last_error = $3, updated_at = now(),
                    next_run_at = CASE WHEN state IN ('scheduled', 'running', 'testing') THEN $4::timestamptz ELSE next_run_at END
                WHERE id = $1
                """, [campaignID, failures, text, until])
            return .failed(campaignID: campaignID, failures: failures, until: until, error: text)
        }
    }
}
