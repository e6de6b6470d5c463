// swift-tools-version: 6.0
import PackageDescription

// Layers, bottom to top:
//   C bindings (CPostgres, CHiredis, CCurl)
//   -> the pure core, which imports nothing of this package and so no C library: domain values
//      and decisions (MailfleetCore), provider wire formats (MailfleetProviderFormats), the
//      settings catalogue (MailfleetConfiguration)
//   -> thin Swift wrappers that own their threads (MailfleetRuntime, MailfleetPostgres,
//      MailfleetRedis, MailfleetHTTPClient); they may use the core's values
//   -> storage/queue (MailfleetStore), provider adapters, observability
//   -> services (API, tracker, worker, scheduler, simulator)
//   -> process start-up (MailfleetBootstrap: clients as services, readiness, logging, metrics)
//   -> executables that only read their settings and hand their services to the bootstrap.
// Every target declares exactly the modules it imports; ops/check-imports verifies that and
// the layer order (docs/ARCHITECTURE.md draws the map).

let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let metricsTestKit: Target.Dependency = .product(name: "MetricsTestKit", package: "swift-metrics")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
// RSA (PKCS#1 v1.5) and X.509 for SNS signing certificates; both already resolved through Hummingbird's packages.
let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")
let x509: Target.Dependency = .product(name: "X509", package: "swift-certificates")
let mustache: Target.Dependency = .product(name: "Mustache", package: "swift-mustache")

