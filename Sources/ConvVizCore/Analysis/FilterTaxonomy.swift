import Foundation

/// What each first-layer filter is, measured from its weights: orientation and spatial
/// frequency from the power spectrum, how oriented it is, how much of its energy is
/// colour rather than brightness, and a class.
///
/// Definitions (filter `w[c, y, x]`, K x K, C = 1 or 3; x to the right, y downward):
/// - luminance `L = mean_c w[c]`; chromatic part `w[c] - L`;
///   `chromaticFraction = |w - L|^2 / |w|^2` (0 for gray filters);
/// - opponency: energy along the red-green axis `(R - G)/sqrt(2)` and the blue-yellow
///   axis `((R + G)/2 - B) * sqrt(2/3)`, as fractions of `|w|^2`;
/// - spectrum: `P(f)` = summed power over channels of the zero-padded 2-D DFT, without DC;
/// - `orientation` in [0, 180): the angle of the dominant wave vector, from the
///   power-weighted circular mean of doubled angles, i.e. the direction across the
///   stripes (a vertical edge has orientation 0, a horizontal one 90);
/// - `selectivity` (orientation selectivity index) in [0, 1]: the length of that mean;
/// - `frequency`: the power-weighted mean |f|, in cycles per pixel;
/// - `concentration`: share of the K x K DFT's power (DC included, channels summed) in
///   its strongest 5% of frequency bins: about 0.85-0.9 for a Gabor, 0.67 for a
///   centre-surround, 0.14 for white noise and 0.35-0.55 for 1/f ("pink") noise, so
///   0.6 separates structure from noise of natural-image statistics;
/// - `localization`: share of the energy (channels summed per pixel) in the strongest
///   5% of pixels: high for small localized dots and edges, whose spectra are broad,
///   about 0.15 for white noise and 0.2 for 1/f noise.
/// A filter is structured when either concentration or localization is at least 0.6.
public struct FilterTaxonomy: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case edge = "oriented edge", colorOpponent = "colour-opponent", blob = "centre-surround/blob", unstructured
    }

    public struct Entry: Sendable {
        public let index: Int
        public let kind: Kind
        public let orientation: Double
        public let selectivity: Double
        public let frequency: Double
        public let chromaticFraction: Double
        public let redGreen: Double
        public let blueYellow: Double
        public let concentration: Double
        public let localization: Double
    }

    /// Class thresholds (documented in the README with the recipe).
    /// Largest kernel side classified: the spectral measures cost O(K^4) per filter
    /// channel (64: about 17 M multiply-adds each; 512 would take minutes).
    public static let maxKernelSide = 64

    /// Throws unless `shape` is `[C_out, C_in, K_h, K_w]` with every side at least 1 and
    /// both kernel sides at most `maxKernelSide`: checked before any work.
    /// Most filters classified by default: each costs tens of microseconds at any kernel
    /// size, so a million 1x1 "filters" from a 4 MB file would take over a minute.
    public static let defaultMaxFilters = 65_536

    public static func check(shape: [Int], file: String, maxFilters: Int = defaultMaxFilters) throws {
        guard shape.count == 4 else { throw ReadError(file, .badShape, "shape \(shape); filters must be [C_out, C_in, K, K]") }
        guard shape.allSatisfy({ $0 >= 1 }) else { throw ReadError(file, .badShape, "shape \(shape) has a zero dimension; filters need at least one channel and a kernel with area") }
        guard shape[2] <= maxKernelSide, shape[3] <= maxKernelSide else {
            throw ReadError(file, .tooLarge, "kernel \(shape[2])x\(shape[3]) is larger than the \(maxKernelSide)x\(maxKernelSide) the taxonomy classifies (its cost grows as K^4)")
        }
        guard shape[0] <= maxFilters else {
            throw ReadError(file, .tooLarge, "\(shape[0]) filters; the taxonomy classifies at most \(maxFilters) (--max-filters raises it)")
        }
    }

    public static let structuredAtLeast = 0.6, colourAtLeast = 0.5, orientedAtLeast = 0.4

    public let entries: [Entry]

    /// Classifies every filter of `[C_out, C_in, K_h, K_w]`.
    public init(weights: Tensor) {
        let (n, c, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
        let per = c * kh * kw
        entries = (0..<n).map { i in
            Self.classify(index: i, Array(weights.data[(i * per)..<((i + 1) * per)]), channels: c, kh: kh, kw: kw)
        }
    }

    public func count(_ kind: Kind) -> Int { entries.filter { $0.kind == kind }.count }
    public func fraction(_ kind: Kind) -> Double { entries.isEmpty ? 0 : Double(count(kind)) / Double(entries.count) }

    static func classify(index: Int, _ w: [Float], channels c: Int, kh: Int, kw: Int) -> Entry {
        let plane = kh * kw
        let total = w.reduce(0.0) { $0 + Double($1) * Double($1) }
        guard total > 0, w.allSatisfy(\.isFinite) else {
            return Entry(index: index, kind: .unstructured, orientation: 0, selectivity: 0, frequency: 0, chromaticFraction: 0, redGreen: 0, blueYellow: 0, concentration: 0, localization: 0)
        }
        var chroma = 0.0, rg = 0.0, by = 0.0
        if c == 3 {
            for i in 0..<plane {
                let r = Double(w[i]), g = Double(w[plane + i]), b = Double(w[2 * plane + i])
                let l = (r + g + b) / 3
                chroma += (r - l) * (r - l) + (g - l) * (g - l) + (b - l) * (b - l)
                rg += (r - g) * (r - g) / 2
                by += ((r + g) / 2 - b) * ((r + g) / 2 - b) * 2 / 3
            }
        }
        // Zero-padded DFT, summed over channels: fine enough angular resolution for
        // small kernels.
        let size = 32
        var sumP = 0.0, sx = 0.0, sy = 0.0, fr = 0.0
        var cosTable = [Double](repeating: 0, count: size * max(kh, kw)), sinTable = cosTable
        for f in 0..<size { for x in 0..<max(kh, kw) {
            let a = -2 * Double.pi * Double(f * x) / Double(size)
            cosTable[f * max(kh, kw) + x] = cos(a); sinTable[f * max(kh, kw) + x] = sin(a)
        }}
        let stride = max(kh, kw)
        for ch in 0..<c {
            // Row transform then column transform.
            var rowRe = [Double](repeating: 0, count: kh * size), rowIm = rowRe
            for y in 0..<kh { for f in 0..<size {
                var re = 0.0, im = 0.0
                for x in 0..<kw { let v = Double(w[ch * plane + y * kw + x]); re += v * cosTable[f * stride + x]; im += v * sinTable[f * stride + x] }
                rowRe[y * size + f] = re; rowIm[y * size + f] = im
            }}
            for fy in 0..<size { for fx in 0..<size {
                var re = 0.0, im = 0.0
                for y in 0..<kh {
                    let cr = cosTable[fy * stride + y], ci = sinTable[fy * stride + y]
                    re += rowRe[y * size + fx] * cr - rowIm[y * size + fx] * ci
                    im += rowRe[y * size + fx] * ci + rowIm[y * size + fx] * cr
                }
                let p = re * re + im * im
                let ux = Double(fx < size / 2 ? fx : fx - size) / Double(size), uy = Double(fy < size / 2 ? fy : fy - size) / Double(size)
                let radius = (ux * ux + uy * uy).squareRoot()
                if fx == 0 && fy == 0 { continue }  // DC: no orientation
                sumP += p
                let phi = atan2(uy, ux)
                sx += p * cos(2 * phi); sy += p * sin(2 * phi)
                fr += p * radius
            }}
        }
        let selectivity = sumP > 0 ? (sx * sx + sy * sy).squareRoot() / sumP : 0
        var orientation = atan2(sy, sx) / 2 * 180 / Double.pi
        if orientation < 0 { orientation += 180 }
        let concentration = spectralConcentration(w, channels: c, kh: kh, kw: kw)
        let localization = spatialConcentration(w, channels: c, plane: plane)
        let chromaticFraction = chroma / total
        let kind: Kind
        if concentration < structuredAtLeast && localization < structuredAtLeast { kind = .unstructured }
        else if chromaticFraction >= colourAtLeast { kind = .colorOpponent }
        else if selectivity >= orientedAtLeast { kind = .edge }
        else { kind = .blob }
        return Entry(index: index, kind: kind, orientation: orientation, selectivity: selectivity, frequency: sumP > 0 ? fr / sumP : 0,
                     chromaticFraction: chromaticFraction, redGreen: rg / total, blueYellow: by / total, concentration: concentration, localization: localization)
    }
}

