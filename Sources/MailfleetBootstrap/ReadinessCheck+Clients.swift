import MailfleetObservability
import MailfleetPostgres
import MailfleetRedis

extension ReadinessCheck {
    /// Postgres answers a query.
    public static func postgres(_ pool: PostgresPool) -> ReadinessCheck {
        ReadinessCheck(name: "postgres") { _ = try await pool.query("SELECT 1") }
    }

    /// Redis answers PING.
    public static func redis(_ redis: RedisClient) -> ReadinessCheck {
        ReadinessCheck(name: "redis") { _ = try await redis.command("PING") }
    }
}
