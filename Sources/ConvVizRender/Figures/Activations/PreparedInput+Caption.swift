import ConvVizCore

extension ModelInput.Preparation {
    /// One sentence saying how the network's input was made, in `language`.
    public func caption(_ l: Language) -> String {
        switch self {
        case let .array(file, shape):
            let dims = shape.map(String.init).joined(separator: "x")
            return l("Input \(file) \(dims), fed as it is.", "输入 \(file) \(dims)，原样送入网络。")
        case let .photo(h, w, standardization):
            let list = { (v: [Float]) in v.map { String($0) }.joined(separator: ", ") }
            let how: (en: String, zh: String)
            switch standardization {
            case let .given(mean, std): how = ("mean \(list(mean)), std \(list(std))", "均值 \(list(mean))、标准差 \(list(std))")
            case .trainingRun: how = ("the run's training statistics", "本次训练数据的统计量")
            case .imageNet: how = ("ImageNet mean and std", "ImageNet 的均值和标准差")
            case .generic: how = ("mean 0.5, std 0.25", "均值 0.5、标准差 0.25")
            }
            return l("Photo resized to \(h)x\(w) and standardized with \(how.en).", "照片缩放到 \(h)x\(w)，并用\(how.zh)标准化。")
        }
    }
}
