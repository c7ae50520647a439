/// How a layer's kernels `[C_out, C_in, K, K]` are drawn: a `FilterMosaic` (one tile
/// per filter, colour when it has three input channels), a `KernelGrid` (one filter per
/// row, one input channel per column; 1x1 kernels as a heat map) or a `KernelPCA`.
public enum KernelView: String, CaseIterable, Sendable {
    case auto, mosaic, grid, pca

    /// The view `.auto` stands for: 1x1 kernels have no spatial shape to show, so they
    /// are drawn as the grid's C_out x C_in heat map, unless the caller asked for
    /// something only the mosaic draws (strips, class grouping, a per-filter or min-max
    /// scale). Any other view is kept as asked.
    public func resolved(shape: [Int], strips: Bool = false, byClass: Bool = false,
                         normalization: FilterMosaic.Normalization? = nil) -> KernelView {
        guard self == .auto else { return self }
        let oneByOne = shape.count == 4 && shape[2] == 1 && shape[3] == 1
        let mosaicOnly = strips || byClass || (normalization != nil && normalization != .globalSymmetric)
        return oneByOne && !mosaicOnly ? .grid : .mosaic
    }
}
