import CFFTW
import Foundation

/// Two-dimensional real <-> half-complex discrete Fourier transforms of one plane size,
/// through FFTW 3 (single precision). The only file that imports `CFFTW`.
///
/// A plane is `[height, width]` real values; its half spectrum is
/// `[height, width / 2 + 1]` complex values stored as interleaved (re, im) Floats, the
/// layout of `numpy.fft.rfft2`. Both directions are unnormalized, as FFTW computes them:
/// `inverse(forward(x)) = height * width * x`.
///
/// Plans are made once with `FFTW_ESTIMATE | FFTW_UNALIGNED` (no timing runs, so the same
/// algorithm, hence the same bytes, every run; any array alignment) and executed with
/// FFTW's new-array functions, which are thread-safe, so planes can be transformed on
/// several cores at once.
public final class RealFFT2D: @unchecked Sendable {
    public let height: Int
    public let width: Int
    /// Complex columns of the half spectrum, `width / 2 + 1`.
    public var spectrumWidth: Int { width / 2 + 1 }
    private let inversePlan: fftwf_plan
    private let forwardPlan: fftwf_plan

    /// FFTW's planner is not thread-safe: plans are made and destroyed under this lock.
    private static let plannerLock = NSLock()

    public init(height: Int, width: Int) {
        precondition(height > 0 && width > 0, "RealFFT2D needs a positive plane size, got \(height)x\(width)")
        self.height = height
        self.width = width
        var real = [Float](repeating: 0, count: height * width)
        var complex = [Float](repeating: 0, count: height * (width / 2 + 1) * 2)
        let flags = UInt32(FFTW_ESTIMATE) | UInt32(FFTW_UNALIGNED)
        Self.plannerLock.lock()
        defer { Self.plannerLock.unlock() }
        let plans = real.withUnsafeMutableBufferPointer { r in
            complex.withUnsafeMutableBytes { c in
                let cp = c.baseAddress!.assumingMemoryBound(to: fftwf_complex.self)
                return (fftwf_plan_dft_c2r_2d(Int32(height), Int32(width), cp, r.baseAddress!, flags),
                        fftwf_plan_dft_r2c_2d(Int32(height), Int32(width), r.baseAddress!, cp, flags))
            }
        }
        // With FFTW_ESTIMATE a plan exists for every size; nil would be a broken library.
        guard let inverse = plans.0, let forward = plans.1 else { preconditionFailure("FFTW made no plan for \(height)x\(width)") }
        inversePlan = inverse
        forwardPlan = forward
    }

    deinit {
        Self.plannerLock.lock()
        fftwf_destroy_plan(inversePlan)
        fftwf_destroy_plan(forwardPlan)
        Self.plannerLock.unlock()
    }

    /// Half spectrum `[height, width/2+1]` (interleaved complex) -> plane `[height, width]`,
    /// unnormalized. The spectrum is overwritten (FFTW's multi-dimensional c2r destroys
    /// its input). Imaginary parts the transform cannot represent are dropped, as
    /// `numpy.fft.irfft2` does; give a Hermitian spectrum (`RealFFT2D.symmetrize`) to
    /// make that explicit.
    public func inverse(_ spectrum: UnsafeMutablePointer<Float>, into plane: UnsafeMutablePointer<Float>) {
        spectrum.withMemoryRebound(to: fftwf_complex.self, capacity: height * spectrumWidth) { c in
            fftwf_execute_dft_c2r(inversePlan, c, plane)
        }
    }

    /// Plane `[height, width]` -> half spectrum `[height, width/2+1]` (interleaved complex),
    /// unnormalized. The plane is left as it is.
    public func forward(_ plane: UnsafeMutablePointer<Float>, into spectrum: UnsafeMutablePointer<Float>) {
        spectrum.withMemoryRebound(to: fftwf_complex.self, capacity: height * spectrumWidth) { c in
            fftwf_execute_dft_r2c(forwardPlan, plane, c)
        }
    }

    /// Makes the columns that hold their own mirror images (kx = 0 and, for an even width,
    /// kx = width/2) Hermitian along y: S[ky] and S[-ky] become
    /// (S[ky] + conj(S[-ky])) / 2 and its conjugate. The real plane `numpy.fft.irfft2`
    /// makes of any half spectrum is the one FFTW makes of the symmetrized spectrum.
    public func symmetrize(_ spectrum: UnsafeMutablePointer<Float>) {
        let columns = width % 2 == 0 ? [0, width / 2] : [0]
        for kx in Set(columns) {
            for ky in 0...(height / 2) {
                let my = (height - ky) % height
                let a = 2 * (ky * spectrumWidth + kx), b = 2 * (my * spectrumWidth + kx)
                let re = (spectrum[a] + spectrum[b]) / 2, im = (spectrum[a + 1] - spectrum[b + 1]) / 2
                spectrum[a] = re; spectrum[a + 1] = im
                spectrum[b] = re; spectrum[b + 1] = -im
            }
        }
    }
}
