import Foundation

/// The result as JSON, written byte for byte the same for the same result (so that a
/// merged scan can be compared with an unsharded one by bytes):
///
/// `{"model", "layer", "data", "split", "top", "channels": [{"channel": c, "patches":
/// [{"image", "y", "x", "value", "box": [top, left, height, width]}]}]}`, patches best
/// first, keys in that order, one patch per line, values as Float's shortest exact text.
///
/// A partial result (`--save-partial`, what `merge` reads) adds `"partial"` with the
/// scan's settings, and each patch's `"bits"`: the value's IEEE-754 bits in hex, so that
/// reading it back cannot round.
extension TopPatches {
    public func json(partial: Bool = false) -> String {
        var out = "{\"model\": \(Self.quoted(model)), \"layer\": \(Self.quoted(layer)), \"data\": \(Self.quoted(data)), "
        out += "\"split\": \(Self.quoted(split)), \"top\": \(top),"
        if partial {
            let s = scan
            out += "\n \"partial\": {\"shards\": [\(s.shards.map(String.init).joined(separator: ", "))], \"shard_count\": \(s.shardCount), "
            out += "\"batch\": \(s.batch), \"images\": \(s.images), \"scanned\": \(s.scanned), "
            out += "\"standardization\": {\"mean\": [\(s.standardization.mean.map { "\($0)" }.joined(separator: ", "))], "
            out += "\"std\": [\(s.standardization.std.map { "\($0)" }.joined(separator: ", "))]}, "
            out += "\"crop\": \(Self.quoted(s.crop)), \"misaligned\": \(s.misaligned), \"input\": [\(s.input.map(String.init).joined(separator: ", "))]},"
        }
        out += "\n \"channels\": ["
        for (k, channel) in channels.enumerated() {
            out += "\n  {\"channel\": \(channel.channel), \"patches\": ["
            for (i, p) in channel.patches.enumerated() {
                out += "\n    {\"image\": \(p.image), \"y\": \(p.y), \"x\": \(p.x), \"value\": \(p.value), "
                out += "\"box\": [\(p.box.map(String.init).joined(separator: ", "))]"
                if partial { out += ", \"bits\": \"\(String(p.value.bitPattern, radix: 16))\"" }
                out += "}" + (i < channel.patches.count - 1 ? "," : "")
            }
            out += "]}" + (k < channels.count - 1 ? "," : "")
        }
        return out + "\n]}\n"
    }

    /// A JSON string literal (Foundation's escaping; a String always encodes).
    static func quoted(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    /// Reads a partial result written by `json(partial: true)`; errors name `file`.
    public init(partialJSON data: Data, file: String) throws {
        func bad(_ why: String) -> ReadError { ReadError(file, .corrupt, why) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw bad("not a JSON object (a top-patches result written with --save-partial?)")
        }
        guard let partial = root["partial"] as? [String: Any] else {
            throw bad("not a partial result: no \"partial\" record (write the parts with --save-partial)")
        }
        func int(_ object: [String: Any], _ key: String, in context: String) throws -> Int {
            guard let n = object[key] as? NSNumber, let v = Int(exactly: n.doubleValue) else { throw bad("\(context): \"\(key)\" must be an integer") }
            return v
        }
        func string(_ object: [String: Any], _ key: String) throws -> String {
            guard let s = object[key] as? String else { throw bad("\"\(key)\" must be a string") }
            return s
        }
        func floats(_ object: [String: Any], _ key: String) throws -> [Float] {
            guard let a = object[key] as? [NSNumber] else { throw bad("standardization: \"\(key)\" must be a list of numbers") }
            return a.map { Float($0.doubleValue) }
        }
        guard let shards = partial["shards"] as? [NSNumber], !shards.isEmpty,
              let standardization = partial["standardization"] as? [String: Any],
              let input = partial["input"] as? [NSNumber], input.count == 3, input.allSatisfy({ $0.intValue >= 1 }) else {
            throw bad("\"partial\" needs \"shards\" (a list of shard indices), \"standardization\" and \"input\" [C, H, W]")
        }
        let scan = Scan(shards: shards.map(\.intValue), shardCount: try int(partial, "shard_count", in: "partial"),
                        batch: try int(partial, "batch", in: "partial"), images: try int(partial, "images", in: "partial"),
                        scanned: try int(partial, "scanned", in: "partial"),
                        standardization: Standardization(mean: try floats(standardization, "mean"), std: try floats(standardization, "std")),
                        crop: try string(partial, "crop"), misaligned: partial["misaligned"] as? Bool ?? false, input: input.map(\.intValue))
        guard scan.shardCount >= 1, scan.shards.allSatisfy({ $0 >= 0 && $0 < scan.shardCount }), Set(scan.shards).count == scan.shards.count else {
            throw bad("shards \(scan.shards) do not fit a cut into \(scan.shardCount)")
        }
        let top = try int(root, "top", in: "result")
        guard top >= 1 else { throw bad("\"top\" must be at least 1") }
        guard let channelList = root["channels"] as? [[String: Any]] else { throw bad("\"channels\" must be a list of objects") }
        var channels: [Channel] = []
        for (k, object) in channelList.enumerated() {
            let c = try int(object, "channel", in: "channels[\(k)]")
            guard let list = object["patches"] as? [[String: Any]], list.count <= top else {
                throw bad("channel \(c): \"patches\" must be a list of at most \(top) objects")
            }
            var patches: [Patch] = []
            for (i, p) in list.enumerated() {
                let context = "channel \(c), patch \(i)"
                guard let hex = p["bits"] as? String, let bits = UInt32(hex, radix: 16) else { throw bad("\(context): \"bits\" must be the value's bits in hex") }
                guard let box = p["box"] as? [NSNumber], box.count == 4 else { throw bad("\(context): \"box\" must be [top, left, height, width]") }
                let patch = Patch(image: try int(p, "image", in: context), y: try int(p, "y", in: context), x: try int(p, "x", in: context),
                                  value: Float(bitPattern: bits), box: box.map(\.intValue))
                guard patch.value.isFinite, patch.image >= 0, patch.image < scan.images else { throw bad("\(context): image \(patch.image) or value \(patch.value) out of range") }
                if let previous = patches.last, !Patch.ranksBefore(previous, patch) { throw bad("\(context): patches are not best first") }
                patches.append(patch)
            }
            channels.append(Channel(channel: c, patches: patches))
        }
        self.init(model: try string(root, "model"), layer: try string(root, "layer"), data: try string(root, "data"),
                  split: try string(root, "split"), top: top, channels: channels, scan: scan)
    }
}
