/// Questions about an architecture's wiring (`Architecture.wiring()`: per layer, the
/// indices of its inputs, -1 for the network's input; inputs come before their readers).
enum Wiring {
    /// The layers `last` depends on, itself included.
    static func ancestors(of last: Int, in wiring: [[Int]]) -> Set<Int> {
        var needed: Set<Int> = [last]
        for i in stride(from: last, through: 0, by: -1) where needed.contains(i) {
            for j in wiring[i] where j >= 0 { needed.insert(j) }
        }
        return needed
    }

    /// The layers `lasts` depend on, themselves included, without looking past the
    /// layers of `stops` (which are included, their inputs not).
    static func ancestors(of lasts: [Int], in wiring: [[Int]], stoppingAt stops: Set<Int>) -> Set<Int> {
        var needed = Set(lasts)
        guard let top = lasts.max() else { return needed }
        for i in stride(from: top, through: 0, by: -1) where needed.contains(i) && !stops.contains(i) {
            for j in wiring[i] where j >= 0 { needed.insert(j) }
        }
        return needed
    }

    /// How many layers read each layer's output.
    static func readerCounts(_ wiring: [[Int]]) -> [Int] {
        var readers = [Int](repeating: 0, count: wiring.count)
        for sources in wiring { for j in sources where j >= 0 { readers[j] += 1 } }
        return readers
    }
}
