import Foundation
import Hummingbird
import Logging
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// Keeps Resources/openapi.json true: its paths are exactly the router's routes, and every
/// example in it validates against its schema.
@Suite struct OpenAPIDocumentTests {
    let document: [String: Any]

    init() throws {
        document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIRoute.document)) as? [String: Any])
    }

    @Test func pathsAreExactlyTheRegisteredRoutes() async throws {
        let pool = PostgresPool(url: try TestEnvironment.databaseURL(), size: 1, name: "it-openapi")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-openapi")
        let stores = APIStores(
            messages: MessageStore(pool: pool), queue: MessageQueue(redis: redis, partitioning: Partitioning(count: 1)),
            templates: TemplateStore(pool: pool), suppressions: SuppressionStore(pool: pool), tenants: TenantStore(pool: pool),
            rateLimiter: RateLimiter(redis: redis), breakers: CircuitBreakerStore(redis: redis))
        let router = APIServer.router(
            configuration: APIConfiguration(), stores: stores, authenticator: Authenticator(tenants: stores.tenants),
            readiness: [], logger: Logger(label: "test"))
        let served = Set(router.routes.map { "\($0.method.rawValue.lowercased()) \(Self.normalised("\($0.path)"))" })
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, operations) in paths {
            for method in operations.keys { documented.insert("\(method) \(Self.normalised(path))") }
        }
        #expect(served.subtracting(documented).sorted() == [], "routes missing from openapi.json")
        #expect(documented.subtracting(served).sorted() == [], "documented paths nobody serves")
        #expect(document["openapi"] as? String == "3.1.0")
        redis.shutdown()
        await pool.shutdown()
    }

    /// The events route's `type` filter names exactly the event types there are, so a schema-valid
    /// filter is never refused and a new type is documented.
    @Test func eventTypeFilterNamesEveryEventType() throws {
        let operation = try #require(((document["paths"] as? [String: Any])?["/v1/events"] as? [String: Any])?["get"] as? [String: Any])
        let parameters = try #require(operation["parameters"] as? [[String: Any]])
        let type = try #require(parameters.first { $0["name"] as? String == "type" })
        let one = "(" + EventType.allCases.map(\.rawValue).joined(separator: "|") + ")"
        #expect((type["schema"] as? [String: Any])?["pattern"] as? String == "^\(one)(,\(one))*$")
    }

    @Test func everyExampleMatchesItsSchema() throws {
        var checked = 0
        var failures: [String] = []
        let components = (document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]] ?? [:]
        for (name, schema) in components {
            if let example = schema["example"] {
                checked += 1
                failures += SchemaValidator(document: document).problems(example, schema, at: "schemas.\(name)")
            }
        }
        // Media-type examples in request bodies and responses.
        func visit(_ value: Any, _ path: String) {
            if let object = value as? [String: Any] {
                if let schema = object["schema"] as? [String: Any], let example = object["example"] {
                    checked += 1
                    failures += SchemaValidator(document: document).problems(example, schema, at: path)
                }
                for (key, child) in object where key != "components" { visit(child, path + "." + key) }
            } else if let array = value as? [Any] {
                for (index, child) in array.enumerated() { visit(child, path + "[\(index)]") }
            }
        }
        visit(document["paths"] as Any, "paths")
        visit((document["components"] as? [String: Any])?["responses"] as Any, "responses")
        #expect(checked >= 20)
        #expect(failures == [])
    }

    @Test func theValidatorRejectsWhatItShould() {
        let validator = SchemaValidator(document: document)
        let schema: [String: Any] = ["$ref": "#/components/schemas/SuppressionCreate"]
        #expect(validator.problems(["email": "a@example.com"], schema, at: "x").isEmpty)
        #expect(!validator.problems(["email": "a@example.com", "extra": 1], schema, at: "x").isEmpty)
        #expect(!validator.problems(["reason": "manual"], schema, at: "x").isEmpty)
        #expect(!validator.problems(["email": "a@example.com", "reason": "nope"], schema, at: "x").isEmpty)
    }

    /// `/v1/messages/{id}` and `/v1/messages/:id` compare equal.
    static func normalised(_ path: String) -> String {
        path.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? "{}" : String($0) }.joined(separator: "/")
    }
}

/// The JSON Schema subset the document uses: $ref, type, required, properties,
/// additionalProperties, items, enum, oneOf, minItems/maxItems, minLength/maxLength,
/// minimum/maximum, format uuid and date-time.
struct SchemaValidator {
    let document: [String: Any]

    func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String else { return schema }
        var node: Any = document
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] as Any }
        return resolve(node as? [String: Any] ?? [:])
    }

    func problems(_ value: Any, _ raw: [String: Any], at path: String) -> [String] {
        let schema = resolve(raw)
        if let options = schema["oneOf"] as? [[String: Any]] {
            let matching = options.filter { problems(value, $0, at: path).isEmpty }.count
            return matching == 1 ? [] : ["\(path): matches \(matching) of oneOf"]
        }
        var out: [String] = []
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { "\($0)" == "\(value)" }) { out.append("\(path): not in enum") }
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(path): not an object"] }
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { out.append("\(path): missing \(name)") }
            for (key, child) in object {
                if let property = properties[key] {
                    out += problems(child, property, at: "\(path).\(key)")
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    out += problems(child, extra, at: "\(path).\(key)")
                } else if (schema["additionalProperties"] as? Bool) == false {
                    out.append("\(path): unexpected \(key)")
                }
            }
        case "array":
            guard let array = value as? [Any] else { return ["\(path): not an array"] }
            if let min = schema["minItems"] as? Int, array.count < min { out.append("\(path): fewer than \(min) items") }
            if let max = schema["maxItems"] as? Int, array.count > max { out.append("\(path): more than \(max) items") }
            if let items = schema["items"] as? [String: Any] {
                for (index, item) in array.enumerated() { out += problems(item, items, at: "\(path)[\(index)]") }
            }
        case "string":
            guard let string = value as? String else { return ["\(path): not a string"] }
            if let min = schema["minLength"] as? Int, string.count < min { out.append("\(path): shorter than \(min)") }
            if let max = schema["maxLength"] as? Int, string.count > max { out.append("\(path): longer than \(max)") }
            if schema["format"] as? String == "uuid", UUID(uuidString: string) == nil { out.append("\(path): not a uuid") }
            if schema["format"] as? String == "date-time", (try? Date(string, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))) == nil,
               (try? Date(string, strategy: .iso8601)) == nil {
                out.append("\(path): not a date-time")
            }
        case "integer":
            guard let number = value as? Int else { return ["\(path): not an integer"] }
            if let min = schema["minimum"] as? Int, number < min { out.append("\(path): below \(min)") }
            if let max = schema["maximum"] as? Int, number > max { out.append("\(path): above \(max)") }
        case "boolean":
            if !(value is Bool) { out.append("\(path): not a boolean") }
        default:
            break
        }
        return out
    }
}
