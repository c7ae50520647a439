import Foundation

extension FeatureVisualization {
    /// dLoss/d(input) as `Graph.inputGradient` computes it, except at ReLUs: Lucid's
    /// `redirected_relu_grad`. Where a ReLU passes no gradient at all for an image (its
    /// unit is dead on that noise), the gradient passes anyway except where it would push
    /// an input that is already negative lower (input <= 0 and gradient > 0: the optimizer
    /// descends). `outputs` must hold every ReLU's output (kept by the forward pass).
    ///
    /// The walk mirrors `Graph.inputGradient`, which has no hook for one layer's rule.
    func inputGradientRedirectingReLU(_ gradOutput: Tensor, outputs: [Int: Tensor]) -> Tensor {
        var grads: [Int: Tensor] = [layer: gradOutput]
        func accumulate(_ g: Tensor, into j: Int) {
            if var existing = grads[j] {
                for k in 0..<existing.count { existing.data[k] += g.data[k] }
                grads[j] = existing
            } else {
                grads[j] = g
            }
        }
        for i in stride(from: layer, through: 0, by: -1) {
            guard let g = grads.removeValue(forKey: i) else { continue }
            switch graph.operations[i] {
            case let .layer(op):
                guard var dx = op.backward(g, needsInputGradient: true) else { continue }
                if op is ReLU, let y = outputs[i] { Self.redirect(&dx, gradient: g, output: y) }
                accumulate(dx, into: graph.wiring[i][0])
            case let .merge(merge):
                for (dx, j) in zip(merge.backward(g), graph.wiring[i]) { accumulate(dx, into: j) }
            }
        }
        return grads[-1] ?? Tensor(shape: [gradOutput.shape[0]] + graph.inputShape)
    }

    /// Per image: when the ReLU's gradient `dx` is zero everywhere, replace it by the
    /// redirected one (g, zeroed where y <= 0 and g > 0).
    static func redirect(_ dx: inout Tensor, gradient g: Tensor, output y: Tensor) {
        let n = dx.shape[0], per = dx.count / max(n, 1)
        for b in 0..<n {
            let range = (b * per)..<((b + 1) * per)
            guard range.allSatisfy({ dx.data[$0] == 0 }) else { continue }
            for k in range { dx.data[k] = y.data[k] <= 0 && g.data[k] > 0 ? 0 : g.data[k] }
        }
    }
}
