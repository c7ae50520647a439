import CBLAS
import Foundation

extension BLAS {
    /// The kernel family OpenBLAS chose at load time (`Prescott`, `Haswell`, `SkylakeX`).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration and chosen kernels.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// A better `OPENBLAS_CORETYPE` for this CPU, when OpenBLAS fell back to its generic
    /// SSE3 kernels.
    ///
    /// Debian's OpenBLAS 0.3.21 does not recognise CPUs newer than itself (Sapphire
    /// Rapids, for one) and then runs its Prescott kernels, about 4x slower than what
    /// the CPU can do. OpenBLAS reads `OPENBLAS_CORETYPE` only when it loads, so the
    /// command-line tool re-executes itself with it set (see `convviz`'s entry point).
    /// Returns nil when the user set the variable, or OpenBLAS already chose well.
    public static func recommendedCoreType(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, coreName == "Prescott",
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}

extension BLAS {
    /// OpenBLAS's version (`0.3.21`), the first number of its configuration string.
    public static var version: String {
        configuration.split(separator: " ").dropFirst().first.map(String.init) ?? "unknown"
    }

    /// The CPU's model name as `/proc/cpuinfo` gives it (`AMD EPYC 7B13`), or "unknown".
    public static func cpuModel(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    /// What fixes how this process rounds: the CPU, OpenBLAS's version and the kernels it
    /// runs. Checkpoints and `summary.json` record it. Same seed, same bytes holds between
    /// runs whose `machine` is equal, whatever their thread counts; between different
    /// ones, results agree within floating-point tolerances (each kernel family sums a
    /// product's terms in its own order), not bit for bit.
    public static var machine: [String: String] {
        ["cpu": cpuModel(), "openblas_version": version, "openblas_kernel": coreName]
    }

    /// `machine` as one line of JSON (sorted keys), for safetensors metadata.
    public static var machineJSON: String {
        let data = (try? JSONSerialization.data(withJSONObject: machine, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
