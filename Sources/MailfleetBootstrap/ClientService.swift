import ServiceLifecycle

/// Holds a client for the life of the service group. On graceful shutdown it shuts the client
/// down (after the services listed after it have stopped); when the group is cancelled instead
/// (a service failed), `Bootstrap.run` shuts it down once every service has stopped, so no
/// service still running sees its client vanish.
struct ClientService: Service, CustomStringConvertible {
    let name: String
    let shutdown: ShutdownOnce

    var description: String { "client \(name)" }

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled
        }
        await shutdown.run()
    }
}
