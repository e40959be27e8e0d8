// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "mvm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mvm", targets: ["mvm"]),
        .library(name: "VMM", targets: ["VMM"]),
        .library(name: "MVMCore", targets: ["MVMCore"]),
        .library(name: "ContainerShim", targets: ["ContainerShim"]),
        .library(name: "Compare", targets: ["Compare"]),
        .library(name: "Jobs", targets: ["Jobs"]),
        .library(name: "History", targets: ["History"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "MVMTesting", targets: ["MVMTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        // libvirt's C API; only VMM imports it.
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        // ptrace(2) requests with fixed signatures: ptrace is variadic in C,
        // which Swift cannot call. Only MVMCore's seccomp reading uses it.
        .target(name: "CSyscallProbe"),
        // What every instance (micro-VM or container) shares: the instance
        // protocol, boot phases, the readiness line, process memory readings.
        .target(
            name: "MVMCore",
            dependencies: [
                "CSyscallProbe",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings,
            plugins: ["BuildInfo"]
        ),
        // The commit mvm is built from, as a constant of MVMCore's.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .target(
            name: "VMM",
            dependencies: [
                "CLibvirt",
                "MVMCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: strictSettings
        ),
        // Containers through an OCI runtime (runc, crun): the VM's equivalent.
        .target(
            name: "ContainerShim",
            dependencies: [
                "MVMCore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        // The same container through an engine people use (Podman, Docker).
        .target(
            name: "ContainerEngines",
            dependencies: [
                "MVMCore", "ContainerShim",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        // A user's OCI image made into what mvm runs: its tree with mvm's
        // image init (the container) and an initramfs of it (the micro-VM).
        .target(
            name: "OCIImages",
            dependencies: [
                "MVMCore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        // Measurement statistics and reports: pure, no C, no hypervisor.
        .target(
            name: "Compare",
            dependencies: ["MVMCore"],
            swiftSettings: strictSettings
        ),
        // Nightly history: host and plan identity, series, the store protocol,
        // regression verdicts. Pure: no database engine, no hypervisor.
        .target(
            name: "History",
            dependencies: [
                "Compare", "MVMCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // What a reader sees: HTML pages with SVG charts, the Prometheus textfile, the terminal's verdict table.
        .target(
            name: "Reports",
            dependencies: ["History", "Compare", "MVMCore"],
            swiftSettings: strictSettings
        ),
        // The embedded history store: one SQLite file through GRDB.
        .target(
            name: "SQLiteHistory",
            dependencies: [
                "History", "Compare", "MVMCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // The server history store: PostgreSQL through postgres-nio, for a
        // fleet of hosts that share one history.
        .target(
            name: "PostgresHistory",
            dependencies: [
                "History", "Compare",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // What mvm's commands do, assembled from the modules above: the
        // side-by-side comparison job (and the nightly jobs built on it), and
        // the doctor that checks what they need.
        .target(
            name: "Jobs",
            dependencies: [
                "VMM", "ContainerShim", "ContainerEngines", "OCIImages", "Compare", "MVMCore", "History", "Reports",
                "SQLiteHistory",
                "PostgresHistory",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Fakes for tests of what runs on top of instances and stores: a
        // launcher of in-memory instances, a store that fails on demand.
        .target(
            name: "MVMTesting",
            dependencies: ["MVMCore", "Compare", "History", "SQLiteHistory", "Jobs"],
            swiftSettings: strictSettings
        ),
        // The command line: parses arguments, calls the modules, prints.
        .executableTarget(
            name: "mvm",
            dependencies: [
                "VMM", "ContainerShim", "ContainerEngines", "Compare", "Jobs", "OCIImages", "MVMCore", "History",
                "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The nightly verdict's error rates, measured on synthetic histories
        // with mvm's own verdict code: a benchmark, not a test.
        .executableTarget(
            name: "mvm-verdict-simulation",
            dependencies: ["History", "Compare"],
            path: "Sources/VerdictSimulation",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MVMCoreTests",
            dependencies: ["MVMCore", "Compare"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ContainerShimTests",
            // Compare for its seeded generator (the spec property tests).
            dependencies: ["ContainerShim", "MVMCore", "Compare"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OCIImagesTests",
            dependencies: ["OCIImages"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CompareTests",
            dependencies: ["Compare", "MVMCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HistoryTests",
            dependencies: ["History", "SQLiteHistory", "PostgresHistory", "Compare", "MVMCore", "MVMTesting"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "History", "MVMTesting", "SQLiteHistory", "Compare", "MVMCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JobsTests",
            dependencies: [
                "Jobs", "MVMTesting", "History", "SQLiteHistory", "Compare", "ContainerShim", "MVMCore", "Reports",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VMMTests",
            dependencies: ["VMM", "MVMCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            // "mvm" so that the executable is built for the CLI tests.
            dependencies: [
                "VMM", "MVMCore", "ContainerShim", "ContainerEngines", "Compare", "History", "SQLiteHistory",
                "PostgresHistory", "mvm",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
