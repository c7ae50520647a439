import CGif
import Foundation

/// A giflib call that failed, with giflib's own explanation (`GifErrorString`). The
/// only place a giflib error code becomes a Swift error.
public struct GIFError: Error, CustomStringConvertible {
    public let operation: String
    public let reason: String
    public var description: String { "GIF \(operation) failed: \(reason)" }

    init(_ operation: String, code: Int32) {
        self.operation = operation
        reason = GifErrorString(code).map { String(cString: $0) } ?? "giflib error \(code)"
    }

    init(_ operation: String, reason: String) { self.operation = operation; self.reason = reason }
}

/// Writes animated GIFs through giflib.
///
/// A figure has few colours, so the palette is built from the frames' exact colours:
/// one global table when every frame's colours together fit 256, otherwise a local table
/// per frame when each changed region fits 256. A region with more than 256 colours
/// (antialiased text in several colours does that) keeps the figure's own colours exact
/// and quantizes only the blended edges (giflib's median cut); the result says which
/// frames, how many colours and by how much.
/// Frames after the first store only the rectangle that changed (disposal "leave in
/// place"), so a sliding window costs a few cells per frame.
public enum GIFEncoder {
    /// What the palette did, for the command to report.
    public struct Palette: Sendable, Equatable {
        /// Distinct colours over every frame, counted up to 257 (past 256 only "more" matters).
        public let colours: Int
        /// Frames (0-based) whose changed region had more than 256 colours and was quantized.
        public let quantizedFrames: [Int]
        /// Whether one global colour table served every frame.
        public let global: Bool
        /// Colours (per quantized frame, summed) that took the nearest kept colour.
        public let mappedColours: Int
        /// The largest difference in one channel (0-255) between a mapped colour and its
        /// replacement.
        public let maxError: Int
        public var isExact: Bool { quantizedFrames.isEmpty }
    }

    /// `frames` are opaque RGBA rasters of one size; `delay` in hundredths of a second
    /// per frame; the animation loops forever.
    public static func encode(_ frames: [RasterImage], delay: Int) throws -> (data: Data, palette: Palette) {
        try encode(frameCount: frames.count, delay: delay) { frames[$0] }
    }

