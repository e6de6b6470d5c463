import Hummingbird
import Logging
import MailfleetObservability
import ServiceLifecycle

/// Assembles `mailfleet-sim`.
public enum SimulatorServer {
    /// The simulator's HTTP server, keeping what `recording` says per message.
    public static func services(host: String, port: Int, recording: SimulatorRecording = .counters, logger: Logger) -> [any Service] {
        let router = Router()
        ProviderSimulator(state: SimulatorState(recording: recording), logger: logger).addRoutes(to: router)
        OpsRoutes.add(to: router, checks: [])
        return [Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "mailfleet-sim"), logger: logger)]
    }
}
