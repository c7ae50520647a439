/// An opaque raster of at most 256 colours: a colour table and one index per pixel,
/// what a GIF frame stores.
public struct IndexedImage: Sendable, Equatable {
    public let width: Int, height: Int
    /// 0xRRGGBB words in the order first met, row by row (so the same pixels give the same table).
    public let colours: [UInt32]
    /// Row-major, one per pixel, into `colours`.
    public let indices: [UInt8]

    /// nil when `words` (0xRRGGBB, row-major) hold more than 256 colours.
    public init?(words: [UInt32], width: Int, height: Int) {
        precondition(words.count == width * height)
        // Open addressing over 1,024 slots (a quarter full at most); neighbours are mostly
        // one colour, so the last colour found is tried first.
        var keys = [UInt32](repeating: .max, count: 1024), slots = [UInt8](repeating: 0, count: 1024)
        var colours: [UInt32] = []
        var indices = [UInt8](repeating: 0, count: words.count)
        let ok = words.withUnsafeBufferPointer { w in
            indices.withUnsafeMutableBufferPointer { out in
                var last = UInt32.max, lastIndex: UInt8 = 0
                for i in 0..<w.count {
                    let c = w[i]
                    if c == last { out[i] = lastIndex; continue }
                    var h = Int(truncatingIfNeeded: (c &* 0x9E37_79B1) >> 22)
                    while keys[h] != c && keys[h] != .max { h = (h + 1) & 1023 }
                    if keys[h] == .max {
                        guard colours.count < 256 else { return false }
                        keys[h] = c
                        slots[h] = UInt8(colours.count)
                        colours.append(c)
                    }
                    last = c; lastIndex = slots[h]; out[i] = lastIndex
                }
                return true
            }
        }
        guard ok else { return nil }
        self.width = width; self.height = height; self.colours = colours; self.indices = indices
    }

    /// Pixel `i`'s colour as a 0xRRGGBB word.
    public func word(_ i: Int) -> UInt32 { colours[Int(indices[i])] }

    /// The same pixels as an RGBA raster.
    public var raster: RasterImage {
        var image = RasterImage(width: width, height: height)
        image.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<indices.count {
                let c = colours[Int(indices[i])]
                p[4 * i] = UInt8(truncatingIfNeeded: c >> 16); p[4 * i + 1] = UInt8(truncatingIfNeeded: c >> 8); p[4 * i + 2] = UInt8(truncatingIfNeeded: c); p[4 * i + 3] = 255
            }
        }
        return image
    }

    /// The pixels as 8-bit RGB, row-major.
    var rgb: [UInt8] {
        var rgb = [UInt8](repeating: 0, count: 3 * indices.count)
        rgb.withUnsafeMutableBufferPointer { p in
            for i in 0..<indices.count {
                let c = colours[Int(indices[i])]
                p[3 * i] = UInt8(truncatingIfNeeded: c >> 16); p[3 * i + 1] = UInt8(truncatingIfNeeded: c >> 8); p[3 * i + 2] = UInt8(truncatingIfNeeded: c)
            }
        }
        return rgb
    }
}
