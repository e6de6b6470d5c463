import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// Errors of admin operations in words: each SQLSTATE is raised by the real server, so the
/// sentences are built from the messages Postgres really sends.
@Suite struct AdminErrorTests {
    /// The error `body` throws, in words about `subject`.
    private func words(about subject: AdminError.Subject = .none, _ body: () async throws -> Void) async throws -> AdminError? {
        do {
            try await body()
        } catch {
            return AdminError(error, about: subject)
        }
        Issue.record("no error was thrown")
        return nil
    }

    @Test func constraintViolationsNameTheThing() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 1, name: "it-admin-error")
        try await Migrator(pool: pool).migrate()
        let tenants = TenantStore(pool: pool)
        let tenant = try await tenants.createTenant(name: "acme")
        _ = try await tenants.addProviderAccount(tenantID: tenant, name: "mg", kind: .mailgun, endpoint: nil, priority: 10, secret: nil)

        let duplicate = try await words(about: .providerAccount(name: "mg", tenant: "acme")) {
            _ = try await tenants.addProviderAccount(tenantID: tenant, name: "mg", kind: .outbox, endpoint: nil, priority: 20, secret: nil)
        }
        #expect(duplicate == AdminError(.conflict, "a provider account named 'mg' already exists for tenant 'acme'"))
        // Renaming onto an existing name is the same clash.
        _ = try await tenants.addProviderAccount(tenantID: tenant, name: "other", kind: .outbox, endpoint: nil, priority: 30, secret: nil)
        let renamed = try await words(about: .providerAccount(name: "mg", tenant: "acme")) {
            _ = try await tenants.updateProviderAccount(tenantID: tenant, account: "other", name: "mg")
        }
        #expect(renamed?.kind == .conflict && renamed?.message.contains("named 'mg' already exists") == true)

        let missing = UUID()
        let noTenant = try await words(about: .tenant(missing.lowercasedString)) {
            _ = try await tenants.createKey(tenantID: missing, scopes: [.send])
        }
        #expect(noTenant == AdminError(.notFound, "no tenant '\(missing.lowercasedString)'"))

        let outOfRange = try await words { try await tenants.setAPIRateLimit(tenantID: tenant, perMinute: 0) }
        #expect(outOfRange == AdminError(.invalid, "a value is out of range (the database's rule 'tenants_api_rate_limit_check')"))

        let required = try await words { try await pool.query("INSERT INTO tenants (id, name) VALUES ($1, NULL)", [UUID()]) }
        #expect(required == AdminError(.invalid, "'name' of tenants is required"))

        let notUUID = try await words { try await pool.query("SELECT $1::uuid", ["not-a-uuid"]) }
        #expect(notUUID == AdminError(.invalid, "'not-a-uuid' is not a valid UUID"))

        // A generic clash still says what kind of thing it is.
        let generic = try await words { _ = try await tenants.addProviderAccount(tenantID: tenant, name: "mg", kind: .outbox, endpoint: nil, priority: 1, secret: nil) }
        #expect(generic?.kind == .conflict && generic?.message.hasPrefix("it already exists") == true)
        await pool.shutdown()
    }

    @Test func anUnmigratedOrUnreachableServerIsUnavailable() async throws {
        let empty = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 1, name: "it-admin-empty")
        let noSchema = try await words { _ = try await TenantStore(pool: empty).tenants() }
        await empty.shutdown()
        #expect(noSchema?.kind == .unavailable && noSchema?.message.contains("run `mailfleet migrate`") == true)

        let away = PostgresPool(url: "postgres://postgres@127.0.0.1:9/none", size: 1, name: "it-admin-away")
        let unreachable = try await words { try await away.query("SELECT 1") }
        await away.shutdown()
        #expect(unreachable?.kind == .unavailable && unreachable?.message.hasPrefix("cannot reach Postgres") == true)

        let redis = RedisClient(url: "redis://127.0.0.1:9/0", connections: 1, name: "it-admin-redis")
        let noRedis = try await words { _ = try await CircuitBreakerStore(redis: redis).states(accounts: [UUID()]) }
        redis.shutdown()
        #expect(noRedis?.kind == .unavailable && noRedis?.message.hasPrefix("cannot reach Redis") == true)
    }

    @Test func otherErrorsAreLeftAsTheyAre() {
        struct Unrelated: Error {}
        #expect(AdminError(Unrelated()) == nil)
        #expect(AdminError(PostgresError(message: "deadlock detected", sqlState: "40P01")) == nil)
        #expect(AdminError(RedisError(message: "WRONGTYPE Operation against a key")) == nil)
        let known = AdminError.noTenant("x")
        #expect(AdminError(known, about: .tenant("y")) == known)
    }
}
