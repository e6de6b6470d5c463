import Hummingbird
import Logging
import MailfleetObservability
import ServiceLifecycle

/// Assembles `mailfleet-sim`.
public enum SimulatorServer {
    /// The simulator's HTTP server.
    public static func services(host: String, port: Int, logger: Logger) -> [any Service] {
        let router = Router()
        ProviderSimulator(logger: logger).addRoutes(to: router)
        OpsRoutes.add(to: router, checks: [])
        return [Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "mailfleet-sim"), logger: logger)]
    }
}
