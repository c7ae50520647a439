#ifndef CKERNELS_H
#define CKERNELS_H

// Hand-vectorized kernels the Swift core cannot express in its one instruction set
// (x86-64-v3): AVX-512 code compiled for that instruction set alone and called only when
// the CPU has it (ck_avx512_ready). Everything else in ConvViz is Swift.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Rows of the weight one packed panel holds: two AVX-512 vectors.
#define CK_PANEL_ROWS 32

/// Terms the products sum in one chain: each output is the sum, in order, of its blocks'
/// partial sums, each block's terms added from zero by fused multiply-adds. Blocked
/// summation keeps float32 rounding near that of a pairwise sum: one chain over a
/// 4,608-term product rounded gradients of a VGG-11 at 224x224 1.4e-2 away from float64
/// (PyTorch's float32: 4.9e-2), blocks of 256 as OpenBLAS's did.
#define CK_DEPTH_BLOCK 256

/// What a kernel applies to each output after its bias: nothing, ReLU (positive values
/// and NaN pass, the rest is +0, as Vector.rectify) or a clip to [lo, hi] (NaN passes, as
/// Pointwise's clip; ReLU6 is [0, 6]). `residual` 1: Y already holds a value of the
/// output's shape (a residual branch), added after the bias and before the activation,
/// and the sum written over it: the addition that follows a convolution, run in its
/// epilogue (the same sum, so the same bytes, as the convolution and then the addition).
/// The depthwise kernel takes no residual.
enum { CK_IDENTITY = 0, CK_RELU = 1, CK_CLIP = 2 };
typedef struct {
    int kind;
    float lo, hi;
    int residual;
} ck_activation;

/// 1 when the CPU and the operating system run AVX-512F code, else 0.
int ck_avx512_ready(void);

/// A spin-wait hint (x86's PAUSE): a thread polling a flag yields the core's execution
/// resources to the thread it waits for, which may be its SMT sibling on the host even
/// when the guest sees one thread per core.
static inline void ck_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Floats `ck_pack_panels` writes for an `m x k` matrix.
size_t ck_packed_count(int m, int k);

/// Packs the row-major `m x k` matrix `w` into panels of CK_PANEL_ROWS rows, each
/// `[k][CK_PANEL_ROWS]` (row r of panel p is row p*32+r of `w`; rows past `m` are zero).
void ck_pack_panels(const float *w, int m, int k, float *packed);

/// The same panels for the transpose of `w` (`w` row-major `k x m`, its transpose `m x k`):
/// a layer's `W^T` for its input gradient, packed without forming the transpose.
void ck_pack_panels_transposed(const float *w, int m, int k, float *packed);

/// Floats of scratch `ck_panel_gemm` needs for `panels` panels and `n` columns.
size_t ck_panel_gemm_scratch(int panels, int n);

/// Rows [32*first_panel, min(m, 32*end_panel)) of Y = W B, with W packed by
/// ck_pack_panels (`m x k`) and B row-major `k x n` (row stride `ldb`). Row r of Y is
/// written at `y + r*ldy` (n floats), plus `bias[r]` when `bias` is not NULL, then `act`.
/// Every output is the same sum in the same order (blocks of CK_DEPTH_BLOCK terms, each
/// from zero by fused multiply-adds, added in order) whatever the panels and columns of the call, so
/// any split of the work gives the same bytes. Needs ck_avx512_ready().
void ck_panel_gemm_avx512(const float *packed, int m, int k, int first_panel, int end_panel,
                          const float *b, ptrdiff_t ldb, int n, float *y, ptrdiff_t ldy,
                          const float *bias, ck_activation act, float *scratch);

/// Y = W X for W as stored (row-major `m x k`, rows `ldw` apart) and X row-major `k x n`
/// (rows `ldx` apart): every row of Y (`ldy` apart), plus `bias[r]`, then `act`.
/// Vectorized along the columns (a 1x1 convolution's pixels): no packing and no
/// transposed epilogue, for products of many columns and any depth. Each output is the
/// same sum in the same order as in ck_panel_gemm_avx512 (blocks of CK_DEPTH_BLOCK terms,
/// then the bias): the two kernels give the same bytes.
void ck_row_gemm_avx512(const float *w, int m, int k, ptrdiff_t ldw, const float *x, ptrdiff_t ldx, int n,
                        float *y, ptrdiff_t ldy, const float *bias, ck_activation act);

/// ck_row_gemm_avx512 with X's row t at `x + offsets[t]` (a convolution's taps read where
/// they lie in its input, each row of taps contiguous: a stride-2 stem's input split into
/// its even and odd columns). The same sums, so the same bytes.
void ck_row_gemm_taps_avx512(const float *w, int m, int k, ptrdiff_t ldw, const float *x, const int *offsets, int n,
                             float *y, ptrdiff_t ldy, const float *bias, ck_activation act);

/// One output plane (`oh x ow`, rows `ow` apart) of a 3x3 depthwise convolution at stride
/// 1 or 2, read from its input plane `x` (`h x w`, rows `w` apart) as if padded with
/// `top` zero rows above and `left` zero columns to the left (and zeros past its right
/// and bottom edges); `zeros`: at least `w` zero floats. `taps` row-major, then `act`.
/// The same sums as Conv2D's Swift loops on the padded plane, bit for bit.
void ck_depthwise3x3_avx512(const float *x, int h, int w, int top, int left, int stride, const float *zeros,
                            const float *taps, float bias, float *y, int oh, int ow, ck_activation act);

#ifdef __cplusplus
}
#endif

#endif
