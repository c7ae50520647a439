import Foundation

/// An ONNX file mapped copy-on-write, its initializers' `raw_data` hidden from the
/// protobuf parser and read in place, one tensor at a time.
///
/// Why: SwiftProtobuf copies every `bytes` field it parses, so parsing the mapped file
/// held each weight twice (the file's pages and the parsed copy) before the conversion to
/// floats even began: ResNet-50's 102 MB file made a 233 MiB peak. Here a walk of the
/// wire format finds each initializer's `raw_data` (ModelProto.graph = 7,
/// GraphProto.initializer = 5, TensorProto.raw_data = 9) and renumbers its tag to an
/// unknown field (15, the same one byte), which the parser skips without reading; the
/// decoder then converts each tensor straight from the mapping and gives its pages back
/// (`releasePages`). Lengths do not change, so nothing else in the file moves. A file the
/// walk does not understand (malformed, a repeated graph, a group) is left as it is and
/// parsed as before, with the parser's own errors.
final class ONNXMappedModel {
    /// The whole file, tags already renumbered; valid while this object lives.
    let data: Data
    /// Byte ranges of the hidden `raw_data`, by initializer position.
    let rawData: [Int: Range<Int>]
    private let base: UnsafeMutableRawPointer
    private let size: Int

    /// Files below this size are read as before: there is nothing to save.
    static let minimumSize = 1 << 20

    /// Maps `url` (already checked: a regular file within the size limit); nil when it
    /// cannot be mapped, is small, or its layout is not understood.
    init?(_ url: URL) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var s = stat()
        guard fstat(fd, &s) == 0, s.st_size >= Self.minimumSize else { return nil }
        size = Int(s.st_size)
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        base = p
        let bytes = UnsafeMutableRawBufferPointer(start: p, count: size)
        guard let found = Self.hiddenRawData(bytes) else { munmap(p, size); return nil }
        rawData = found
        data = Data(bytesNoCopy: p, count: size, deallocator: .none)
        InputFiles.note(url)
    }

    deinit { munmap(base, size) }

    /// Initializer `index`'s raw bytes, in place (no copy), if they were hidden.
    func rawBytes(ofInitializer index: Int) -> Data? {
        guard let range = rawData[index] else { return nil }
        return Data(bytesNoCopy: base + range.lowerBound, count: range.count, deallocator: .none)
    }

    /// Gives back the whole pages of initializer `index`'s bytes once they are converted:
    /// a private file mapping's pages are read again from the file if ever touched.
    func releasePages(ofInitializer index: Int) {
        guard let range = rawData[index] else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        if end > start { madvise(base + start, end - start, MADV_DONTNEED) }
    }

    // MARK: - The wire format, as far as the walk needs it

    private struct Field {
        let number: Int, wireType: Int
        let tag: Range<Int>, payload: Range<Int>
    }

    /// Renumbers the `raw_data` tags and returns their payloads by initializer position,
    /// or nil (nothing changed) when the layout is not the plain one.
    private static func hiddenRawData(_ bytes: UnsafeMutableRawBufferPointer) -> [Int: Range<Int>]? {
        guard let model = fields(bytes, 0..<bytes.count) else { return nil }
        let graphs = model.filter { $0.number == 7 }
        guard graphs.count == 1, graphs[0].wireType == 2, let graph = fields(bytes, graphs[0].payload) else { return nil }
        var found: [Int: Range<Int>] = [:], tags: [Int] = []
        var index = 0
        for initializer in graph where initializer.number == 5 {
            guard initializer.wireType == 2, let tensor = fields(bytes, initializer.payload) else { return nil }
            let raw = tensor.filter { $0.number == 9 }
            guard raw.count <= 1 else { return nil }
            if let r = raw.first, r.wireType == 2, r.tag.count == 1, bytes[r.tag.lowerBound] == 0x4A {
                found[index] = r.payload
                tags.append(r.tag.lowerBound)
            }
            index += 1
        }
        for t in tags { bytes[t] = 0x7A }  // field 15, length-delimited: unknown to TensorProto
        return found
    }

    /// The fields of one message, or nil when it is not well formed.
    private static func fields(_ bytes: UnsafeMutableRawBufferPointer, _ range: Range<Int>) -> [Field]? {
        var out: [Field] = []
        var i = range.lowerBound
        while i < range.upperBound {
            let start = i
            guard let key = varint(bytes, &i, end: range.upperBound) else { return nil }
            let number = Int(key >> 3), wireType = Int(key & 7)
            let tag = start..<i
            var payloadStart = i
            switch wireType {
            case 0: guard varint(bytes, &i, end: range.upperBound) != nil else { return nil }
            case 1: i += 8
            case 5: i += 4
            case 2:
                guard let length = varint(bytes, &i, end: range.upperBound), length <= UInt64(range.upperBound - i) else { return nil }
                payloadStart = i
                i += Int(length)
            default: return nil  // groups (3, 4) and invalid types
            }
            guard i <= range.upperBound, number > 0 else { return nil }
            out.append(Field(number: number, wireType: wireType, tag: tag, payload: payloadStart..<i))
        }
        return out
    }

    private static func varint(_ bytes: UnsafeMutableRawBufferPointer, _ i: inout Int, end: Int) -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0
        while i < end && shift < 64 {
            let byte = bytes[i]
            i += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
