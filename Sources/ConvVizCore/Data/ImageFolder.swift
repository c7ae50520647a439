import Foundation

/// A folder of PNGs with one subfolder per class (`DIR/cat/*.png`, `DIR/dog/*.png`),
/// every image resized (bilinear) to `height x width` with `channels` channels.
public enum ImageFolder {
    public static func load(_ directory: URL, channels: Int, height: Int, width: Int, limits: ReadLimits = .default) throws -> LabeledImages {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw ReadError(directory.path, .notFound, "no such folder")
        }
        let classes = try fm.contentsOfDirectory(atPath: directory.path).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &d) && d.boolValue
        }.sorted()
        guard !classes.isEmpty else { throw ReadError(directory.path, .badShape, "no class subfolders (expected DIR/<class>/*.png)") }
        var samples: [Tensor] = [], labels: [Int] = []
        // Every image becomes channels x height x width floats: the set is bounded as it grows.
        guard let size = boundedElementCount([channels, height, width], limit: limits.maxElements), size > 0 else {
            throw ReadError(directory.path, .tooLarge, "images of \(channels)x\(height)x\(width) exceed the limit of \(limits.maxElements) values (--max-elements)")
        }
        for (label, name) in classes.enumerated() {
            let sub = directory.appendingPathComponent(name)
            let files = try fm.contentsOfDirectory(atPath: sub.path).filter { $0.lowercased().hasSuffix(".png") }.sorted()
            for f in files {
                guard (samples.count + 1) <= limits.maxElements / size else {
                    throw ReadError(directory.path, .tooLarge, "more than \(samples.count) images of \(channels)x\(height)x\(width) exceed the limit of \(limits.maxElements) values (--max-elements)")
                }
                let image = try PNGDecoder.decode(contentsOf: sub.appendingPathComponent(f), limits: limits)
                let file = sub.appendingPathComponent(f).path
                samples.append(ImageResize.bilinear(try ImageResize.channels(image, channels, file: file), height: height, width: width))
                labels.append(label)
            }
        }
        guard !samples.isEmpty else { throw ReadError(directory.path, .badShape, "no PNG files in the class subfolders") }
        var data = [Float](); data.reserveCapacity(samples.count * size)
        for s in samples { data += s.data }
        return LabeledImages(images: Tensor(shape: [samples.count, channels, height, width], data: data), labels: labels, classes: classes)
    }
}

/// Resizing and channel conversion for `[C, H, W]` images.
public enum ImageResize {
    /// Bilinear resize with half-pixel centres (as PIL and OpenCV do).
    public static func bilinear(_ image: Tensor, height: Int, width: Int) -> Tensor {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        if h == height && w == width { return image }
        var out = Tensor(shape: [c, height, width])
        let sy = Float(h) / Float(height), sx = Float(w) / Float(width)
        for y in 0..<height {
            let fy = max(0, (Float(y) + 0.5) * sy - 0.5)
            let y0 = min(Int(fy), h - 1), y1 = min(y0 + 1, h - 1), ty = fy - Float(y0)
            for x in 0..<width {
                let fx = max(0, (Float(x) + 0.5) * sx - 0.5)
                let x0 = min(Int(fx), w - 1), x1 = min(x0 + 1, w - 1), tx = fx - Float(x0)
                for ch in 0..<c {
                    let p = ch * h * w
                    let top = image.data[p + y0 * w + x0] * (1 - tx) + image.data[p + y0 * w + x1] * tx
                    let bottom = image.data[p + y1 * w + x0] * (1 - tx) + image.data[p + y1 * w + x1] * tx
                    out.data[(ch * height + y) * width + x] = top * (1 - ty) + bottom * ty
                }
            }
        }
        return out
    }

    /// Gray to RGB by repetition, RGB to gray by the Rec. 601 luma weights.
    public static func channels(_ image: Tensor, _ target: Int) -> Tensor {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        if c == target { return image }
        let plane = h * w
        if c == 1 && target == 3 { return Tensor(shape: [3, h, w], data: image.data + image.data + image.data) }
        if c == 3 && target == 1 {
            var out = Tensor(shape: [1, h, w])
            for i in 0..<plane { out.data[i] = 0.299 * image.data[i] + 0.587 * image.data[plane + i] + 0.114 * image.data[2 * plane + i] }
            return out
        }
        preconditionFailure("cannot convert \(c) channels to \(target)")
    }

    /// Whether a photograph (gray or RGB) can become an image of `channels` channels.
    public static func convertible(to channels: Int) -> Bool { channels == 1 || channels == 3 }

    /// `channels(_:_:)` for an image read from `file`: a network taking another number of
    /// channels than gray (1) or RGB (3) is refused in one line naming the file, never a trap.
    public static func channels(_ image: Tensor, _ target: Int, file: String) throws -> Tensor {
        let c = image.shape.first ?? 0
        guard c == target || ((c == 1 || c == 3) && convertible(to: target)) else {
            throw ReadError(file, .badShape, "the image has \(c) channel(s) and the network takes \(target); ConvViz converts between gray (1) and RGB (3) only")
        }
        return channels(image, target)
    }
}
