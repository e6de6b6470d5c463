import Logging
import MailfleetObservability
import ServiceLifecycle

/// How every long-running process starts and stops.
public enum Bootstrap {
    /// The one place a process sets up logging (JSON lines on stdout, labelled with `service`) and
    /// the metrics system (swift-metrics onto the Prometheus registry `/metrics` serves), once,
    /// before anything logs or makes a metric.
    static func observability(service: String, logLevel: Logger.Level) {
        Telemetry.bootstrap(service: service, level: logLevel)
    }

    /// Runs one process: sets up logging and metrics (`observability`), lets `assemble` open
    /// clients and build the services, then runs them all in one `ServiceGroup` until SIGTERM or SIGINT. The clients
    /// run before the services, so a graceful shutdown stops them last; they are shut down on
    /// every exit path, also when `assemble` or the group throws.
    public static func run(
        service: String, logLevel: Logger.Level,
        _ assemble: (inout ProcessClients, Logger) async throws -> [any Service]
    ) async throws {
        observability(service: service, logLevel: logLevel)
        try await runGroup(logger: Logger(label: service.replacingOccurrences(of: "-", with: ".")), assemble)
    }

    /// `run` after the logging set-up, which a process (and so a test) can do only once.
    static func runGroup(
        logger: Logger, _ assemble: (inout ProcessClients, Logger) async throws -> [any Service]
    ) async throws {
        var clients = ProcessClients()
        do {
            let services = try await assemble(&clients, logger)
            let group = ServiceGroup(configuration: .init(
                services: clients.services + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            await clients.shutdown()
            throw error
        }
        await clients.shutdown()
    }
}
