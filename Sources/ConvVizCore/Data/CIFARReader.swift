import Foundation

/// Reads CIFAR-10 binary batches (`data_batch_1.bin` ... `test_batch.bin`): records of
/// one label byte (0-9) and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major
/// 32x32), which is already CHW.
public enum CIFARReader {
    public static let recordSize = 1 + 3 * 32 * 32

    /// Refused by its size before a byte is read when larger than `limits.maxDataBytes`
    /// (a sparse 614 MB file would otherwise become 2.4 GB of floats).
    public static func read(_ url: URL, limits: ReadLimits = .default) throws -> LabeledImages {
        try parse(try FileReading.read(url, maxBytes: limits.maxDataBytes, what: "CIFAR-10 file"), file: url.path, limits: limits)
    }

    public static func parse(_ data: Data, file: String, limits: ReadLimits = .default) throws -> LabeledImages {
        guard !data.isEmpty else { throw ReadError(file, .truncated, "empty CIFAR-10 file") }
        guard data.count <= limits.maxDataBytes else {
            throw ReadError(file, .tooLarge, "CIFAR-10 file is \(data.count) bytes, more than the limit of \(limits.maxDataBytes) (ReadLimits.maxDataBytes, --max-data-bytes)")
        }
        guard data.count % recordSize == 0 else {
            throw ReadError(file, .truncated, "CIFAR-10 file is \(data.count) bytes, not a multiple of the \(recordSize)-byte record (truncated?)")
        }
        let n = data.count / recordSize
        var images = Tensor(shape: [n, 3, 32, 32])
        var labels = [Int](repeating: 0, count: n)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            for r in 0..<n {
                let label = Int(b[r * recordSize])
                guard label < 10 else { throw ReadError(file, .badLabel, "record \(r) has label \(label), outside 0-9") }
                labels[r] = label
                for i in 0..<3072 { images.data[r * 3072 + i] = Float(b[r * recordSize + 1 + i]) / 255 }
            }
        }
        return LabeledImages(images: images, labels: labels,
                             classes: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
    }
}
