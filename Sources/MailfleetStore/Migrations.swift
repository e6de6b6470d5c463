import MailfleetPostgres

/// The schema, as an ordered list of migrations. Append only: never edit a released one.
public enum Migrations {
    /// One schema change.
    public struct Migration: Sendable {
        /// Applied in ascending order; recorded in `schema_migrations`.
        public let version: Int
        /// A short name for logs.
        public let name: String
        /// The SQL, run in one transaction.
        public let sql: String
    }

    /// Every migration in order.
    public static let all: [Migration] = [
        Migration(version: 1, name: "initial schema", sql: """
            CREATE TABLE tenants (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE api_keys (
                id text PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                key_hash text NOT NULL,
                scopes text[] NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                revoked_at timestamptz,
                last_used_at timestamptz
            );
            CREATE INDEX api_keys_tenant ON api_keys (tenant_id);
            CREATE TABLE provider_accounts (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name text NOT NULL,
                kind text NOT NULL,
                endpoint text,
                priority int NOT NULL DEFAULT 100,
                secret text,
                created_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (tenant_id, name)
            );
            CREATE TABLE messages (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id),
                status text NOT NULL,
                priority text NOT NULL,
                content jsonb NOT NULL,
                attempts int NOT NULL DEFAULT 0,
                send_at timestamptz,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                enqueued_at timestamptz NOT NULL DEFAULT now(),
                lease_until timestamptz,
                provider_account_id uuid,
                provider_message_id text,
                last_error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                sent_at timestamptz
            );
            CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at DESC);
            CREATE INDEX messages_unfinished ON messages (enqueued_at) WHERE status IN ('queued', 'sending');
            CREATE TABLE events (
                id bigserial PRIMARY KEY,
                tenant_id uuid NOT NULL,
                message_id uuid NOT NULL,
                type text NOT NULL,
                detail jsonb NOT NULL DEFAULT '{}',
                occurred_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX events_message ON events (message_id, occurred_at);
            CREATE TABLE idempotency_keys (
                tenant_id uuid NOT NULL,
                key text NOT NULL,
                request_hash text NOT NULL,
                status int NOT NULL,
                response text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, key)
            );
            """),
        // Version 2 is taken by another change; 3 keeps the two independent.
        Migration(version: 3, name: "provider account config", sql: """
            ALTER TABLE provider_accounts ADD COLUMN config jsonb NOT NULL DEFAULT '{}';
            """),
    ]
}

/// Applies pending migrations. Safe when several processes run it at once: they queue on a
/// Postgres advisory lock, and each migration is applied in its own transaction exactly once.
public struct Migrator: Sendable {
    private let pool: PostgresPool
    /// An arbitrary constant naming Mailfleet's migration lock.
    static let lockID = 7_242_001

    /// Creates a migrator over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Applies every migration not yet recorded; returns the versions it applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await pool.withConnection { connection in
            try connection.query("SELECT pg_advisory_lock($1)", [Migrator.lockID])
            defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Migrator.lockID]) }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version int PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let done = Set(try connection.query("SELECT version FROM schema_migrations").map { try $0.int("version") })
            var applied: [Int] = []
            for migration in Migrations.all where !done.contains(migration.version) {
                try connection.transaction {
                    try connection.execute(migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                }
                applied.append(migration.version)
            }
            return applied
        }
    }
}
