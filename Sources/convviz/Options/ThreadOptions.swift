import ArgumentParser
import ConvVizCore

/// How many cores a computing command uses (`--threads`). Results do not depend on it:
/// sums over a batch run over fixed slices (`BatchPartition`) and OpenBLAS runs one
/// thread per worker, so 1, 2, 3 or 8 threads write the same checkpoint bytes (on one
/// machine: another CPU or OpenBLAS kernel rounds otherwise, see `BLAS.machine`).
struct ThreadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Worker threads (default: all cores). Results are byte-identical for any count on this machine.", valueName: "n"))
    var threads: Int?

    /// Checks the count and applies it. The parser validates option groups before any
    /// command runs, so this is the one place every computing command picks it up.
    func validate() throws {
        if let threads {
            guard (1...1024).contains(threads) else { throw ValidationError("--threads must be between 1 and 1024 (got \(threads))") }
            Parallel.workers = threads
        }
    }
}
