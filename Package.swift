// swift-tools-version: 6.1
import PackageDescription

/// Every Swift target builds in Swift 6 language mode, which implies complete
/// strict concurrency checking.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Shoal",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Shoal", targets: ["Shoal"]),
        .library(name: "ShoalApp", targets: ["ShoalApp"]),
        .library(name: "ShoalKafka", targets: ["ShoalKafka"]),
        .library(name: "ShoalTesting", targets: ["ShoalTesting"]),
        .executable(name: "shoal", targets: ["ShoalCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.0.0"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        // Spans of handler turns, with the trace context in records' headers.
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
        // `APP node --otlp-endpoint`: spans exported over OTLP/gRPC (the gRPC
        // stack is a dependency already; OTLP/HTTP would add an HTTP client and TLS).
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.0.0", traits: ["OTLPGRPC"]),
        // `swift package generate-documentation`: the DocC catalog, built in CI without warnings.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // C libraries, reached only from the Kafka layer and the store.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "ShoalKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Shoal",
            dependencies: [
                "ShoalKafka",
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Remote calls between nodes: frames on SwiftNIO, HMAC for the shared secret.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // What an application's executable opts into: the command group
        // (`node`, `replay`, `state`, `demo`, ...), the demo, and the HTTP
        // server for health and Prometheus metrics. The runtime stays free of them.
        .target(
            name: "ShoalApp",
            dependencies: [
                "Shoal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers for testing handlers by replay, for applications' test targets.
        .target(
            name: "ShoalTesting",
            dependencies: ["Shoal"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ShoalCLI",
            dependencies: ["Shoal", "ShoalApp"],
            swiftSettings: swiftSettings
        ),
        // A consumer-group member run as its own process by the tests.
        .executableTarget(
            name: "KafkaProbe",
            dependencies: [
                "ShoalKafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/KafkaProbe",
            swiftSettings: swiftSettings
        ),
        // The README's first example, verbatim: it must build as a user copies it.
        .executableTarget(
            name: "QuickStart",
            dependencies: ["Shoal", "ShoalApp"],
            path: "Examples/QuickStart",
            swiftSettings: swiftSettings
        ),
        // The tests' Shoal application, run as node processes.
        .executableTarget(
            name: "CounterApp",
            dependencies: ["Shoal", "ShoalApp"],
            path: "Tests/CounterApp",
            swiftSettings: swiftSettings
        ),
        // What the samples share: findings, planted cases, delivery order, distances.
        .target(
            name: "SampleSupport",
            dependencies: ["Shoal"],
            path: "Samples/SampleSupport",
            swiftSettings: swiftSettings
        ),
        // The samples: one application each, with the whole command group.
        .executableTarget(
            name: "FraudDetection",
            dependencies: ["Shoal", "ShoalApp", "SampleSupport"],
            path: "Samples/FraudDetection/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "InventoryAlerts",
            dependencies: ["Shoal", "ShoalApp", "SampleSupport"],
            path: "Samples/InventoryAlerts/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FleetMonitoring",
            dependencies: ["Shoal", "ShoalApp", "SampleSupport"],
            path: "Samples/FleetMonitoring/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CustomerJourney",
            dependencies: ["Shoal", "ShoalApp", "SampleSupport"],
            path: "Samples/CustomerJourney/Sources",
            swiftSettings: swiftSettings
        ),
        // Helpers both test targets share: child processes, polling, names.
        .target(
            name: "TestSupport",
            dependencies: ["ShoalKafka", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShoalKafkaTests",
            dependencies: ["ShoalKafka", "Shoal", "KafkaProbe", "ShoalCLI", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShoalTests",
            dependencies: [
                "Shoal", "ShoalApp", "ShoalTesting", "CounterApp", "QuickStart", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The reference the call proofs' HMAC is checked against.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The samples' tests: planted cases caught on a node and by replay, golden files.
        .testTarget(
            name: "SampleTests",
            dependencies: [
                "Shoal", "ShoalApp", "ShoalTesting", "TestSupport", "SampleSupport", "FraudDetection", "InventoryAlerts", "FleetMonitoring",
                "CustomerJourney", .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks: a plain C consume loop as the baseline, and the runner.
        .target(
            name: "CConsumeBaseline",
            dependencies: ["CRdKafka"],
            path: "Benchmarks/CConsumeBaseline"
        ),
        // Plain SQLite in C: the baseline the journal's append rate is measured against.
        .target(
            name: "CStoreBaseline",
            dependencies: ["CSQLite"],
            path: "Benchmarks/CStoreBaseline"
        ),
        .executableTarget(
            name: "ShoalBenchmarks",
            dependencies: [
                "ShoalKafka",
                "Shoal",
                "CConsumeBaseline",
                "CStoreBaseline",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                // The baseline remote calls are measured against: a bare gRPC echo.
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ],
            path: "Benchmarks/ShoalBenchmarks",
            swiftSettings: swiftSettings
        ),
    ]
)
