import ConvVizCore
import Foundation

extension TrainingCurves {
    /// The curves of a `compare-norms` run: accuracy against steps (its "epochs" are
    /// slices of the budget, not passes over the data), a caption that states the budget
    /// in steps, images and true epochs, the final accuracies, and, where BatchNorm ends
    /// below no normalization, that this is what this budget measured.
    public static func comparison(_ comparison: NormalizationComparison, runs: [NormalizationComparison.Run], trainingImages: Int,
                                  dataName: String, text: FigureText = FigureText()) throws -> TrainingCurves {
        let l = text.language
        var figure = TrainingCurves(runs: try runs.map { run in
            let metrics = try RunDirectory.metrics(in: run.directory)
            return Run(name: l.name(run.choice), loss: metrics.loss, accuracy: run.accuracyBySteps(metrics).map { ($0.step, $0.value) })
        })
        figure.accuracyAxis = .step
        figure.text = text
        let steps = runs.map(\.summary.steps).max() ?? comparison.maxSteps
        let images = steps * comparison.batchSize
        let epochs = Double(images) / Double(max(trainingImages, 1))
        figure.title = l("Normalization compared: \(comparison.architecture.name) on \(dataName), \(steps) steps, seed \(comparison.seed)",
                         "归一化方法比较：\(comparison.architecture.name)，数据 \(dataName)，\(steps) 步，随机种子 \(comparison.seed)")
        figure.notes.append(l(String(format: "Budget per run: %d steps of batch %d = %@ images, %.2g epochs of the %@ training images; constant learning rate %g; the same seed and data order for every run.",
                                     steps, comparison.batchSize, FigureNumber.grouped(images), epochs, FigureNumber.grouped(trainingImages), comparison.learningRate),
                              String(format: "每次训练的预算：%d 步，批大小 %d，共 %@ 张图像，相当于 %@ 张训练图像的 %.2g 轮；学习率恒为 %g；所有训练使用相同的随机种子和数据顺序。",
                                     steps, comparison.batchSize, FigureNumber.grouped(images), FigureNumber.grouped(trainingImages), epochs, comparison.learningRate)))
        let finals = runs.compactMap { run in run.summary.testAccuracy.map { (run.choice, $0) } }
        if !finals.isEmpty {
            let list = finals.map { "\(l.name($0.0)) \(FigureNumber.percent($0.1))" }.joined(separator: l.listSeparator)
            figure.notes.append(l("Final test accuracy: \(list).", "最终测试准确率：\(list)。"))
        }
        if let bn = finals.first(where: { $0.0 == .batch })?.1, let none = finals.first(where: { $0.0 == .none })?.1, bn < none {
            let gap = (none - bn) * 100
            figure.notes.append(l(String(format: "BatchNorm ends %.1f points below no normalization: that is what one run each, at this budget (%.2g epochs) and this constant learning rate, measured. Runs this short do not test what BatchNorm is used for (stable training at higher learning rates over many epochs); compare with more steps (--max-steps) or a higher --lr.", gap, epochs),
                                  String(format: "批归一化最终比无归一化低 %.1f 个百分点：这是在该预算（%.2g 轮）和该恒定学习率下各训练一次的实测结果。如此短的训练检验不到批归一化的用处（在多轮训练中以更高的学习率稳定训练）；可用更多步数（--max-steps）或更高的 --lr 再比较。", gap, epochs)))
        }
        return figure
    }
}
