/// The course's vocabulary in English and Chinese (simplified), one term per case, so
/// every figure names a concept the same way; a term is added when a figure uses it.
/// The Chinese terms are the usual ones in Chinese deep-learning courses (感受野, 步幅,
/// 最大池化, 批归一化, ...).
public enum Term: Sendable {
    case filter, input, output
    case image, batch, batchSize
    case receptiveField, stride
    case maxPooling, averagePooling, oneByOne, relu
    case batchNorm, layerNorm, instanceNorm, groupNorm, noNormalization
    case mean, variance, runningMean, runningVariance
    case training, testing, step, epoch, loss, accuracy, testAccuracy
    case firstLayerFilters, hyperparameters

    public var english: String {
        switch self {
        case .filter: "filter"
        case .input: "input"
        case .output: "output"
        case .image: "image"
        case .batch: "batch"
        case .batchSize: "batch size"
        case .receptiveField: "receptive field"
        case .stride: "stride"
        case .maxPooling: "max pooling"
        case .averagePooling: "average pooling"
        case .oneByOne: "1x1 convolution"
        case .relu: "ReLU"
        case .batchNorm: "BatchNorm"
        case .layerNorm: "LayerNorm"
        case .instanceNorm: "InstanceNorm"
        case .groupNorm: "GroupNorm"
        case .noNormalization: "no normalization"
        case .mean: "mean"
        case .variance: "variance"
        case .runningMean: "running mean"
        case .runningVariance: "running variance"
        case .training: "training"
        case .testing: "test"
        case .step: "step"
        case .epoch: "epoch"
        case .loss: "loss"
        case .accuracy: "accuracy"
        case .testAccuracy: "test accuracy"
        case .firstLayerFilters: "first-layer filters"
        case .hyperparameters: "hyperparameters"
        }
    }

    public var chinese: String {
        switch self {
        case .filter: "滤波器"
        case .input: "输入"
        case .output: "输出"
        case .image: "图像"
        case .batch: "批"
        case .batchSize: "批大小"
        case .receptiveField: "感受野"
        case .stride: "步幅"
        case .maxPooling: "最大池化"
        case .averagePooling: "平均池化"
        case .oneByOne: "1x1 卷积"
        case .relu: "ReLU"
        case .batchNorm: "批归一化"
        case .layerNorm: "层归一化"
        case .instanceNorm: "实例归一化"
        case .groupNorm: "组归一化"
        case .noNormalization: "无归一化"
        case .mean: "均值"
        case .variance: "方差"
        case .runningMean: "滑动平均均值"
        case .runningVariance: "滑动平均方差"
        case .training: "训练"
        case .testing: "测试"
        case .step: "步"
        case .epoch: "轮"
        case .loss: "损失"
        case .accuracy: "准确率"
        case .testAccuracy: "测试准确率"
        case .firstLayerFilters: "第一层滤波器"
        case .hyperparameters: "超参数"
        }
    }
}
