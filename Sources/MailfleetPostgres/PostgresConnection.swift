import CPostgres
import Foundation

/// One libpq connection. Every method blocks, so it must only be used on its own `DedicatedThread`
/// (that is what makes the unchecked Sendable sound); `PostgresPool` does that for you.
public final class PostgresConnection: @unchecked Sendable {
    private var conn: OpaquePointer?
    /// Depth of nested `transaction` calls, which become savepoints.
    private var savepointDepth = 0
    /// Statements with parameters prepared on this connection: SQL text → statement name.
    private var prepared: [String: String] = [:]
    /// Names given so far; a statement dropped from `prepared` never reuses its name.
    private var preparedNames = 0
    /// Dropped statements still prepared on the server, deallocated when no transaction is open.
    private var stale: [String] = []

    /// The most statements one connection prepares. The fleet's statements are a few dozen
    /// fixed texts; SQL built with values in it would otherwise grow the cache without bound,
    /// so past this a statement runs unnamed, parsed and planned each time as before.
    static let preparedLimit = 256

    private init(conn: OpaquePointer) {
        self.conn = conn
    }

    deinit {
        close()
    }

    /// Opens a connection (blocking) from a libpq URI or conninfo string, with the session in UTC and ISO dates.
    public static func connect(url: String) throws -> PostgresConnection {
        // Keywords before "dbname" are defaults that the expanded URL may override; without a
        // connect_timeout libpq would wait for TCP's own timeout when a host is unreachable.
        // Both arrays are NULL-terminated, as PQconnectdbParams requires.
        let keywords: [String?] = ["connect_timeout", "dbname", nil]
        let values: [String?] = ["10", url, nil]
        let conn = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let conn else {
            throw PostgresError(message: "could not connect: libpq is out of memory", connectionLost: true)
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresError(message: "could not connect: \(message)", connectionLost: true)
        }
        // Otherwise libpq prints every NOTICE (e.g. "relation already exists, skipping") to stderr.
        mf_pq_silence_notices(conn)
        let connection = PostgresConnection(conn: conn)
        // Our Date parsing depends on these; UTF8 because text values are decoded as UTF-8.
        try connection.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET client_encoding = 'UTF8'")
        return connection
    }

    /// True while the link to the server is up (as far as libpq knows without talking to it).
    public var isConnected: Bool {
        guard let conn else { return false }
        return PQstatus(conn) == CONNECTION_OK
    }

    /// Closes the connection; later calls throw a connection failure.
    public func close() {
        if let conn {
            PQfinish(conn)
            self.conn = nil
        }
    }

