import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

extension APIStores {
    /// The API's stores over the process's one Postgres pool and one Redis client.
    init(pool: PostgresPool, redis: RedisClient, partitions: Int) {
        self.init(
            messages: MessageStore(pool: pool), queue: MessageQueue(redis: redis, partitioning: Partitioning(count: partitions)),
            templates: TemplateStore(pool: pool), suppressions: SuppressionStore(pool: pool), tenants: TenantStore(pool: pool),
            rateLimiter: RateLimiter(redis: redis), breakers: CircuitBreakerStore(redis: redis))
    }
}
