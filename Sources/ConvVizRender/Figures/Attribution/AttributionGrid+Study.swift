import ConvVizCore
import Foundation

extension AttributionGrid {
    /// The grid of a study: a row per (image, class) pair, a column per method; the
    /// caption gives each image's top-5 predictions, the CAM layer's receptive field and
    /// integrated gradients' completeness gap. `names` label the images (file names),
    /// `labels` the classes (index when nil or short).
    public init(study: AttributionStudy, photos: [Tensor?], names: [String], labels: [String]?, language l: Language = .en) {
        func className(_ k: Int) -> String {
            if let labels, k < labels.count, !labels[k].isEmpty { return "\(labels[k]) (\(k))" }
            return l("class \(k)", "类别 \(k)")
        }
        let columns = study.methods.map { Column(name: $0.rawValue, signed: $0.isSigned) }
        let rows = study.pairs.indices.map { i in
            let pair = study.pairs[i]
            return Row(photo: photos[pair.image], label: "\(names[pair.image])\n\(className(pair.classIndex))",
                       maps: study.maps.map { $0[i].display })
        }
        self.init(columns: columns, rows: rows)
        var notes: [String] = []
        for (image, top) in study.predictions.enumerated() {
            let list = top.map { "\(className($0.classIndex)) \(String(format: "%.1f", $0.probability * 100))%" }.joined(separator: l.listSeparator)
            notes.append(l("\(names[image]): top 5: \(list).", "\(names[image])：前 5 类：\(list)。"))
        }
        if let layer = study.layer {
            let map = layer.shape.count == 3 ? "\(layer.shape[1])x\(layer.shape[2])" : "\(layer.shape)"
            let field = "\(Int(layer.receptiveField[0]))x\(Int(layer.receptiveField[1]))", jump = "\(Int(layer.jump[0]))x\(Int(layer.jump[1]))"
            notes.append(l("Class activation maps at layer \(layer.name): a \(map) map, each cell seeing \(field) input pixels (theoretical receptive field) \(jump) pixels apart, upsampled bilinearly.",
                           "类激活图取自层 \(layer.name)：\(map) 的图，每格看到 \(field) 个输入像素（理论感受野），间隔 \(jump) 像素，双线性上采样。"))
        }
        if let m = study.methods.firstIndex(of: .integratedGradients) {
            let gaps = study.maps[m].map { String(format: "%.3g", $0.completenessGap ?? 0) }.joined(separator: l.listSeparator)
            notes.append(l("Integrated gradients' completeness gap F(x) - F(baseline) - sum of attributions: \(gaps).",
                           "积分梯度的完备性误差 F(x) - F(基线) - 归因之和：\(gaps)。"))
        }
        let signed = study.methods.filter(\.isSigned).map(\.rawValue)
        if !signed.isEmpty {
            notes.append(l("Signed maps (\(signed.joined(separator: ", "))) on a red-blue scale symmetric around 0, summed over colour channels; colour bars give each column's range.",
                           "有符号的图（\(signed.joined(separator: "、"))）用以 0 为中心的红蓝色标，对颜色通道求和；色条给出每列的取值范围。"))
        }
        self.notes = notes
        text = FigureText(language: l)
    }
}
