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

/// Writes animated GIFs through giflib, from frames of at most 256 colours each
/// (`IndexedImage`; `AnimationRaster` draws an animation's frames so), whose colours it
/// keeps exactly: one global colour table when every frame's colours together fit 256,
/// otherwise each frame's own table. Frames after the first store only the rectangle
/// that changed (disposal "leave in place"), so a sliding window costs a few cells per frame.
public enum GIFEncoder {
    /// The colour tables written.
    public struct Palette: Sendable, Equatable {
        /// Distinct colours over every frame, counted up to 257 (past 256 only "more" matters).
        public let colours: Int
        /// Whether one global colour table served every frame.
        public let global: Bool
    }

    /// `delay` in hundredths of a second per frame; the animation loops forever.
    public static func encode(_ frames: [IndexedImage], delay: Int) throws -> (data: Data, palette: Palette) {
        try encode(frameCount: frames.count, delay: delay) { frames[$0] }
    }

    /// The same, asking for frame `k` when needed (twice: once to gather the colours,
    /// once to write), so that a caller may draw frames again instead of holding them.
    public static func encode(frameCount: Int, delay: Int, frame: (Int) throws -> IndexedImage) throws -> (data: Data, palette: Palette) {
        guard frameCount > 0 else { throw GIFError("encoding", reason: "an animation needs at least one frame") }
        let first = try frame(0)
        guard first.width <= 65535, first.height <= 65535 else { throw GIFError("encoding", reason: "a \(first.width)x\(first.height) frame is larger than GIF's 65535-pixel sides") }
        var all = Set(first.colours)
        for k in 1..<max(frameCount, 1) where all.count <= 256 { all.formUnion(try frame(k).colours) }
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

        let globalIndex = global.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, UInt8($0)) }) }
        var previous: IndexedImage?
        for k in 0..<frameCount {
            let f = k == 0 ? first : try frame(k)
            precondition(f.width == first.width && f.height == first.height, "GIF frames must share one size")
            let region = previous.map { Region.changed($0, f) } ?? Region(x: 0, y: 0, width: f.width, height: f.height)
            previous = f
            var gcb = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false, DelayTime: Int32(delay), TransparentColor: NO_TRANSPARENT_COLOR)
            var extensionBytes = [UInt8](repeating: 0, count: 4)
            let n = EGifGCBToExtension(&gcb, &extensionBytes)
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, Int32(n), extensionBytes), "writing frame \(k)'s timing")
            // The frame's indices into the global table, or its own table.
            let remap = globalIndex.map { index in f.colours.map { index[$0]! } } ?? Array(0...255).map(UInt8.init)
            let localMap = global == nil ? try ColorMap(f.colours) : nil
            try check(EGifPutImageDesc(gif, Int32(region.x), Int32(region.y), Int32(region.width), Int32(region.height), false, localMap?.object), "writing frame \(k)")
            var line = [UInt8](repeating: 0, count: region.width)
            for row in region.y..<(region.y + region.height) {
                let start = row * f.width + region.x
                for i in 0..<region.width { line[i] = remap[Int(f.indices[start + i])] }
                try check(line.withUnsafeMutableBufferPointer { EGifPutLine(gif, $0.baseAddress!, Int32(region.width)) }, "writing frame \(k)")
            }
        }
        closed = true
        if EGifCloseFile(gif, &error) == GIF_ERROR { throw GIFError("finishing the file", code: error) }
        return (sink.data, Palette(colours: all.count, global: global != nil))
    }

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
        static func changed(_ a: IndexedImage, _ b: IndexedImage) -> Region {
            let (width, height) = (a.width, a.height)
            // Colours compared, not indices: each frame numbers its colours its own way.
            var same = [Bool](repeating: false, count: 256 * 256)
            for (i, c) in a.colours.enumerated() { for (j, d) in b.colours.enumerated() where c == d { same[i * 256 + j] = true } }
            var x0 = width, y0 = height, x1 = -1, y1 = -1
            same.withUnsafeBufferPointer { same in
                a.indices.withUnsafeBufferPointer { ai in
                    b.indices.withUnsafeBufferPointer { bi in
                        for y in 0..<height {
                            for x in 0..<width where !same[Int(ai[y * width + x]) << 8 | Int(bi[y * width + x])] {
                                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                            }
                        }
                    }
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
            let (left, top, w, h) = (Int(desc.Left), Int(desc.Top), Int(desc.Width), Int(desc.Height))
            let (transparent, count) = (Int(gcb.TransparentColor), Int(map.pointee.ColorCount))
            screen.pixels.withUnsafeMutableBufferPointer { p in
                for row in 0..<h where top + row < height {
                    for col in 0..<w where left + col < width {
                        let index = Int(saved.RasterBits[row * w + col])
                        guard index != transparent, index < count else { continue }
                        let c = map.pointee.Colors[index], o = 4 * ((top + row) * width + left + col)
                        p[o] = c.Red; p[o + 1] = c.Green; p[o + 2] = c.Blue; p[o + 3] = 255
                    }
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
