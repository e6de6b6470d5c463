import Foundation
import MailfleetPostgres
import Testing

/// Integration tests of the libpq wrapper against a real server (see TestEnvironment).
@Suite("Postgres")
struct PostgresTests {
    /// A table name no other test (or concurrent test run) uses.
    private static func uniqueTable(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    }

    /// A date with whole microseconds, built the way the decoder builds dates, so equality is exact.
    private static func date(micros sinceReference: Int64) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(sinceReference) / 1_000_000)
    }

    @Test func scalarParametersRoundTrip() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-scalar")
        let id = UUID()
        let when = Self.date(micros: 848_551_862_123_456)  // 2027-11-22 04:51:02.123456 UTC
        let unicode = "héllo wörld 👋 日本語 \"quoted\" 'single' \\ back"
        let allBytes = (0...255).map { UInt8($0) }
        let noValue: String? = nil
        let someValue: Int? = 7
        let row = try await pool.query(
            """
            SELECT $1::text AS s, $2::int8 AS i, $3::int8 AS i64, $4::int4 AS i32, $5::float8 AS d,
                   $6::bool AS t, $7::bool AS f, $8::uuid AS u, $9::timestamptz AS ts, $10::bytea AS b,
                   $11::text AS n, $12::int AS o, $13::float8 AS inf, $14::bytea AS empty_b, $15::text AS empty_s,
                   $9::timestamptz::text AS ts_text
            """,
            [unicode, Int.max, Int64.min, Int32.min, 0.1, true, false, id, when, allBytes,
             noValue, someValue, -Double.infinity, [UInt8](), ""])[0]
        #expect(try row.string("s") == unicode)
        #expect(try row.int("i") == Int.max)
        #expect(try row.int("i64") == Int(Int64.min))
        #expect(try row.int("i32") == Int(Int32.min))
        #expect(try row.double("d") == 0.1)
        #expect(try row.bool("t") == true)
        #expect(try row.bool("f") == false)
        #expect(try row.uuid("u") == id)
        #expect(row["u"] == id.uuidString.lowercased())
        #expect(try row.date("ts") == when)
        #expect(row["ts_text"] == when.postgresText)
        #expect(row["ts_text"] == "2027-11-22 04:51:02.123456+00")
        #expect(try row.bytes("b") == allBytes)
        #expect(row["n"] == nil)
        #expect(row.optionalString("n") == nil)
        #expect(try row.int("o") == 7)
        #expect(try row.double("inf") == -.infinity)
        #expect(try row.bytes("empty_b") == [])
        #expect(try row.string("empty_s") == "")
        await pool.shutdown()
    }

    @Test func datesParseAsTheServerPrintsThem() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-dates")
        let samples: [Date] = [
            Self.date(micros: 0),
            Self.date(micros: -978_307_200_000_000),  // 1970-01-01
            Self.date(micros: -1_000_000_000_000_001),  // before 1970, odd microsecond
            Self.date(micros: 1_500_000_000_120_000),  // trailing zeros the server trims
            Self.date(micros: -63_000_000_000_000_000),  // around year 5 BC
        ]
        for sample in samples {
            let row = try await pool.query("SELECT $1::timestamptz AS d, $1::timestamptz::text AS t", [sample])[0]
            #expect(try row.date("d") == sample, "server printed \(row["t"] ?? "NULL") for \(sample.postgresText ?? "")")
        }
        let row = try await pool.query(
            """
            SELECT '2026-11-22 08:51:02.5+02'::timestamptz AS offset_input, 'infinity'::timestamptz AS inf,
                   '2026-11-22'::date AS day, '2026-11-22 06:51:02'::timestamp AS naive, NULL::timestamptz AS missing
            """)[0]
        #expect(row["offset_input"] == "2026-11-22 06:51:02.5+00")
        #expect(try row.date("offset_input") == Date(timeIntervalSince1970: 1_795_330_262.5))
        #expect(try row.date("inf") == .distantFuture)
        #expect(try row.date("day") == Date(timeIntervalSince1970: 1_795_305_600))
        #expect(try row.date("naive") == Date(timeIntervalSince1970: 1_795_330_262))
        #expect(try row.optionalDate("missing") == nil)
        #expect(try row.optionalDate("naive") != nil)
        await pool.shutdown()
    }

    @Test func arrayParametersRoundTrip() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-arrays")
        let tricky: [String?] = [
            "plain", "with,comma", "with \"quotes\"", "back\\slash", "{braces}", "", " padded ", "NULL", nil,
            "ünïcödé 👋", "tab\there", "new\nline", "\\\"mixed\"\\",
        ]
        let rows = try await pool.query(
            "SELECT u, o FROM unnest($1::text[]) WITH ORDINALITY AS t(u, o) ORDER BY o", [tricky])
        #expect(rows.map { $0["u"] } == tricky)

        let ids = [UUID(), UUID()]
        let check = try await pool.query(
            """
            SELECT $1::int8[] = ARRAY[1, -2, 3]::int8[] AS ints,
                   $2::int4[] = ARRAY[[1, 2], [3, 4]] AS matrix,
                   cardinality($3::text[]) AS empty_count,
                   $4::bool[] = ARRAY[true, false] AS bools,
                   $5::uuid[] = ARRAY[$6::uuid, $7::uuid] AS uuids,
                   $8::bytea[] = ARRAY['\\x00ff'::bytea, '\\x'::bytea] AS byteas,
                   $9::float8[] AS doubles,
                   $10::int[] AS optional_ints
            """,
            [[1, -2, 3], [[1, 2], [3, 4]] as [[Int]], [String](), [true, false], ids, ids[0], ids[1],
             [[0x00, 0xff], []] as [[UInt8]], [1.5, -0.25], [1, nil, 3] as [Int?]])[0]
        #expect(try check.bool("ints"))
        #expect(try check.bool("matrix"))
        #expect(try check.int("empty_count") == 0)
        #expect(try check.bool("bools"))
        #expect(try check.bool("uuids"))
        #expect(try check.bool("byteas"))
        #expect(check["doubles"] == "{1.5,-0.25}")
        #expect(check["optional_ints"] == "{1,NULL,3}")
        await pool.shutdown()
    }

    @Test func arrayColumnsReadBackAsSent() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-array-columns")
        let tricky: [String?] = [
            "plain", "with,comma", "with \"quotes\"", "back\\slash", "{braces}", "", " padded ", "NULL", nil,
            "ünïcödé 👋", "tab\there", "new\nline", "\\\"mixed\"\\",
        ]
        let row = try await pool.query("SELECT $1::text[] AS a, '{}'::text[] AS empty, 'x'::text AS scalar", [tricky])[0]
        #expect(try row.stringArray("a") == tricky)
        #expect(try row.stringArray("empty") == [])
        #expect(throws: PostgresError.self) { try row.stringArray("scalar") }
        await pool.shutdown()
    }

    @Test func rowAccessorsAndErrors() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-rows")
        let rows = try await pool.query("SELECT 1 AS a, NULL::text AS b, 'x' AS c UNION ALL SELECT 2, 'y', 'z' ORDER BY a")
        #expect(rows.count == 2)
        #expect(rows.columns == ["a", "b", "c"])
        #expect(rows.affectedRows == 2)
        #expect(rows[0][0] == "1")
        #expect(rows[0][7] == nil)
        #expect(rows[1]["b"] == "y")
        #expect(throws: PostgresError.self) { try rows[0].string("b") }
        #expect(throws: PostgresError.self) { try rows[0].string("nope") }
        #expect(throws: PostgresError.self) { try rows[0].int("c") }
        #expect(rows[0]["nope"] == nil)
        await pool.shutdown()
    }

    @Test func queryErrorsCarrySQLState() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-errors")
        let table = Self.uniqueTable("mf_test_unique")
        try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY, note text)")
        try await pool.query("INSERT INTO \(table) VALUES ($1, $2)", [1, "first"])
        do {
            try await pool.query("INSERT INTO \(table) VALUES ($1, $2)", [1, "again"])
            Issue.record("duplicate insert did not throw")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
            #expect(!error.isConnectionFailure)
            #expect(error.description.contains("23505"))
        }
        await #expect(throws: PostgresError.self) { try await pool.query("SELEKT 1") }
        do {
            try await pool.query("SELECT * FROM mf_no_such_table_at_all")
        } catch let error as PostgresError {
            #expect(error.sqlState == "42P01")
            #expect(error.message.contains("mf_no_such_table_at_all"))
        }
        // Errors leave the connection usable, and execute runs several statements at once.
        try await pool.withConnection { connection in
            try connection.execute("INSERT INTO \(table) VALUES (2, 'a'); INSERT INTO \(table) VALUES (3, 'b');")
        }
        let updated = try await pool.query("UPDATE \(table) SET note = $1 WHERE id >= $2", ["c", 2])
        #expect(updated.affectedRows == 2)
        try await pool.query("DROP TABLE \(table)")
        await pool.shutdown()
    }

    @Test func statementsWithParametersArePreparedOnceAndOutliveErrorsAndSchemaChanges() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-prepared")
        let table = Self.uniqueTable("mf_test_prepared")
        try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY, note text)")
        let preparedCount = "SELECT count(*) AS n FROM pg_prepared_statements"
        for id in 1...3 { try await pool.query("INSERT INTO \(table) VALUES ($1, $2)", [id, "n\(id)"]) }
        #expect(try await pool.query(preparedCount)[0].int("n") == 1)
        // A statement Postgres cannot prepare fails as it would unprepared, and is not kept.
        await #expect(throws: PostgresError.self) { try await pool.query("SELEKT $1", [1]) }
        #expect(try await pool.query(preparedCount)[0].int("n") == 1)
        // A migration that changes a prepared SELECT *'s columns: prepared again and run.
        let select = "SELECT * FROM \(table) WHERE id = $1"
        #expect(try await pool.query(select, [1])[0]["note"] == "n1")
        try await pool.query("ALTER TABLE \(table) ADD COLUMN extra int DEFAULT 7")
        #expect(try await pool.query(select, [1])[0].int("extra") == 7)
        // Inside a transaction the error stands; the next call prepares it afresh.
        try await pool.query("ALTER TABLE \(table) ADD COLUMN more int DEFAULT 8")
        do {
            _ = try await pool.transaction { connection in try connection.query(select, [1]) }
            Issue.record("a changed result type inside a transaction did not throw")
        } catch let error as PostgresError {
            #expect(error.sqlState == "0A000")
        }
        #expect(try await pool.query(select, [1])[0].int("more") == 8)
        // Past the limit, statements run unnamed.
        for n in 0..<300 { #expect(try await pool.query("SELECT $1::int + \(n) AS v", [1])[0].int("v") == n + 1) }
        #expect(try await pool.query(preparedCount)[0].int("n") == 256)
        try await pool.query("DROP TABLE \(table)")
        await pool.shutdown()
    }

    @Test func connectionRefusedIsAConnectionFailure() async throws {
        let pool = PostgresPool(url: "postgres://postgres@127.0.0.1:1/postgres", size: 1, name: "pgtest-refused")
        do {
            try await pool.query("SELECT 1")
            Issue.record("query on a closed port did not throw")
        } catch let error as PostgresError {
            #expect(error.isConnectionFailure)
        }
        await pool.shutdown()
    }

    private struct Boom: Error {}

    @Test func transactionRollsBackOnThrow() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 2, name: "pgtest-tx")
        let table = Self.uniqueTable("mf_test_tx")
        try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY)")

        await #expect(throws: Boom.self) {
            try await pool.transaction { connection in
                try connection.query("INSERT INTO \(table) VALUES (1)")
                throw Boom()
            }
        }
        #expect(try await pool.query("SELECT count(*) AS n FROM \(table)")[0].int("n") == 0)

        let value = try await pool.transaction { connection in
            try connection.query("INSERT INTO \(table) VALUES (2)")
            // The inner failure only undoes the inner insert (a savepoint).
            _ = try? connection.transaction {
                try connection.query("INSERT INTO \(table) VALUES (3)")
                throw Boom()
            }
            return 42
        }
        #expect(value == 42)
        #expect(try await pool.query("SELECT array_agg(id ORDER BY id)::text AS ids FROM \(table)")[0]["ids"] == "{2}")

        // A failed statement whose error the body swallowed aborts the transaction; that must not look like a commit.
        do {
            _ = try await pool.transaction { connection in
                try connection.query("INSERT INTO \(table) VALUES (4)")
                _ = try? connection.query("INSERT INTO \(table) VALUES (2)")
                return 0
            }
            Issue.record("aborted transaction reported success")
        } catch let error as PostgresError {
            #expect(error.sqlState == "25P02")
        }
        // A body that leaves a transaction open gets rolled back before the connection is reused.
        try await pool.withConnection { connection in
            try connection.execute("BEGIN; INSERT INTO \(table) VALUES (5)")
        }
        #expect(try await pool.query("SELECT array_agg(id ORDER BY id)::text AS ids FROM \(table)")[0]["ids"] == "{2}")
        try await pool.query("DROP TABLE \(table)")
        await pool.shutdown()
    }

    @Test func copyFromLoadsTrickyTextExactly() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "pgtest-copy")
        let table = Self.uniqueTable("mf_test_copy")
        try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY, a text, b text)")
        let pieces = ["tab\there", "new\nline", "cr\rlf\r\n", "back\\slash", "\\N", "\\.", "", "ünï 👋", "\"q\"", ",;|",
                      "\\t literal", "end\\"]
        var rows: [[String?]] = []
        for i in 0..<10_000 {
            let a: String? = i % 7 == 0 ? nil : pieces[i % pieces.count] + String(i)
            let b: String? = i % 11 == 0 ? nil : pieces[(i * 5) % pieces.count] + pieces[(i * 3) % pieces.count]
            rows.append([String(i), a, b])
        }
        let expected = rows
        let copied = try await pool.withConnection { connection in
            try connection.copyFrom(table: table, columns: ["id", "a", "b"], rows: expected)
        }
        #expect(copied == 10_000)
        let back = try await pool.query("SELECT id, a, b FROM \(table) ORDER BY id")
        #expect(back.count == 10_000)
        var mismatches = 0
        for (row, want) in zip(back, expected) where [row["id"], row["a"], row["b"]] != want {
            mismatches += 1
        }
        #expect(mismatches == 0)

        // A server-side failure (duplicate key) surfaces as an error and the connection stays usable.
        do {
            _ = try await pool.withConnection { connection in
                try connection.copyFrom(table: table, columns: ["id", "a", "b"], rows: [["1", "dup", nil]])
            }
            Issue.record("duplicate COPY did not throw")
        } catch let error as PostgresError {
            #expect(error.isUniqueViolation)
        }
        #expect(try await pool.query("SELECT count(*) AS n FROM \(table)")[0].int("n") == 10_000)
        try await pool.query("DROP TABLE \(table)")
        await pool.shutdown()
    }

    @Test func poolServesFiftyConcurrentCallsWithTwoConnections() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 2, name: "pgtest-pool")
        let results = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
            for i in 0..<50 {
                group.addTask {
                    try await pool.withConnection { connection in
                        let row = try connection.query("SELECT pg_backend_pid() AS pid, $1::int AS i, pg_sleep(0.005)", [i])[0]
                        // Which OS thread ran the body: Foundation's thread names are unreliable on Linux.
                        return (try row.int("i"), try row.int("pid"), "\(pthread_self())")
                    }
                }
            }
            var all: [(Int, Int, String)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 50)
        #expect(Set(results.map(\.0)) == Set(0..<50))
        #expect(Set(results.map(\.1)).count == 2)
        // Two connections, each on its own thread: exactly two threads ran all fifty bodies.
        #expect(Set(results.map(\.2)).count == 2)
        await pool.shutdown()
        await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
    }

    @Test func poolRecoversAfterTheServerKillsABackend() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 2, name: "pgtest-kill")
        // Open both connections by holding two at once.
        let pids = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.2)")[0].int("pid") }
                }
            }
            var pids: [Int] = []
            for try await pid in group { pids.append(pid) }
            return pids
        }
        #expect(Set(pids).count == 2)

        // One pooled connection terminates the other (waiting until it is gone).
        let killed = try await pool.query(
            """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) AS n
            FROM unnest($1::int[]) AS pid WHERE pid <> pg_backend_pid()
            """, [pids])[0].int("n")
        #expect(killed == 1)

        // Every following query works, on both slots: the dead one is noticed while idle and replaced.
        let after = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.1)")[0].int("pid") }
                }
            }
            var pids: [Int] = []
            for try await pid in group { pids.append(pid) }
            return pids
        }
        #expect(after.count == 4)
        #expect(Set(after).count == 2)

        // A connection that dies during a call reports a connection failure and is replaced next time.
        do {
            _ = try await pool.withConnection { connection in
                try connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
            }
            Issue.record("terminating our own backend did not throw")
        } catch let error as PostgresError {
            #expect(error.isConnectionFailure)
        }
        for _ in 0..<3 {
            #expect(try await pool.query("SELECT 1 AS one")[0].int("one") == 1)
        }
        await pool.shutdown()
    }
}
