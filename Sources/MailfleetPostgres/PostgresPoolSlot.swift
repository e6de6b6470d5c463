import CPostgres
import Foundation
import MailfleetRuntime

/// One pool position: a thread and the connection that lives on it.
/// `connection` is only touched by jobs on `thread`, hence the unchecked Sendable.
final class PostgresPoolSlot: @unchecked Sendable {
    let thread: DedicatedThread
    private var connection: PostgresConnection?

    init(thread: DedicatedThread) {
        self.thread = thread
    }

    /// Runs `body` with a healthy connection (opening or replacing it as needed), then tidies up.
    func use<T>(url: String, _ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try ready(url: url)
        let value: T
        do {
            value = try body(connection)
        } catch {
            if (error as? PostgresError)?.isConnectionFailure == true || !connection.isConnected {
                close()
            } else {
                settle(connection)
            }
            throw error
        }
        settle(connection)
        return value
    }

    /// Closes the connection; the next `use` opens a new one.
    func close() {
        connection?.close()
        connection = nil
    }

    private func ready(url: String) throws -> PostgresConnection {
        if let connection {
            if !connection.idleConnectionBroken { return connection }
            close()
        }
        let fresh = try PostgresConnection.connect(url: url)
        connection = fresh
        return fresh
    }

    /// Rolls back a transaction the body left open, so the next user starts clean; drops the
    /// connection if that is not possible.
    private func settle(_ connection: PostgresConnection) {
        switch connection.transactionStatus {
        case PQTRANS_IDLE:
            return
        case PQTRANS_INTRANS, PQTRANS_INERROR:
            if (try? connection.execute("ROLLBACK")) == nil { close() }
        default:
            close()
        }
    }
}
