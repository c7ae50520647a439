/// How a ReLU passes a gradient back: the rules that separate saliency from guided
/// backpropagation and the deconvnet (Captum's `Saliency`, `GuidedBackprop`,
/// `Deconvolution`, which override the backward pass of every ReLU module alike).
public enum ReLURule: String, Sendable, CaseIterable {
    /// The true gradient: `g * [y > 0]`.
    case plain
    /// Guided backpropagation (Springenberg et al., 2015): `max(g, 0) * [y > 0]`, only
    /// positive gradients through units that were active.
    case guided
    /// Zeiler and Fergus's deconvnet (2014): `max(g, 0)` whatever the forward pass was.
    case deconvnet
    /// Lucid's `redirected_relu_grad` (feature visualization's first steps): the true
    /// gradient, except for an image whose ReLU passes none at all (its units dead on
    /// that noise): there `g`, zeroed only where it would push an input already <= 0
    /// lower (`y <= 0` and `g > 0`: the optimizer descends).
    case redirected
}

/// Why a gradient cannot be computed: what was asked, and what to do instead.
public struct GradientError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Graph {
    /// The gradient of `seed · (output of last)` at each value of `targets` (layer
    /// indices; -1 is the network's input), after a recording forward pass through
    /// `last` (`forward(_:mode: .evaluationWithGradients, ...)`).
    ///
    /// Only the layers between the lowest target and `last` run backward. With
    /// `parameterGradients` false, convolutions and linear layers compute input gradients only (no weight
    /// products: about half the work of training's backward pass); parameters' `grad`
    /// are then left as they were or hold partial sums, and should not be used.
    /// ReLUs pass gradients back by `rule`. Throws when there was no recording forward
    /// pass through `last`, when `seed` does not have the recorded output's shape, or
    /// when a target does not feed `last` (no gradient reaches it), never zeros in place
    /// of a gradient.
    public func gradients(_ seed: Tensor, from last: Int, at targets: Set<Int>, rule: ReLURule = .plain,
                          parameterGradients: Bool = false) throws -> [Int: Tensor] {
        guard operations.indices.contains(last) else { throw GradientError("no layer \(last): the network has \(operations.count)") }
        let lastName = operations[last].name
        guard recorded.layers.contains(last) else {
            throw GradientError("no recording forward pass reached layer '\(lastName)': run forward with mode .evaluationWithGradients through it first")
        }
        let expected = [recorded.batch] + shapes[last]
        guard seed.shape == expected else {
            throw GradientError("the gradient at '\(lastName)' has shape \(seed.shape); its recorded output has \(expected)")
        }
        let needed = Wiring.ancestors(of: last, in: wiring)
        for t in targets where t != -1 && !needed.contains(t) {
            guard operations.indices.contains(t) else { throw GradientError("no layer \(t): the network has \(operations.count)") }
            throw GradientError("no gradient reaches layer '\(operations[t].name)' from '\(lastName)': its output does not feed '\(lastName)'")
        }
        guard let lowest = targets.min() else { return [:] }

        return try accumulatingParameterGradients(parameterGradients) {
            try walkBack(seed, from: last, at: targets, lowest: lowest, needed: needed, rule: rule, lastName: lastName)
        }
    }

    /// Runs `body` with every convolution and linear layer adding parameter gradients or
    /// not (`accumulates`), then puts each back as it was.
    func accumulatingParameterGradients<T>(_ accumulates: Bool, _ body: () throws -> T) rethrows -> T {
        let layers = operations.compactMap { op -> (any ParameterGradientToggle)? in
            if case let .layer(l) = op { return l as? any ParameterGradientToggle }
            return nil
        }
        let saved = layers.map(\.accumulatesParameterGradients)
        for l in layers { l.accumulatesParameterGradients = accumulates }
        defer { for (l, s) in zip(layers, saved) { l.accumulatesParameterGradients = s } }
        return try body()
    }

    private func walkBack(_ seed: Tensor, from last: Int, at targets: Set<Int>, lowest: Int, needed: Set<Int>, rule: ReLURule,
                          lastName: String) throws -> [Int: Tensor] {

        var grads: [Int: Tensor] = [last: seed]
        var found: [Int: Tensor] = [:]
        func accumulate(_ g: Tensor, into j: Int) {
            if var existing = grads.removeValue(forKey: j) {
                existing.data.withUnsafeMutableBufferPointer { e in g.data.withUnsafeBufferPointer { a in
                    for k in 0..<e.count { e[k] += a[k] }
                }}
                grads[j] = existing
            } else {
                grads[j] = g
            }
        }
        for i in stride(from: last, through: Swift.max(lowest, 0), by: -1) where needed.contains(i) {
            // Every reader of layer i comes after it: its gradient is complete here.
            if targets.contains(i) { found[i] = grads[i] }
            if i == lowest { break }
            if recorded.replaced.contains(i) {
                throw GradientError("layer '\(operations[i].name)' was given, not computed, in the recorded pass: no gradient goes past it")
            }
            guard let g = grads.removeValue(forKey: i) else { continue }
            switch operation(i, recording: true) {
            case let .layer(layer):
                let dx: Tensor?
                if rule != .plain, let relu = layer as? ReLU { dx = relu.backward(g, rule: rule) } else {
                    dx = layer.backward(g, needsInputGradient: true)
                }
                if let dx { accumulate(dx, into: wiring[i][0]) }
            case let .merge(merge):
                for (dx, j) in zip(merge.backward(g), wiring[i]) { accumulate(dx, into: j) }
            }
        }
        if targets.contains(-1) { found[-1] = grads[-1] }
        for t in targets where found[t] == nil {
            let name = t < 0 ? "the input" : "layer '\(operations[t].name)'"
            throw GradientError("no gradient reaches \(name) from '\(lastName)'")
        }
        return found
    }
}
