// swift-tools-version: 6.0
import PackageDescription

// Layers, bottom to top:
//   C bindings (CPostgres, CHiredis, CCurl)
//   -> thin Swift wrappers (MailfleetPostgres, MailfleetRedis, MailfleetHTTPClient)
//   -> core domain (MailfleetCore, pure) -> storage/queue (MailfleetStore), providers
//   -> services (API, tracker, worker, scheduler, simulator)
//   -> executables that only parse configuration and run a ServiceGroup.

let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
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
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
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
        .target(name: "MailfleetRuntime"),
        .target(name: "MailfleetPostgres", dependencies: ["CPostgres", "MailfleetRuntime"]),
        .target(name: "MailfleetRedis", dependencies: ["CHiredis", "MailfleetRuntime"]),
        .target(name: "MailfleetHTTPClient", dependencies: ["CCurl", "MailfleetRuntime"]),

        // MARK: Domain and shared services
        // Mustache is a pure template engine (no I/O), so template rendering stays in the core.
        .target(name: "MailfleetCore", dependencies: ["MailfleetRuntime", crypto, mustache]),
        .target(
            name: "MailfleetStore",
            dependencies: ["MailfleetCore", "MailfleetPostgres", "MailfleetRedis", logging]),
        .target(
            name: "MailfleetProviders",
            dependencies: ["MailfleetCore", "MailfleetHTTPClient", logging, crypto]),
        .target(
            name: "MailfleetObservability",
            dependencies: [logging, prometheus, hummingbird, lifecycle]),

        // MARK: Services
        .target(
            name: "MailfleetAPI",
            dependencies: ["MailfleetCore", "MailfleetStore", "MailfleetPostgres", "MailfleetRedis", "MailfleetRuntime", "MailfleetObservability", hummingbird, logging, crypto],
            // Embedded, so the executable serves /openapi.json with no resource bundle beside it.
            resources: [.embedInCode("Resources/openapi.json")]),
        .target(
            name: "MailfleetTracker",
            dependencies: ["MailfleetCore", "MailfleetStore", "MailfleetPostgres", "MailfleetObservability", hummingbird, logging]),
        .target(
            name: "MailfleetSimulator",
            dependencies: ["MailfleetCore", "MailfleetObservability", "MailfleetRuntime", hummingbird, logging]),
        .target(
            name: "MailfleetWorker",
            dependencies: [
                "MailfleetCore", "MailfleetStore", "MailfleetProviders", "MailfleetPostgres", "MailfleetRedis",
                "MailfleetHTTPClient", "MailfleetRuntime", "MailfleetObservability", logging, lifecycle, prometheus,
            ],
            path: "Workers/MailfleetWorker"),
        .target(
            name: "MailfleetScheduler",
            dependencies: ["MailfleetCore", "MailfleetStore", "MailfleetPostgres", "MailfleetRedis", "MailfleetObservability", logging, lifecycle, prometheus],
            path: "Scheduler/MailfleetScheduler"),

        // MARK: Executables
        .executableTarget(
            name: "mailfleet-api",
            dependencies: ["MailfleetAPI", "MailfleetObservability", argumentParser, lifecycle, hummingbird]),
        .executableTarget(
            name: "mailfleet-tracker",
            dependencies: ["MailfleetTracker", "MailfleetObservability", argumentParser, lifecycle, hummingbird]),
        .executableTarget(
            name: "mailfleet-sim",
            dependencies: ["MailfleetSimulator", "MailfleetObservability", argumentParser, lifecycle, hummingbird]),
        .executableTarget(
            name: "mailfleet",
            dependencies: ["MailfleetCore", "MailfleetStore", "MailfleetPostgres", "MailfleetRedis", argumentParser, logging]),
        .executableTarget(
            name: "mailfleet-worker",
            dependencies: ["MailfleetWorker", "MailfleetObservability", argumentParser, lifecycle],
            path: "Workers/mailfleet-worker"),
        .executableTarget(
            name: "mailfleet-scheduler",
            dependencies: ["MailfleetScheduler", "MailfleetObservability", argumentParser, lifecycle],
            path: "Scheduler/mailfleet-scheduler"),

        // MARK: Benchmarks
        .executableTarget(
            name: "mailfleet-bench",
            dependencies: [
                "MailfleetHTTPClient", "MailfleetPostgres", argumentParser,
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/Sources/mailfleet-bench"),

        // MARK: Tests
        .testTarget(
            name: "MailfleetUnitTests",
            dependencies: ["MailfleetCore", "MailfleetProviders", "MailfleetRuntime", "MailfleetWorker", "MailfleetAPI", "MailfleetStore"]),
        .testTarget(
            name: "MailfleetIntegrationTests",
            dependencies: [
                "MailfleetCore", "MailfleetPostgres", "MailfleetRedis", "MailfleetHTTPClient", "MailfleetStore", "MailfleetAPI", "MailfleetObservability",
                hummingbird, .product(name: "HummingbirdTesting", package: "hummingbird"), logging,
            ],
            exclude: ["README.md"]),
        .testTarget(
            name: "MailfleetEndToEndTests",
            dependencies: ["MailfleetCore", "MailfleetPostgres", "MailfleetHTTPClient", "MailfleetProviders"]),
    ]
)
