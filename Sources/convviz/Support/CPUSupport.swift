import Foundation

/// The CPU check that runs before any of ConvVizCore's code.
///
/// On x86-64, ConvVizCore is compiled for x86-64-v3 (AVX2 and FMA; see Package.swift),
/// and any of its code on a CPU without them stops with "Illegal instruction". Some
/// recent low-end x86 CPUs and some virtual machines lack them; there `convviz` says so
/// instead, and how to build for any x86-64 CPU. It parses the flags itself rather than
/// share `BLAS.recommendedCoreType`'s parsing: that is ConvVizCore's code, built for the
/// very extensions being checked.
enum CPUSupport {
    /// The instruction-set extensions the build needs that `cpuinfo` (the text of
    /// `/proc/cpuinfo`) does not list; empty when nothing is missing or nothing is known.
    static func missingExtensions(cpuinfo: String) -> [String] {
        guard let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        let flags = Set(flagsLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }).map(String.init))
        return ["avx2", "fma"].filter { !flags.contains($0) }
    }

    /// Exits with a one-line explanation when this build cannot run on this CPU.
    static func requireBuildExtensions() {
        #if CONVVIZ_X86_64_V3
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        let missing = missingExtensions(cpuinfo: cpuinfo)
        guard !missing.isEmpty else { return }
        FileHandle.standardError.write(Data(("convviz: this build needs a CPU with AVX2 and FMA (x86-64-v3); this one lacks "
            + missing.joined(separator: " and ")
            + ". Rebuild for any x86-64 CPU with: rm -rf .build && CONVVIZ_PORTABLE=1 swift build -c release\n").utf8))
        exit(1)
        #endif
    }
}
