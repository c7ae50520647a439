import ArgumentParser
import ConvVizCore

/// The readers' memory budget (`ReadLimits`) from the command line: the defaults keep
/// any input under 100 MB under 1 GB of memory; each option raises (or lowers) one bound.
struct ReadLimitOptions: ParsableArguments {
    @Option(help: "Largest image, in pixels, before a PNG is refused.")
    var maxPixels: Int = ReadLimits.default.maxPixels
    @Option(help: "Largest tensor, in elements, before a file is refused.")
    var maxElements: Int = ReadLimits.default.maxElements
    @Option(help: "Most bytes of training data in one file after decompression (IDX, CIFAR-10), checked before reading.")
    var maxDataBytes: Int = ReadLimits.default.maxDataBytes
    @Option(help: "Most tensors in one safetensors file, counted before its header is parsed.")
    var maxTensorCount: Int = ReadLimits.default.maxTensorCount

    func validate() throws {
        for (name, value) in [("--max-pixels", maxPixels), ("--max-elements", maxElements), ("--max-data-bytes", maxDataBytes), ("--max-tensor-count", maxTensorCount)] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
    }

    var limits: ReadLimits {
        var l = ReadLimits()
        l.maxPixels = maxPixels
        l.maxElements = maxElements
        l.maxDataBytes = maxDataBytes
        l.maxTensorCount = maxTensorCount
        return l
    }
}
