import Foundation

extension Architecture {
    /// Parses the JSON form, rejecting unknown types and keys with the layer's name.
    public init(json data: Data) throws {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ArchitectureError.notJSON("invalid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any] else { throw ArchitectureError.notJSON("the top level must be an object") }
        for key in root.keys where !["name", "input", "layers"].contains(key) {
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
        self.init(name: root["name"] as? String ?? "model", input: dims, layers: specs)
    }

    public init(contentsOf url: URL) throws {
        try self.init(json: try Data(contentsOf: url))
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
        let root: [String: Any] = ["name": name, "input": input, "layers": layers.map { $0.jsonObject }]
        return try! JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }
}

extension LayerSpec {
    init(json dict: [String: Any], index: Int) throws {
        let label = (dict["name"] as? String) ?? "#\(index)"
        guard let typeName = dict["type"] as? String else { throw ArchitectureError.missingKey(layer: label, key: "type") }
        guard let kind = Kind(rawValue: typeName) else { throw ArchitectureError.unknownType(layer: label, type: typeName) }
        self.init(kind)
        if let n = dict["name"] {
            guard let s = n as? String, !s.isEmpty, !s.contains(".") else {
                throw ArchitectureError.invalidValue(layer: label, key: "name", message: "must be a non-empty string without '.'")
            }
            name = s
        }
        for key in dict.keys where key != "type" && key != "name" && !kind.allowedKeys.contains(key) {
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
        func float(_ key: String) throws -> Float? {
            guard let v = dict[key] else { return nil }
            guard let n = v as? NSNumber, !Architecture.isJSONBool(n), n.doubleValue >= 0, n.doubleValue.isFinite else {
                throw ArchitectureError.invalidValue(layer: label, key: key, message: "must be a non-negative number")
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
    }

    var jsonObject: [String: Any] {
        var d: [String: Any] = ["type": kind.rawValue]
        if let name { d["name"] = name }
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
        return d
    }
}
