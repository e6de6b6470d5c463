import Foundation
import Hummingbird
import Logging
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

/// The API's router (default settings, no sockets) over the real Postgres and Redis, its Redis
/// keys under a prefix of its own, for the router tests of one area (`name` labels its logs).
func testAPIRouter(pool: PostgresPool, redis: RedisClient, tenants: TenantStore, name: String) -> Router<APIRequestContext> {
    let prefix = "\(name)-\(UUID().uuidString.prefix(8))"
    let stores = APIStores(
        messages: MessageStore(pool: pool), queue: MessageQueue(redis: redis, partitioning: Partitioning(count: 1), prefix: prefix),
        templates: TemplateStore(pool: pool), suppressions: SuppressionStore(pool: pool), tenants: tenants,
        rateLimiter: RateLimiter(redis: redis, prefix: prefix + ":rl"), breakers: CircuitBreakerStore(redis: redis, prefix: prefix))
    return APIServer.router(
        configuration: APIConfiguration(), stores: stores, authenticator: Authenticator(tenants: tenants, ttl: 0), readiness: [],
        logger: Logger(label: name))
}
