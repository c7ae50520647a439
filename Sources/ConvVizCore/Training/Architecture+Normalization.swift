extension Architecture {
    /// Which normalization a network uses after its convolutions.
    public enum NormalizationChoice: Equatable, Sendable {
        case batch, layer, instance, group(Int), none

        public init?(parsing text: String) {
            switch text {
            case "batch": self = .batch
            case "layer": self = .layer
            case "instance": self = .instance
            case "none": self = .none
            default:
                guard text.hasPrefix("group:"), let g = Int(text.dropFirst(6)), g >= 1 else { return nil }
                self = .group(g)
            }
        }
    }

    /// The same network with every BatchNorm replaced by `choice` (or removed for
    /// `.none`); the new layers are named like the old ones (`bn1` becomes `ln1`, `gn1`...).
    public func replacingBatchNorm(with choice: NormalizationChoice) -> Architecture {
        var copy = self
        copy.layers = layers.compactMap { spec in
            guard spec.kind == .batchnorm else { return spec }
            let index = spec.name.flatMap { name in name.hasPrefix("bn") ? String(name.dropFirst(2)) : nil } ?? ""
            var kind: LayerSpec.Kind
            var groups: Int?
            switch choice {
            case .batch: return spec
            case .none: return nil
            case .layer: kind = .layernorm
            case .instance: kind = .instancenorm
            case let .group(g): kind = .groupnorm; groups = g
            }
            return LayerSpec(kind, name: index.isEmpty ? nil : kind.namePrefix + index, groups: groups)
        }
        return Architecture(name: name, input: input, layers: copy.layers)
    }
}
