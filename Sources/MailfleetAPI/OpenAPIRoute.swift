import Hummingbird

/// `GET /openapi.json`: the committed OpenAPI 3.1 description (Resources/openapi.json), embedded
/// in the executable at build time. A test keeps it true to the router and its examples true
/// to its schemas.
public enum OpenAPIRoute {
    /// The document's bytes.
    public static var document: [UInt8] { PackageResources.openapi_json }

    /// Adds the route.
    public static func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}