    /// The same, drawing frame `k` when asked (twice: once to gather the colours, once to
    /// write), so that only two frames are held at a time however long the animation.
    public static func encode(frameCount: Int, delay: Int, frame: (Int) throws -> RasterImage) throws -> (data: Data, palette: Palette) {
        guard frameCount > 0 else { throw GIFError("encoding", reason: "an animation needs at least one frame") }
        let first = try frame(0)
        guard first.width <= 65535, first.height <= 65535 else { throw GIFError("encoding", reason: "a \(first.width)x\(first.height) frame is larger than GIF's 65535-pixel sides") }
        // Colours as 0xRRGGBB words.
        func words(_ f: RasterImage) -> [UInt32] {
            precondition(f.width == first.width && f.height == first.height, "GIF frames must share one size")
            return (0..<(f.width * f.height)).map { i in UInt32(f.pixels[4 * i]) << 16 | UInt32(f.pixels[4 * i + 1]) << 8 | UInt32(f.pixels[4 * i + 2]) }
        }
        var all = Set(words(first))
        for k in 1..<max(frameCount, 1) where all.count <= 256 { all.formUnion(words(try frame(k))) }
        let global = all.count <= 256 ? all.sorted() : nil

        let sink = Sink()
        var error: Int32 = 0
        guard let gif = EGifOpen(Unmanaged.passUnretained(sink).toOpaque(), { file, bytes, count in
            let sink = Unmanaged<Sink>.fromOpaque(file!.pointee.UserData!).takeUnretainedValue()
            sink.data.append(bytes!, count: Int(count))
            return count
        }, &error) else { throw GIFError("opening the encoder", code: error) }
        var closed = false
        defer { if !closed { EGifCloseFile(gif, nil) } }
        func check(_ status: Int32, _ what: String) throws { if status == GIF_ERROR { throw GIFError(what, code: gif.pointee.Error) } }

        EGifSetGifVersion(gif, true)
        let globalMap = try global.map { try ColorMap($0) }
        try check(EGifPutScreenDesc(gif, Int32(first.width), Int32(first.height), 8, 0, globalMap?.object), "writing the screen descriptor")
        // NETSCAPE2.0 application extension: loop forever.
        try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), "writing the loop extension")
        try check(Array("NETSCAPE2.0".utf8).withUnsafeBufferPointer { EGifPutExtensionBlock(gif, 11, $0.baseAddress) }, "writing the loop extension")
        try check([UInt8]([1, 0, 0]).withUnsafeBufferPointer { EGifPutExtensionBlock(gif, 3, $0.baseAddress) }, "writing the loop extension")
        try check(EGifPutExtensionTrailer(gif), "writing the loop extension")

        var quantized: [Int] = []
        var mapped = 0, maxError = 0
        var previous: [UInt32] = []
        for k in 0..<frameCount {
            let w = words(k == 0 ? first : try frame(k))
            let region = k == 0 ? Region(x: 0, y: 0, width: first.width, height: first.height) : Region.changed(previous, w, width: first.width, height: first.height)
            previous = w
            var gcb = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false, DelayTime: Int32(delay), TransparentColor: NO_TRANSPARENT_COLOR)
            var extensionBytes = [UInt8](repeating: 0, count: 4)
            let n = EGifGCBToExtension(&gcb, &extensionBytes)
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, Int32(n), extensionBytes), "writing frame \(k)'s timing")

            var indices = [UInt8](repeating: 0, count: region.width * region.height)
            var localMap: ColorMap?
            func pixel(_ i: Int) -> UInt32 { w[(region.y + i / region.width) * first.width + region.x + i % region.width] }
            if let global {
                let index = Dictionary(uniqueKeysWithValues: global.enumerated().map { ($1, UInt8($0)) })
                for i in 0..<indices.count { indices[i] = index[pixel(i)]! }
            } else {
                let colours = Set((0..<indices.count).map(pixel)).sorted()
                if colours.count <= 256 {
                    let index = Dictionary(uniqueKeysWithValues: colours.enumerated().map { ($1, UInt8($0)) })
                    for i in 0..<indices.count { indices[i] = index[pixel(i)]! }
                    localMap = try ColorMap(colours)
                } else {
                    // More than 256 (antialiased text in several colours): the figure's
                    // own colours (those covering at least `flatPixels` pixels: fills,
                    // strokes, the insides of glyphs) stay exact; giflib's median cut
                    // (`GifQuantizeBuffer`) spends the remaining entries on the rest (the
                    // blended edges of glyphs), each of which takes the nearest entry.
                    quantized.append(k)
                    var counts: [UInt32: Int] = [:]
                    for i in 0..<indices.count { counts[pixel(i), default: 0] += 1 }
                    let flat = counts.filter { $0.value >= flatPixels }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(192).map(\.key)
                    let flatSet = Set(flat)
                    let rest = (0..<indices.count).map(pixel).filter { !flatSet.contains($0) }
                    var palette = flat
                    if !rest.isEmpty {
                        var red = rest.map { UInt8(truncatingIfNeeded: $0 >> 16) }, green = rest.map { UInt8(truncatingIfNeeded: $0 >> 8) }, blue = rest.map { UInt8(truncatingIfNeeded: $0) }
                        var out = [UInt8](repeating: 0, count: rest.count)
                        var table = [GifColorType](repeating: GifColorType(), count: 256)
                        var size = Int32(256 - flat.count)
                        guard GifQuantizeBuffer(UInt32(rest.count), 1, &size, &red, &green, &blue, &out, &table) == GIF_OK else {
                            throw GIFError("quantizing frame \(k)", reason: "giflib's quantizer failed")
                        }
                        for t in table.prefix(Int(size)) {
                            let c = UInt32(t.Red) << 16 | UInt32(t.Green) << 8 | UInt32(t.Blue)
                            if !flatSet.contains(c) && palette.count < 256 { palette.append(c) }
                        }
                    }
                    palette = Array(Set(palette)).sorted()
                    var index = Dictionary(uniqueKeysWithValues: palette.enumerated().map { ($1, UInt8($0)) })
                    for i in 0..<indices.count {
                        let c = pixel(i)
                        if let j = index[c] { indices[i] = j; continue }
                        let j = nearest(c, in: palette)
                        index[c] = UInt8(j)
                        indices[i] = UInt8(j)
                        mapped += 1
                        maxError = max(maxError, channelDistance(c, palette[j]))
                    }
                    localMap = try ColorMap(palette)
                }
            }
            try check(EGifPutImageDesc(gif, Int32(region.x), Int32(region.y), Int32(region.width), Int32(region.height), false, localMap?.object), "writing frame \(k)")
            for row in 0..<region.height {
                try check(indices.withUnsafeMutableBufferPointer { EGifPutLine(gif, $0.baseAddress! + row * region.width, Int32(region.width)) }, "writing frame \(k)")
            }
        }
        closed = true
        if EGifCloseFile(gif, &error) == GIF_ERROR { throw GIFError("finishing the file", code: error) }
        return (sink.data, Palette(colours: all.count, quantizedFrames: quantized, global: global != nil, mappedColours: mapped, maxError: maxError))
    }

    /// A colour covering at least this many pixels of a region is one of the figure's own
    /// (a fill, a stroke, the inside of glyphs), kept exact when a region is quantized.
    static let flatPixels = 24

    final class Sink { var data = Data() }

    /// The index of the colour of `kept` nearest to `c` (squared RGB distance).
    static func nearest(_ c: UInt32, in kept: [UInt32]) -> Int {
        var best = 0, bestDistance = Int.max
        for (j, k) in kept.enumerated() {
            let dr = Int(c >> 16 & 255) - Int(k >> 16 & 255), dg = Int(c >> 8 & 255) - Int(k >> 8 & 255), db = Int(c & 255) - Int(k & 255)
            let d = dr * dr + dg * dg + db * db
            if d < bestDistance { bestDistance = d; best = j }
        }
        return best
    }

    static func channelDistance(_ a: UInt32, _ b: UInt32) -> Int {
        max(abs(Int(a >> 16 & 255) - Int(b >> 16 & 255)), abs(Int(a >> 8 & 255) - Int(b >> 8 & 255)), abs(Int(a & 255) - Int(b & 255)))
    }

    /// A giflib colour map (freed in `deinit`), padded to a power of two as GIF needs.
    final class ColorMap {
        let object: UnsafeMutablePointer<ColorMapObject>
        init(_ colours: [UInt32]) throws {
            var size = 2
            while size < colours.count { size *= 2 }
            var table = colours.map { GifColorType(Red: UInt8(truncatingIfNeeded: $0 >> 16), Green: UInt8(truncatingIfNeeded: $0 >> 8), Blue: UInt8(truncatingIfNeeded: $0)) }
            table += Array(repeating: GifColorType(), count: size - table.count)
            guard let object = GifMakeMapObject(Int32(size), table) else { throw GIFError("making a colour map", reason: "out of memory") }
            self.object = object
        }
        deinit { GifFreeMapObject(object) }
    }

    /// The bounding rectangle of the pixels that differ between two frames (at least one pixel).
    struct Region {
        let x: Int, y: Int, width: Int, height: Int
        static func changed(_ a: [UInt32], _ b: [UInt32], width: Int, height: Int) -> Region {
            var x0 = width, y0 = height, x1 = -1, y1 = -1
            for y in 0..<height {
                for x in 0..<width where a[y * width + x] != b[y * width + x] {
                    x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                }
            }
            return x1 < 0 ? Region(x: 0, y: 0, width: 1, height: 1) : Region(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
        }
    }
}

