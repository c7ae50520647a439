extension TrainingSettings {
    /// Settings for a run whose budget is a number of steps (the comparisons and the
    /// lecture's runs): `epochs` only slices the budget where given, and about 20 lines of
    /// metrics are logged whatever the length.
    public static func stepBudget(steps: Int, batchSize: Int, learningRate: Float, schedule: Schedule, seed: UInt64,
                                  epochs: Int = Int.max / 2, logPoints: Int = 20) -> TrainingSettings {
        var s = TrainingSettings()
        s.epochs = epochs
        s.maxSteps = steps
        s.batchSize = batchSize
        s.learningRate = learningRate
        s.schedule = schedule
        s.seed = seed
        s.logEvery = max(1, steps / logPoints)
        return s
    }
}
