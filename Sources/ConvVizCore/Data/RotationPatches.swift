/// Self-supervised rotation prediction (Gidaris et al., ICLR 2018) on the sample
/// photographs: each patch is rotated by 0, 90, 180 or 270 degrees and labelled with
/// the rotation. Telling "up" from "sideways" needs oriented structure (edges, horizon
/// lines, gravity-aligned objects) rather than a photo's overall colour, which is what
/// pushes first-layer filters towards edges.
public enum RotationPatches {
    public static let classes = ["0°", "90°", "180°", "270°"]

    /// `count` patches of `size x size`; rotation labels balanced by construction.
    public static func make(from names: [String] = SamplePhotos.colorNames, size: Int, count: Int, shortSide: Int? = nil,
                            seed: UInt64) throws -> LabeledImages {
        // No mirror flips: a flip turns a 90° rotation into a mirrored 270° one.
        var base = try SamplePhotos.patches(from: names, size: size, count: count, channels: 3, flips: false, shortSide: shortSide, seed: seed)
        let plane = size * size
        for i in 0..<count {
            let k = i % 4
            base.labels[i] = k
            guard k > 0 else { continue }
            for c in 0..<3 {
                let o = (i * 3 + c) * plane
                let src = Array(base.images.data[o..<(o + plane)])
                for y in 0..<size { for x in 0..<size {
                    // Rotating counter-clockwise by k quarter turns.
                    let (sy, sx): (Int, Int) = switch k {
                    case 1: (x, size - 1 - y)
                    case 2: (size - 1 - y, size - 1 - x)
                    default: (size - 1 - x, y)
                    }
                    base.images.data[o + y * size + x] = src[sy * size + sx]
                }}
            }
        }
        base.classes = classes
        return base
    }
}
