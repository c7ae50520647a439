// swift-tools-version:6.0
import Foundation
import PackageDescription

// The numeric core's kernels work on SIMD8 vectors. On x86-64 they are compiled for
// x86-64-v3 (AVX2 and FMA: Intel Core and AMD CPUs since about 2015, but not every
// Pentium, Celeron or Atom), where a SIMD8 is one register instead of a pair of SSE
// registers (`convviz bench conv`, SmallConvNet's convolutions: 205 GFLOP/s without,
// 224 with; the tile transforms gain most). `convviz` checks the CPU
// before it runs any of that code (`CPUSupport`). `CONVVIZ_PORTABLE=1 swift build ...`
// (after `rm -rf .build`) builds for any x86-64 CPU instead.
#if arch(x86_64)
let portable = ProcessInfo.processInfo.environment["CONVVIZ_PORTABLE"] == "1"
#else
let portable = true
#endif
let vectorISA: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-Xcc", "-march=x86-64-v3"]), .define("CONVVIZ_X86_64_V3")]
let cpuCheck: [SwiftSetting] = portable ? [] : [.define("CONVVIZ_X86_64_V3")]
// The numeric core is optimized in debug builds too: the test suite (debug, `make test`)
// trains and runs networks, and its loops run 10-50x slower unoptimized. Float results do
// not change (Swift's -O neither reassociates nor contracts floating-point arithmetic).
// `CONVVIZ_DEBUG_CORE=1 swift build` gives an unoptimized core for a debugger.
let debugCoreOptimized = ProcessInfo.processInfo.environment["CONVVIZ_DEBUG_CORE"] != "1"
let coreInDebug: [SwiftSetting] = debugCoreOptimized ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : []

let package = Package(
    name: "ConvViz",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ConvVizCore", targets: ["ConvVizCore"]),
        .library(name: "ConvVizRender", targets: ["ConvVizRender"]),
        .library(name: "ConvVizLecture", targets: ["ConvVizLecture"]),
        .executable(name: "convviz", targets: ["convviz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: - System libraries (one C module per library; only wrapper files import them)
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CPango", path: "Sources/CPango", pkgConfig: "pangocairo",
                       providers: [.apt(["libpango1.0-dev"])]),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3f",
                       providers: [.apt(["libfftw3-dev"])]),
        // Debian's libgif-dev has no pkg-config file: the module map links `gif`.
        .systemLibrary(name: "CGif", path: "Sources/CGif", providers: [.apt(["libgif-dev"])]),

        // Hand-vectorized C kernels for instruction sets beyond the core's x86-64-v3 (AVX-512),
        // each compiled for its instruction set alone and chosen at run time. Optimized in
        // debug builds too, as the core is.
        // No contraction into fused multiply-adds: the depthwise kernel's sums must equal the
        // Swift loops' (Swift does not contract either); the GEMM kernels ask for theirs.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),

        // MARK: - Public API
        // Numbers only: tensors, layers, training, data readers, analysis. No drawing.
        .target(name: "ConvVizCore", dependencies: [
                    "CBLAS", "CPNG", "CZlib", "CFFTW", "CKernels",
                    .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                ],
                exclude: ["README.md"],
                resources: [.copy("Resources/samples")],
                swiftSettings: vectorISA + coreInDebug),
        // Drawing: Cairo/Pango canvas, PNG writing (zlib), colormaps, figures.
        .target(name: "ConvVizRender", dependencies: ["ConvVizCore", "CCairo", "CPango", "CZlib", "CGif"], exclude: ["README.md"]),
        // The lecture atlas: computes the course's numbers with ConvVizCore (training runs,
        // real tensors, shape arithmetic) and draws them with ConvVizRender.
        .target(name: "ConvVizLecture", dependencies: ["ConvVizCore", "ConvVizRender"], exclude: ["README.md"]),
        // The command-line tool: parses arguments and calls the libraries.
        .executableTarget(name: "convviz", dependencies: [
            "ConvVizCore", "ConvVizRender", "ConvVizLecture",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"], swiftSettings: cpuCheck),

        // MARK: - Tests
        .testTarget(name: "ConvVizCoreTests", dependencies: ["ConvVizCore", "CZlib", "CKernels"],
                    resources: [.copy("Fixtures")]),
        // Figures and the lecture atlas (whose figures are checked with the same SVG readers).
        .testTarget(name: "ConvVizRenderTests", dependencies: ["ConvVizRender", "ConvVizLecture", "ConvVizCore"]),
        .testTarget(name: "CLITests", dependencies: ["convviz", "ConvVizCore", "ConvVizRender"]),
    ],
    swiftLanguageModes: [.v6]
)