/// Reads GIFs through giflib, composing each frame onto the screen as a viewer does
/// (disposal, transparency, local and global colour tables). The tests read ConvViz's
/// animations back with it.
public enum GIFDecoder {
    public struct Frame: Sendable {
        public let image: RasterImage
        /// Hundredths of a second.
        public let delay: Int
    }

    public static func decode(_ data: Data) throws -> [Frame] {
        let source = Source(data)
        var error: Int32 = 0
        guard let gif = DGifOpen(Unmanaged.passUnretained(source).toOpaque(), { file, buffer, count in
            let source = Unmanaged<Source>.fromOpaque(file!.pointee.UserData!).takeUnretainedValue()
            let n = min(Int(count), source.bytes.count - source.offset)
            if n > 0 { source.bytes.withUnsafeBufferPointer { buffer!.update(from: $0.baseAddress! + source.offset, count: n) } }
            source.offset += n
            return Int32(n)
        }, &error) else { throw GIFError("opening the decoder", code: error) }
        defer { DGifCloseFile(gif, nil) }
        guard DGifSlurp(gif) == GIF_OK else { throw GIFError("reading", code: gif.pointee.Error) }
        let (width, height) = (Int(gif.pointee.SWidth), Int(gif.pointee.SHeight))
        var screen = RasterImage(width: width, height: height, fill: .white)
        var frames: [Frame] = []
        for k in 0..<Int(gif.pointee.ImageCount) {
            let saved = gif.pointee.SavedImages[k]
            var gcb = GraphicsControlBlock(DisposalMode: DISPOSAL_UNSPECIFIED, UserInputFlag: false, DelayTime: 0, TransparentColor: NO_TRANSPARENT_COLOR)
            _ = DGifSavedExtensionToGCB(gif, Int32(k), &gcb)
            let desc = saved.ImageDesc
            guard let map = desc.ColorMap ?? gif.pointee.SColorMap else { throw GIFError("reading frame \(k)", reason: "no colour table") }
            let previous = screen
            for row in 0..<Int(desc.Height) {
                for col in 0..<Int(desc.Width) {
                    let (x, y) = (Int(desc.Left) + col, Int(desc.Top) + row)
                    guard x < width, y < height else { continue }
                    let index = Int(saved.RasterBits[row * Int(desc.Width) + col])
                    guard index != Int(gcb.TransparentColor), index < Int(map.pointee.ColorCount) else { continue }
                    let c = map.pointee.Colors[index], o = 4 * (y * width + x)
                    screen.pixels[o] = c.Red; screen.pixels[o + 1] = c.Green; screen.pixels[o + 2] = c.Blue; screen.pixels[o + 3] = 255
                }
            }
            frames.append(Frame(image: screen, delay: Int(gcb.DelayTime)))
            switch gcb.DisposalMode {
            case DISPOSE_BACKGROUND:
                for row in 0..<Int(desc.Height) { for col in 0..<Int(desc.Width) where Int(desc.Left) + col < width && Int(desc.Top) + row < height {
                    screen.set(Int(desc.Left) + col, Int(desc.Top) + row, .white)
                } }
            case DISPOSE_PREVIOUS: screen = previous
            default: break
            }
        }
        return frames
    }

    final class Source {
        let bytes: [UInt8]
        var offset = 0
        init(_ data: Data) { bytes = [UInt8](data) }
    }
}
