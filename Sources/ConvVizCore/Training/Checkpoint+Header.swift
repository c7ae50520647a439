import Foundation

extension Checkpoint {
    /// What a checkpoint's header says, read without decoding a tensor or building a
    /// layer: for `shapes`, `volumes` and `inspect`, which need the network's description
    /// and never its weights.
    public struct Header {
        public var architecture: Architecture
        public var step: Int
        public var epoch: Int
        /// Values the file's tensors hold, from their declared shapes.
        public var storedValues: Int
    }

    /// Reads the header of a ConvViz checkpoint: the architecture metadata (checked
    /// against the parameter budget), step and epoch, and whether the file holds as many
    /// values as the architecture learns.
    public static func header(of url: URL, limits: ReadLimits = .default) throws -> Header {
        try header(of: try SafeTensorsFile(contentsOf: url, limits: limits), file: url.path)
    }

    static func header(of file: SafeTensorsFile, file path: String) throws -> Header {
        guard let archText = file.metadata[Key.architecture] else {
            throw ReadError(path, .unsupported, "not a ConvViz checkpoint (no '\(Key.architecture)' metadata); for a state dict give the architecture: --model ARCH.json --weights \(URL(fileURLWithPath: path).lastPathComponent)")
        }
        let architecture: Architecture
        do { architecture = try Architecture(json: Data(archText.utf8)) } catch {
            throw ReadError(path, .corrupt, "architecture metadata: \(error)")
        }
        let step = Int(file.metadata[Key.step] ?? "0"), epoch = Int(file.metadata[Key.epoch] ?? "0")
        guard let step, let epoch, step >= 0, epoch >= 0 else {
            throw ReadError(path, .corrupt, "metadata gives step '\(OneLine.escaped(file.metadata[Key.step] ?? ""))' and epoch '\(OneLine.escaped(file.metadata[Key.epoch] ?? ""))'; both must be non-negative integers")
        }
        // Counters at their limits: a run resumed at step Int.max would go on from there.
        guard step <= TrainingSettings.stepLimit, epoch <= step || epoch <= 1 else {
            throw ReadError(path, .corrupt, step > TrainingSettings.stepLimit
                ? "metadata gives step \(step), more than the limit of \(TrainingSettings.stepLimit) (2^53) a run can count to"
                : "metadata gives epoch \(epoch) at step \(step); an epoch has at least one step")
        }
        // Checked from the description before any weight is allocated (a tiny file can ask for 10^8 filters).
        let needed: Int
        do {
            try architecture.checkParameterBudget()
            needed = try architecture.learnableParameterCount()
        } catch { throw ReadError(path, .tooLarge, "architecture metadata: \(error)") }
        let held = file.entries.reduce(0) { LayerSpec.sum($0, checkedProduct($1.shape) ?? Int.max) }
        guard held >= needed else {
            throw ReadError(path, .badShape, "the architecture metadata needs \(needed) learned values, the file holds \(held)")
        }
        return Header(architecture: architecture, step: step, epoch: epoch, storedValues: held)
    }
}
