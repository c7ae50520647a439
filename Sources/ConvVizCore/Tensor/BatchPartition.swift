/// A batch cut into slices of a fixed number of samples, for sums over the batch.
///
/// A weight gradient is a sum over samples. Summed per worker, its rounding would
/// depend on how many workers there are, and a checkpoint made with 8 threads would
/// differ from one made with 2 on the same machine. Summed per slice instead (each
/// slice's samples in order, one worker per slice, then the slices in order), the result
/// depends only on the batch: any number of workers gives the same bytes. Another CPU
/// or OpenBLAS kernel rounds each slice's products in its own way, so across machines
/// the sums agree within float32 rounding, not bit for bit.
struct BatchPartition {
    /// Samples per slice by default. Eight gives 16 slices at batch 128: whole slices for
    /// 1, 2, 4 or 8 workers, and partial sums of a few weight-sized buffers.
    static let defaultSamplesPerSlice = 8

    let samples: Int
    let samplesPerSlice: Int
    var slices: Int { (samples + samplesPerSlice - 1) / samplesPerSlice }

    init(samples: Int, samplesPerSlice: Int = BatchPartition.defaultSamplesPerSlice) {
        precondition(samplesPerSlice >= 1)
        self.samples = samples
        self.samplesPerSlice = samplesPerSlice
    }

    /// Slices of 8 samples, or of 16, 32, ... where the partial sums of `count` floats
    /// per slice would otherwise pass `budget` floats (16 MiB), down to two slices (so
    /// that two cores still share the work): a wide layer's partials stay bounded. The
    /// choice depends on the batch and the layer only.
    init(samples: Int, partialsOf count: Int, budget: Int = 1 << 22) {
        var perSlice = Self.defaultSamplesPerSlice
        while 2 * perSlice < samples && (samples + perSlice - 1) / perSlice * count > budget { perSlice *= 2 }
        self.init(samples: samples, samplesPerSlice: perSlice)
    }

    /// The samples of slice `s`.
    func range(ofSlice s: Int) -> Range<Int> {
        s * samplesPerSlice..<min(samples, (s + 1) * samplesPerSlice)
    }

    /// Runs `body(slices)` on each worker's contiguous run of slices (a worker sets up
    /// its buffers once per call).
    func forEachWorker(_ body: (Range<Int>) -> Void) {
        Parallel.forEachRange(slices) { _, slices in body(slices) }
    }

    /// Adds the slices' partial sums (`slices` consecutive blocks of `count` floats) onto
    /// `target`, slice after slice for every element; elements are shared among workers,
    /// which does not change any element's order of additions.
    func addSlices(_ partial: UnsafePointer<Float>, count: Int, onto target: UnsafeMutablePointer<Float>) {
        let slices = self.slices
        Parallel.forEachRange(count, minimumPerPart: 1 << 14) { _, elements in
            for s in 0..<slices {
                let p = partial + s * count
                for i in elements { target[i] += p[i] }
            }
        }
    }

    func addSlices(_ partial: [Float], onto target: inout [Float]) {
        let count = target.count
        precondition(partial.count == slices * count, "partial sums \(partial.count), want \(slices) x \(count)")
        partial.withUnsafeBufferPointer { p in
            target.withUnsafeMutableBufferPointer { t in addSlices(p.baseAddress!, count: count, onto: t.baseAddress!) }
        }
    }
}
