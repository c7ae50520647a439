import ConvVizCore
import Foundation

/// Every `convviz` process of one machine multiplies with the same OpenBLAS kernels, so
/// that a figure drawn by one command and the numbers of another round alike.
enum OpenBLASKernels {
    /// Re-executes this process once with `OPENBLAS_CORETYPE` set when OpenBLAS did not
    /// recognise the CPU (see `BLAS.recommendedCoreType`). The variable stays set in the
    /// new process, where `recommendedCoreType` then returns nil: at most one re-exec.
    /// Called for every command (not only those that train): a drawing command that runs
    /// a network must get the kernels `train` got. It costs one more start-up (a few
    /// milliseconds), and only on such CPUs.
    static func select() {
        guard let core = BLAS.recommendedCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let args = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", args)
        // execv returns only on failure: carry on with the generic kernels.
    }
}
