import CKernels
import Foundation

/// `Y = W B` for a weight packed once into panels of 32 rows, by the AVX-512 kernel of
/// `CKernels/panel_gemm.c` (and, for many columns and for stems' taps, `row_gemm.c` on
/// the weight as stored): the product a convolution makes at small batches (a photo's
/// 14x14 and 7x7 maps, its stem, its 1x1 layers), where OpenBLAS repacks the whole
/// weight on every call. Rows are output channels, columns pixels, so `Y` is written
/// straight into NCHW rows with the bias and the fused ReLU.
///
/// Each output is one sum in one order (depth ascending, one fused multiply-add per
/// term) whatever the split of rows and columns, so the bytes do not depend on the core
/// count. They differ from OpenBLAS's within float32 rounding.
enum PanelGEMM {
    /// No activation and no residual: the product and its bias.
    static let identity = ck_activation(kind: Int32(CK_IDENTITY), lo: 0, hi: 0, residual: 0)

    /// Rows per panel.
    static let panelRows = Int(CK_PANEL_ROWS)

    /// Whether the kernel runs here: the CPU has AVX-512 and `CONVVIZ_PANEL_GEMM=0` is not
    /// set (to compare with OpenBLAS in benchmarks).
    static let isAvailable = ck_avx512_ready() != 0 && ProcessInfo.processInfo.environment["CONVVIZ_PANEL_GEMM"] != "0"

    static func panels(rows: Int) -> Int { (rows + panelRows - 1) / panelRows }

    /// The row-major `rows x depth` matrix `w` in panels (`ck_pack_panels`).
    static func pack(_ w: UnsafePointer<Float>, rows: Int, depth: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: ck_packed_count(Int32(rows), Int32(depth))) { buffer, count in
            ck_pack_panels(w, Int32(rows), Int32(depth), buffer.baseAddress!)
            count = buffer.count
        }
    }

    /// Every row of `W X` for W `rows x depth` as stored (rows `ldw` apart) and X `depth x
    /// columns` (rows `ldx` apart), by `ck_row_gemm_avx512`: vectorized along the columns,
    /// nothing packed. The same bytes as `multiply`.
    static func multiplyRows(_ w: UnsafePointer<Float>, rows: Int, depth: Int, ldw: Int, x: UnsafePointer<Float>, ldx: Int, columns: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, activation: ck_activation) {
        precondition(isAvailable)
        ck_row_gemm_avx512(w, Int32(rows), Int32(depth), ldw, x, ldx, Int32(columns), y, ldy, bias, activation)
    }

    /// `multiplyRows` with X's row `t` at `x + offsets[t]` (a convolution's taps read where
    /// they lie in its input; `ck_row_gemm_taps_avx512`). The same bytes.
    static func multiplyTaps(_ w: UnsafePointer<Float>, rows: Int, depth: Int, ldw: Int, x: UnsafePointer<Float>, offsets: UnsafePointer<Int32>,
                             columns: Int, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, activation: ck_activation) {
        precondition(isAvailable)
        ck_row_gemm_taps_avx512(w, Int32(rows), Int32(depth), ldw, x, offsets, Int32(columns), y, ldy, bias, activation)
    }

    /// The matrix `pack` was given, from its panels.
    static func unpack(_ packed: [Float], rows: Int, depth: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * depth) { buffer, count in
            packed.withUnsafeBufferPointer { p in
                for row in 0..<rows {
                    let panel = p.baseAddress! + (row / panelRows) * depth * panelRows + row % panelRows
                    for i in 0..<depth { buffer[row * depth + i] = panel[i * panelRows] }
                }
            }
            count = rows * depth
        }
    }

    /// The transpose of the row-major `depth x rows` matrix `w` in panels, as `pack` would
    /// pack it (`ck_pack_panels_transposed`).
    static func packTransposed(_ w: UnsafePointer<Float>, rows: Int, depth: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: ck_packed_count(Int32(rows), Int32(depth))) { buffer, count in
            ck_pack_panels_transposed(w, Int32(rows), Int32(depth), buffer.baseAddress!)
            count = buffer.count
        }
    }

    /// Scratch floats `multiply` needs for `panels` panels and `columns` columns.
    static func scratchCount(panels: Int, columns: Int) -> Int {
        ck_panel_gemm_scratch(Int32(panels), Int32(columns))
    }

    /// Rows of `panels` (of `rows` in all) of `W B`, B `depth x columns` with row stride
    /// `ldb`; row `r` written at `y + r * ldy`, plus `bias[r]`, then `activation`.
    static func multiply(_ packed: UnsafePointer<Float>, rows: Int, depth: Int, panels: Range<Int>,
                         b: UnsafePointer<Float>, ldb: Int, columns: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                         bias: UnsafePointer<Float>?, activation: ck_activation, scratch: UnsafeMutablePointer<Float>) {
        precondition(isAvailable && !panels.isEmpty && panels.upperBound <= self.panels(rows: rows))
        ck_panel_gemm_avx512(packed, Int32(rows), Int32(depth), Int32(panels.lowerBound), Int32(panels.upperBound),
                             b, ldb, Int32(columns), y, ldy, bias, activation, scratch)
    }
}
