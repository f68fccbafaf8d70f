// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Recurrent",
    products: [
        .library(name: "Recurrent", targets: ["Recurrent"]),
        .library(name: "RecurrentTasks", targets: ["RecurrentTasks"]),
        .executable(name: "recurrent", targets: ["recurrent"]),
        .executable(name: "recurrent-bench", targets: ["recurrent-bench"]),
    ],
    traits: [
        .trait(name: "MPI", description: "Data-parallel training across processes on MPI (Open MPI: apt-get install libopenmpi-dev openmpi-bin)")
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .target(name: "CRecurrentKernels"),
        // MPI, only with the MPI trait: Open MPI's headers and library, and a C face over them.
        .systemLibrary(name: "CMPI", pkgConfig: "mpi", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CMPIShim", dependencies: [.target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        .target(
            name: "Recurrent",
            dependencies: ["CRecurrentKernels", .target(name: "CMPIShim", condition: .when(traits: ["MPI"]))]),
        .target(name: "RecurrentExamples", dependencies: ["Recurrent"]),
        .target(name: "RecurrentTasks", dependencies: ["Recurrent"]),
        .executableTarget(
            name: "recurrent",
            dependencies: [
                "Recurrent", "RecurrentExamples", "RecurrentTasks", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "recurrent-bench", dependencies: ["Recurrent", "CRecurrentKernels"]),
        // libFuzzer targets for the loaders: fuzz/run.sh builds them with -sanitize=fuzzer.
        .executableTarget(name: "recurrent-fuzz", dependencies: ["Recurrent", "RecurrentTasks"]),
        .testTarget(name: "DocumentationTests", dependencies: ["Recurrent", "RecurrentTasks"]),
        // Data-parallel training under mpirun: empty without the MPI trait.
        .testTarget(name: "RecurrentMPITests", dependencies: ["Recurrent", "RecurrentTasks"]),
        .testTarget(
            name: "RecurrentTests", dependencies: ["Recurrent", "RecurrentExamples", "RecurrentTasks"], resources: [.copy("Fixtures")]),
    ]
)
