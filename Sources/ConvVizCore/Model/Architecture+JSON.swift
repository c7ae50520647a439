import Foundation

extension Architecture {
    /// Parses the JSON form, rejecting unknown types and keys with the layer's name.
    public init(json data: Data) throws {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ArchitectureError.notJSON("invalid JSON (\(FileReading.reason(error)))")
        }
        guard let root = object as? [String: Any] else { throw ArchitectureError.notJSON("the top level must be an object") }
        // JSONSerialization keeps one of two equal keys silently (two "out"s, two "layers").
        if let duplicate = JSONDuplicateKeys.first(in: data) {
            throw ArchitectureError.notJSON("key '\(duplicate.key)' is given twice in \(duplicate.location)")
        }
        for key in root.keys where !["name", "input", "layers", "aliases"].contains(key) {
            throw ArchitectureError.unknownKey(layer: "(top level)", key: key)
        }
        guard let input = root["input"] as? [Any], input.count == 3,
              let dims = Optional(input.compactMap(Self.integer)), dims.count == 3, dims.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 })
        else { throw ArchitectureError.notJSON("'input' must be [C, H, W] with positive integers") }
        guard let layerObjects = root["layers"] as? [Any] else { throw ArchitectureError.notJSON("'layers' must be a list") }
        var specs: [LayerSpec] = []
        for (index, item) in layerObjects.enumerated() {
            guard let dict = item as? [String: Any] else { throw ArchitectureError.notJSON("layer \(index) is not an object") }
            specs.append(try LayerSpec(json: dict, index: index))
        }
        var aliases: [String: String] = [:]
        if let given = root["aliases"] {
            guard let table = given as? [String: String] else { throw ArchitectureError.notJSON("'aliases' must map names to layer names") }
            aliases = table
        }
        self.init(name: root["name"] as? String ?? "model", input: dims, layers: specs, aliases: aliases)
        _ = try wiring()
    }

    /// Reads an architecture file; errors name it (a file over 16 MiB is refused unread).
    public init(contentsOf url: URL) throws {
        let data = try FileReading.read(url, maxBytes: 16 << 20, what: "architecture JSON")
        do { try self.init(json: data) } catch let e as ArchitectureError {
            throw ReadError(url.path, .corrupt, e.description)
        } catch let e as ShapeError {
            throw ReadError(url.path, .badShape, e.description)
        }
    }

    static func integer(_ value: Any) -> Int? {
        guard let n = value as? NSNumber, !isJSONBool(n) else { return nil }
        let d = n.doubleValue
        guard d == d.rounded(), abs(d) < 1e9 else { return nil }
        return Int(d)
    }

    /// JSONSerialization gives booleans as NSNumber too; tell them apart by type.
    static func isJSONBool(_ n: NSNumber) -> Bool {
        String(describing: type(of: n)).contains("Boolean") || String(cString: n.objCType) == "c"
    }

    /// The canonical JSON form (every layer named, keys sorted), as stored in checkpoints.
    public func jsonData() -> Data {
        var root: [String: Any] = ["name": name, "input": input, "layers": layers.map { $0.jsonObject }]
        if !aliases.isEmpty { root["aliases"] = aliases }
        // Only strings, integers, finite numbers and booleans: serialization cannot fail.
        return (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}

extension LayerSpec {
    init(json dict: [String: Any], index: Int) throws {
        let label = (dict["name"] as? String) ?? "#\(index)"
        guard let typeName = dict["type"] as? String else { throw ArchitectureError.missingKey(layer: label, key: "type") }
        guard let kind = Kind(rawValue: typeName) else { throw ArchitectureError.unknownType(layer: label, type: typeName) }
        self.init(kind)
        if let n = dict["name"] {
            guard let s = n as? String, !s.isEmpty, s.count <= 512 else {
                throw ArchitectureError.invalidValue(layer: label, key: "name", message: "must be a non-empty string")
            }
            name = s
        }
        if let given = dict["inputs"] {
            guard let names = given as? [String], !names.isEmpty else {
                throw ArchitectureError.invalidValue(layer: label, key: "inputs", message: "must be a list of layer names")
            }
            inputs = names
        }
        for key in dict.keys where !["type", "name", "inputs"].contains(key) && !kind.allowedKeys.contains(key) {
            throw ArchitectureError.unknownKey(layer: label, key: key)
        }
        func int(_ key: String, minimum: Int) throws -> Int? {
            guard let v = dict[key] else { return nil }
            guard let i = Architecture.integer(v), i >= minimum else {
                throw ArchitectureError.invalidValue(layer: label, key: key, message: "must be an integer >= \(minimum)")
            }
            return i
        }
        func pair(_ key: String, minimum: Int) throws -> Pair? {
            guard let v = dict[key] else { return nil }
            if let i = Architecture.integer(v), i >= minimum { return Pair(i) }
            if let a = v as? [Any], a.count == 2, let h = Architecture.integer(a[0]), let w = Architecture.integer(a[1]),
               h >= minimum, w >= minimum { return Pair(h, w) }
            throw ArchitectureError.invalidValue(layer: label, key: key, message: "must be an integer >= \(minimum) or [h, w]")
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = dict[key] else { return nil }
            guard let n = v as? NSNumber, Architecture.isJSONBool(n) else {
                throw ArchitectureError.invalidValue(layer: label, key: key, message: "must be true or false")
            }
            return n.boolValue
        }
        func float(_ key: String, signed: Bool = false) throws -> Float? {
            guard let v = dict[key] else { return nil }
            guard let n = v as? NSNumber, !Architecture.isJSONBool(n), signed || n.doubleValue >= 0,
                  n.doubleValue.isFinite, abs(n.doubleValue) <= Double(Float.greatestFiniteMagnitude) else {
                throw ArchitectureError.invalidValue(layer: label, key: key, message: signed ? "must be a finite number" : "must be a non-negative number")
            }
            return n.floatValue
        }
        out = try int("out", minimum: 1)
        kernel = try pair("kernel", minimum: 1)
        stride = try pair("stride", minimum: 1)
        padding = try pair("padding", minimum: 0)
        dilation = try pair("dilation", minimum: 1)
        bias = try bool("bias")
        groups = try int("groups", minimum: 1)
        eps = try float("eps")
        momentum = try float("momentum")
        countIncludePad = try bool("count_include_pad")
        ceilMode = try bool("ceil_mode")
        min = try float("min", signed: true)
        max = try float("max", signed: true)
        negativeSlope = try float("negative_slope", signed: true)
        outputSize = try pair("output_size", minimum: 1)
        p = try float("p")
        if let min, let max, min > max {
            throw ArchitectureError.invalidValue(layer: label, key: "min", message: "must not exceed 'max'")
        }
    }

    var jsonObject: [String: Any] {
        var d: [String: Any] = ["type": kind.rawValue]
        if let name { d["name"] = name }
        if let inputs { d["inputs"] = inputs }
        func pair(_ p: Pair) -> Any { p.h == p.w ? p.h : [p.h, p.w] }
        if let out { d["out"] = out }
        if let kernel { d["kernel"] = pair(kernel) }
        if let stride { d["stride"] = pair(stride) }
        if let padding { d["padding"] = pair(padding) }
        if let dilation { d["dilation"] = pair(dilation) }
        if let bias { d["bias"] = bias }
        if let groups { d["groups"] = groups }
        if let eps { d["eps"] = Double(eps) }
        if let momentum { d["momentum"] = Double(momentum) }
        if let countIncludePad { d["count_include_pad"] = countIncludePad }
        if let ceilMode { d["ceil_mode"] = ceilMode }
        if let min { d["min"] = Double(min) }
        if let max { d["max"] = Double(max) }
        if let negativeSlope { d["negative_slope"] = Double(negativeSlope) }
        if let outputSize { d["output_size"] = pair(outputSize) }
        if let p { d["p"] = Double(p) }
        return d
    }
}