extension FilterTaxonomy {
    /// Share of power in the strongest 5% of the unpadded K x K DFT's bins.
    static func spectralConcentration(_ w: [Float], channels c: Int, kh: Int, kw: Int) -> Double {
        var power = [Double](repeating: 0, count: kh * kw)
        for ch in 0..<c { for fy in 0..<kh { for fx in 0..<kw {
            var re = 0.0, im = 0.0
            for y in 0..<kh { for x in 0..<kw {
                let a = -2 * Double.pi * (Double(fy * y) / Double(kh) + Double(fx * x) / Double(kw))
                let v = Double(w[(ch * kh + y) * kw + x])
                re += v * cos(a); im += v * sin(a)
            }}
            power[fy * kw + fx] += re * re + im * im
        }}}
        let total = power.reduce(0, +)
        guard total > 0 else { return 0 }
        let top = Int((0.05 * Double(power.count)).rounded(.up))
        return power.sorted(by: >).prefix(top).reduce(0, +) / total
    }

    /// Share of energy in the strongest 5% of pixels.
    static func spatialConcentration(_ w: [Float], channels c: Int, plane: Int) -> Double {
        var energy = [Double](repeating: 0, count: plane)
        for ch in 0..<c { for i in 0..<plane { energy[i] += Double(w[ch * plane + i]) * Double(w[ch * plane + i]) } }
        let total = energy.reduce(0, +)
        guard total > 0 else { return 0 }
        return energy.sorted(by: >).prefix(Int((0.05 * Double(plane)).rounded(.up))).reduce(0, +) / total
    }

    public func csv() -> String {
        var s = "index,class,orientation_deg,selectivity,frequency_cpp,chromatic_fraction,red_green,blue_yellow,concentration,localization\n"
        for e in entries {
            s += "\(e.index),\(e.kind.rawValue)," + [e.orientation, e.selectivity, e.frequency, e.chromaticFraction, e.redGreen, e.blueYellow, e.concentration, e.localization]
                .map { String(format: "%.4f", $0) }.joined(separator: ",") + "\n"
        }
        return s
    }

    public func json() -> String {
        let list: [[String: Any]] = entries.map { e in
            ["index": e.index, "class": e.kind.rawValue, "orientation_deg": e.orientation, "selectivity": e.selectivity, "frequency_cpp": e.frequency,
             "chromatic_fraction": e.chromaticFraction, "red_green": e.redGreen, "blue_yellow": e.blueYellow, "concentration": e.concentration, "localization": e.localization]
        }
        let summary = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0.rawValue, count($0)) })
        return String(decoding: try! JSONSerialization.data(withJSONObject: ["filters": list, "counts": summary], options: [.sortedKeys, .prettyPrinted]), as: UTF8.self)
    }
}
