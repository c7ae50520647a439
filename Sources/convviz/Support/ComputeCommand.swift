import ArgumentParser
import ConvVizCore
import Foundation

/// A command that multiplies enough matrices for OpenBLAS's choice of kernels to matter
/// (training, benchmarks). `ConvViz.main` gives such a command the right kernels before
/// it runs; drawing commands multiply too little to pay for a second start-up.
protocol ComputeCommand: ParsableCommand {}

enum OpenBLASKernels {
    /// Re-executes this process once with `OPENBLAS_CORETYPE` set when OpenBLAS did not
    /// recognise the CPU (see `BLAS.recommendedCoreType`). The variable stays set in the
    /// new process, where `recommendedCoreType` then returns nil: at most one re-exec.
    static func select() {
        guard let core = BLAS.recommendedCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let args = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", args)
        // execv returns only on failure: carry on with the generic kernels.
    }
}