    /// Runs one statement with `$1...$n` text parameters (extended protocol, so no SQL injection).
    ///
    /// A statement with parameters is prepared on the connection the first time its text is
    /// run, and executed by name after that: Postgres then skips parsing and analysing it. The
    /// hot path's statements are long CTEs; parsed at every call, a claim of a few rows took
    /// about twice as long (BENCHMARKS.md). Parameterless statements run unnamed (utility
    /// statements, `SET`, one-off DDL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> PostgresRows {
        let conn = try liveConnection()
        let texts = parameters.map(\.postgresText)
        for (i, text) in texts.enumerated() where text.map(Self.containsNUL) == true {
            throw PostgresError(message: "parameter $\(i + 1) contains a NUL byte, which Postgres text cannot hold")
        }
        guard !texts.isEmpty, let name = try preparedName(sql, parameterCount: texts.count, on: conn) else {
            let result = withCStringArray(texts) { values in
                PQexecParams(conn, sql, Int32(texts.count), nil, values, nil, nil, 0)
            }
            return try rows(from: result)
        }
        do {
            let result = withCStringArray(texts) { values in
                PQexecPrepared(conn, name, Int32(texts.count), values, nil, nil, 0)
            }
            return try rows(from: result)
        } catch let error as PostgresError where error.sqlState == "0A000" && PQtransactionStatus(conn) == PQTRANS_IDLE {
            try? execute("DEALLOCATE \(name)")
            // "cached plan must not change result type": a migration changed a table under a
            // prepared statement. It is prepared again under a new name and run once more;
            // inside a transaction the error stands (the transaction is aborted) and the next
            // call prepares it afresh.
            prepared[sql] = nil
            guard let fresh = try preparedName(sql, parameterCount: texts.count, on: conn) else { throw error }
            let result = withCStringArray(texts) { values in
                PQexecPrepared(conn, fresh, Int32(texts.count), values, nil, nil, 0)
            }
            return try rows(from: result)
        } catch let error as PostgresError where error.sqlState == "0A000" {
            prepared[sql] = nil
            stale.append(name)
            throw error
        }
    }

    /// The name `sql` is prepared under on this connection, preparing it if needed; nil when
    /// the cache is full. A statement Postgres refuses to prepare throws its error, as running
    /// it would have.
    private func preparedName(_ sql: String, parameterCount: Int, on conn: OpaquePointer) throws -> String? {
        if let name = prepared[sql] { return name }
        if !stale.isEmpty, PQtransactionStatus(conn) == PQTRANS_IDLE {
            for name in stale { try? execute("DEALLOCATE \(name)") }
            stale = []
        }
        guard prepared.count < Self.preparedLimit else { return nil }
        preparedNames += 1
        let name = "mf_\(preparedNames)"
        _ = try rows(from: PQprepare(conn, name, sql, Int32(parameterCount), nil))
        prepared[sql] = name
        return name
    }

    /// True when text holds a NUL byte (memchr over the contiguous UTF-8).
    static func containsNUL(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
            return memchr(base, 0, bytes.count) != nil
        }
    }

    /// Runs SQL with the simple-query protocol: several `;`-separated statements, no parameters (migrations).
    public func execute(_ sql: String) throws {
        let conn = try liveConnection()
        _ = try rows(from: PQexec(conn, sql))
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    /// Nested calls use savepoints, so an inner failure only undoes the inner part.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let conn = try liveConnection()
        let nested = PQtransactionStatus(conn) != PQTRANS_IDLE
        let savepoint = "mf_savepoint_\(savepointDepth + 1)"
        if nested {
            try execute("SAVEPOINT \(savepoint)")
            savepointDepth += 1
        } else {
            try execute("BEGIN")
        }
        defer { if nested { savepointDepth -= 1 } }

        let value: T
        do {
            value = try body()
        } catch {
            if isConnected {
                try? execute(nested ? "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)" : "ROLLBACK")
            }
            throw error
        }
        // A statement that failed inside `body` (its error caught there) aborts the transaction, and a
        // COMMIT would then silently roll back; report that instead of pretending it committed.
        if isConnected, let conn = self.conn, PQtransactionStatus(conn) == PQTRANS_INERROR {
            try? execute(nested ? "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)" : "ROLLBACK")
            throw PostgresError(
                message: "transaction was aborted by an earlier error and has been rolled back", sqlState: "25P02")
        }
        try execute(nested ? "RELEASE SAVEPOINT \(savepoint)" : "COMMIT")
        return value
    }

    /// Bulk-loads rows with `COPY table (columns) FROM STDIN` in text format; nil is NULL.
    /// `table` may be schema-qualified (`schema.table`); names are quoted, so pass them unquoted.
    /// Returns the number of rows the server copied.
    @discardableResult
    public func copyFrom(table: String, columns: [String], rows: [[String?]]) throws -> Int {
        let conn = try liveConnection()
        if !columns.isEmpty, let bad = rows.firstIndex(where: { $0.count != columns.count }) {
            throw PostgresError(
                message: "copyFrom: row \(bad) has \(rows[bad].count) values for \(columns.count) columns")
        }
        var sql = "COPY " + table.split(separator: ".", omittingEmptySubsequences: false)
            .map { Self.quoteIdentifier(String($0)) }.joined(separator: ".")
        if !columns.isEmpty {
            sql += " (" + columns.map(Self.quoteIdentifier).joined(separator: ", ") + ")"
        }
        sql += " FROM STDIN"

        guard let start = PQexec(conn, sql) else { throw failure(conn) }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            throw error(from: start)
        }
        PQclear(start)

        let chunkSize = 64 * 1024
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkSize + 4096)
        var sendFailed = false
        func flush() {
            guard !buffer.isEmpty, !sendFailed else { return }
            let status = buffer.withUnsafeBytes { raw in
                PQputCopyData(conn, raw.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(raw.count))
            }
            if status != 1 { sendFailed = true }
            buffer.removeAll(keepingCapacity: true)
        }
        for row in rows {
            for (i, field) in row.enumerated() {
                if i > 0 { buffer.append(0x09) }
                if let field { Self.appendCopyEscaped(field, to: &buffer) } else { buffer.append(contentsOf: [0x5C, 0x4E]) }
            }
            buffer.append(0x0A)
            if buffer.count >= chunkSize { flush() }
            if sendFailed { break }
        }
        flush()
        if !sendFailed && PQputCopyEnd(conn, nil) != 1 { sendFailed = true }

        // Collect the outcome; a server-side error (bad value, constraint) arrives here, after the data.
        var copied = 0
        var firstError: PostgresError?
        while let result = PQgetResult(conn) {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                copied = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if status == PGRES_COPY_IN {
                // Only possible if sending stopped half way: end the COPY so the connection is usable.
                _ = PQputCopyEnd(conn, "client failed to send COPY data")
            } else if firstError == nil {
                firstError = error(from: result)
            }
            PQclear(result)
            if PQstatus(conn) != CONNECTION_OK { break }
        }
        if let firstError { throw firstError }
        if sendFailed || PQstatus(conn) != CONNECTION_OK { throw failure(conn) }
        return copied
    }

    // MARK: - Internal

    /// The libpq transaction state, for the pool to clean up after a body that left a transaction open.
    var transactionStatus: PGTransactionStatusType {
        guard let conn else { return PQTRANS_UNKNOWN }
        return PQtransactionStatus(conn)
    }

    /// True when an idle connection turns out to be dead (e.g. the backend was terminated).
    var idleConnectionBroken: Bool {
        mf_pq_idle_connection_broken(conn) != 0
    }

    private func liveConnection() throws -> OpaquePointer {
        guard let conn else {
            throw PostgresError(message: "connection is closed", connectionLost: true)
        }
        guard PQstatus(conn) == CONNECTION_OK else { throw failure(conn) }
        return conn
    }

    /// Turns a PQexec/PQexecParams result into rows, or throws the error it carries.
    private func rows(from result: OpaquePointer?) throws -> PostgresRows {
        guard let result else { throw failure(conn) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            break
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // A COPY sent through query/execute would leave the connection stuck in COPY mode.
            abandonCopy()
            throw PostgresError(message: "COPY through query/execute is not supported; use copyFrom")
        default:
            throw error(from: result)
        }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for c in 0..<columnCount {
            columns.append(PQfname(result, Int32(c)).map { String(cString: $0) } ?? "?column?")
        }
        var cells: [String?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for r in 0..<rowCount {
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) != 0 {
                    cells.append(nil)
                } else {
                    let length = Int(PQgetlength(result, Int32(r), Int32(c)))
                    let raw = UnsafeRawPointer(PQgetvalue(result, Int32(r), Int32(c))!)
                    cells.append(String(decoding: UnsafeRawBufferPointer(start: raw, count: length), as: UTF8.self))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(
            storage: PostgresResultStorage(columns: columns, cells: cells, rowCount: rowCount), affectedRows: affected)
    }

    private func abandonCopy() {
        guard let conn else { return }
        _ = PQputCopyEnd(conn, "COPY is not supported through query/execute")
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) == PGRES_COPY_OUT {
                // Drain COPY TO rows; libpq allocates each one.
                var row: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(conn, &row, 0) > 0 { PQfreemem(row) }
            }
            PQclear(result)
        }
    }

    /// The error a failed result carries: the server's primary message and SQLSTATE.
    private func error(from result: OpaquePointer) -> PostgresError {
        let primary = mf_pq_result_primary_message(result).map { String(cString: $0) }
        let message = primary ?? Self.trimmed(PQresultErrorMessage(result))
        let sqlState = mf_pq_result_sqlstate(result).map { String(cString: $0) }
        let lost = conn.map { PQstatus($0) != CONNECTION_OK } ?? true
        return PostgresError(message: message.isEmpty ? "query failed" : message, sqlState: sqlState, connectionLost: lost)
    }

    /// The error for a call that produced no result at all, which means the link failed.
    private func failure(_ conn: OpaquePointer?) -> PostgresError {
        let message = conn.map { Self.trimmed(PQerrorMessage($0)) } ?? ""
        return PostgresError(message: message.isEmpty ? "connection to the server was lost" : message, connectionLost: true)
    }

    private static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// COPY text format: backslash, tab, newline and carriage return must be escaped; nothing else.
    private static func appendCopyEscaped(_ field: String, to buffer: inout [UInt8]) {
        for byte in field.utf8 {
            switch byte {
            case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
            case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
            case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
            default: buffer.append(byte)
            }
        }
    }
}

/// Calls `body` with a C array of strdup'ed strings (nil stays NULL), freed afterwards.
private func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let pointers: [UnsafePointer<CChar>?] = strings.map { $0.map { UnsafePointer(strdup($0)!) } }
    defer { for pointer in pointers { free(UnsafeMutablePointer(mutating: pointer)) } }
    return pointers.withUnsafeBufferPointer { buffer in
        // An empty Swift array may have no base address; libpq accepts NULL for zero parameters.
        guard let base = buffer.baseAddress else {
            let empty: UnsafePointer<CChar>? = nil
            return withUnsafePointer(to: empty) { body($0) }
        }
        return body(base)
    }
}