let package = Package(
    name: "mailfleet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mailfleet-api", targets: ["mailfleet-api"]),
        .executable(name: "mailfleet-scheduler", targets: ["mailfleet-scheduler"]),
        .executable(name: "mailfleet-worker", targets: ["mailfleet-worker"]),
        .executable(name: "mailfleet-tracker", targets: ["mailfleet-tracker"]),
        .executable(name: "mailfleet", targets: ["mailfleet"]),
        .executable(name: "mailfleet-sim", targets: ["mailfleet-sim"]),
        .library(name: "MailfleetCore", targets: ["MailfleetCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        // Already in the graph through Hummingbird; named here for the load generator's client.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        // MARK: C bindings
        .systemLibrary(
            name: "CPostgres", path: "Sources/CPostgres", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        // No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses with a
        // warning; the headers live in /usr/include/hiredis, found without it.
        .systemLibrary(
            name: "CHiredis", path: "Sources/CHiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),

        // MARK: Thin wrappers (each owns the threads its blocking C calls run on)
        .target(name: "MailfleetRuntime", dependencies: ["MailfleetCore"]),
        // Postgres writes UUIDs with Core's `UUIDText` (Core is pure: no C library comes with it).
        .target(name: "MailfleetPostgres", dependencies: ["CPostgres", "MailfleetCore", "MailfleetRuntime"]),
        .target(name: "MailfleetRedis", dependencies: ["CHiredis", "MailfleetRuntime"]),
        // The egress policy (which addresses tenant-supplied URLs may reach) is the core's.
        .target(name: "MailfleetHTTPClient", dependencies: ["CCurl", "MailfleetCore"]),

        // MARK: Domain and shared services
        // Mustache is a pure template engine (no I/O), so template rendering stays in the core.
        .target(name: "MailfleetCore", dependencies: [crypto, mustache]),
        // Every MAILFLEET_* setting with its default; pure, so the unit tests check README against it.
        // It reads the webhook allowlist into the core's IPNetwork, so a bad entry stops the process at start.
        .target(name: "MailfleetConfiguration", dependencies: ["MailfleetCore", argumentParser, logging]),
        .target(
            name: "MailfleetStore",
            dependencies: ["MailfleetCore", "MailfleetPostgres", "MailfleetRedis", "MailfleetProviderFormats"]),
        // Provider payloads, answers and their classification: pure, so unit tests need no C library.
        .target(name: "MailfleetProviderFormats", dependencies: ["MailfleetCore", crypto, cryptoExtras, x509]),
        // The adapters that make the calls.
        .target(
            name: "MailfleetProviders",
            dependencies: ["MailfleetCore", "MailfleetProviderFormats", "MailfleetHTTPClient", "MailfleetRuntime"]),
        .target(
            name: "MailfleetObservability",
            dependencies: ["MailfleetRuntime", logging, metrics, prometheus, hummingbird, lifecycle]),

        // MARK: Services
        .target(
            name: "MailfleetAPI",
            dependencies: ["MailfleetConfiguration", "MailfleetCore", "MailfleetStore", "MailfleetRuntime", "MailfleetObservability", hummingbird, logging, crypto, lifecycle],
            // Embedded, so the executable serves /openapi.json with no resource bundle beside it.
            resources: [.embedInCode("Resources/openapi.json")]),
        .target(
            name: "MailfleetTracker",
            dependencies: [
                "MailfleetCore", "MailfleetStore", "MailfleetProviderFormats", "MailfleetObservability", "MailfleetRuntime", "MailfleetHTTPClient",
                hummingbird, logging, lifecycle, metrics,
            ]),
        .target(
            name: "MailfleetSimulator",
            dependencies: ["MailfleetObservability", "MailfleetRuntime", hummingbird, logging, lifecycle]),
        .target(
            name: "MailfleetWorker",
            dependencies: [
                "MailfleetCore", "MailfleetStore", "MailfleetProviders", "MailfleetProviderFormats", "MailfleetRuntime",
                "MailfleetObservability", logging, lifecycle, metrics,
            ],
            path: "Workers/MailfleetWorker"),
        .target(
            name: "MailfleetScheduler",
            dependencies: ["MailfleetConfiguration", "MailfleetCore", "MailfleetStore", "MailfleetRedis", "MailfleetObservability", logging, lifecycle, metrics],
            path: "Scheduler/MailfleetScheduler"),

        // MARK: Process start-up: clients as services, readiness checks, logging and metrics
        .target(
            name: "MailfleetBootstrap",
            dependencies: [
                "MailfleetPostgres", "MailfleetRedis", "MailfleetHTTPClient", "MailfleetRuntime", "MailfleetObservability",
                logging, lifecycle,
            ]),

        // MARK: Executables
        .executableTarget(
            name: "mailfleet-api",
            dependencies: [
                "MailfleetAPI", "MailfleetStore", "MailfleetCore", "MailfleetPostgres", "MailfleetRedis", "MailfleetBootstrap",
                "MailfleetConfiguration", argumentParser,
            ]),
        .executableTarget(
            name: "mailfleet-tracker",
            dependencies: ["MailfleetTracker", "MailfleetStore", "MailfleetCore", "MailfleetHTTPClient", "MailfleetBootstrap", "MailfleetConfiguration", argumentParser]),
        .executableTarget(
            name: "mailfleet-sim",
            dependencies: ["MailfleetSimulator", "MailfleetBootstrap", "MailfleetConfiguration", argumentParser]),
        .executableTarget(
            name: "mailfleet",
            dependencies: ["MailfleetCore", "MailfleetStore", "MailfleetPostgres", "MailfleetRedis", "MailfleetConfiguration", argumentParser]),
        .executableTarget(
            name: "mailfleet-worker",
            dependencies: [
                "MailfleetWorker", "MailfleetProviders", "MailfleetStore", "MailfleetCore", "MailfleetObservability",
                "MailfleetBootstrap", "MailfleetConfiguration", argumentParser,
            ],
            path: "Workers/mailfleet-worker"),
        .executableTarget(
            name: "mailfleet-scheduler",
            dependencies: [
                "MailfleetScheduler", "MailfleetStore", "MailfleetCore", "MailfleetObservability", "MailfleetBootstrap",
                "MailfleetConfiguration", argumentParser,
            ],
            path: "Scheduler/mailfleet-scheduler"),

        // MARK: Benchmarks
        .executableTarget(
            name: "mailfleet-bench",
            dependencies: [
                "MailfleetHTTPClient", "MailfleetPostgres", "MailfleetCore", "MailfleetRedis", "MailfleetStore", argumentParser,
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/Sources/mailfleet-bench"),

        // MARK: Tests
        .testTarget(
            name: "MailfleetUnitTests",
            // Pure modules only, so the unit tests build without libpq, hiredis or libcurl.
            dependencies: ["MailfleetCore", "MailfleetProviderFormats", "MailfleetRuntime", "MailfleetConfiguration", "MailfleetSimulator", crypto, cryptoExtras]),
        .testTarget(
            name: "MailfleetIntegrationTests",
            dependencies: [
                "MailfleetCore", "MailfleetPostgres", "MailfleetRedis", "MailfleetHTTPClient", "MailfleetStore", "MailfleetAPI",
                "MailfleetObservability", "MailfleetBootstrap", "MailfleetRuntime", "MailfleetTracker", "MailfleetProviderFormats", crypto, cryptoExtras, x509,
                hummingbird, .product(name: "HummingbirdTesting", package: "hummingbird"),
                logging, lifecycle, metrics, metricsTestKit, prometheus,
            ],
            exclude: ["README.md"]),
        .testTarget(
            name: "MailfleetEndToEndTests",
            dependencies: ["MailfleetCore", "MailfleetPostgres", "MailfleetStore", "MailfleetHTTPClient", "MailfleetProviderFormats", "MailfleetProviders", crypto]),
    ]
)
