// Y = W X with the weight as stored and X's rows read as they are: a 1x1 convolution on
// an NCHW map of many pixels (MobileNet's 112x112 to 14x14 layers, ResNet-50's
// bottlenecks), vectorized along the pixels.
//
// Why not the panel kernel: it accumulates 32 channels per vector and transposes its sums
// into the NCHW rows; with the few input channels of MobileNet's early layers (16 to 32
// terms per output) that transpose cost as much as the sums (its 16->96 layer at 112x112:
// 0.45 ms against onnxruntime's 0.21). Here the sums are already rows of Y. The weight is
// read as stored: nothing is packed or kept.
//
// Tiles of up to 6 rows x 4 vectors (64 pixels): 24 accumulators; the pixels past the end
// of a row are masked. Depth in blocks of CK_DEPTH_BLOCK, as the panel kernel sums.

#include "CKernels.h"
#include "activation.h"

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f")))

enum { ROWS = 6, VECTORS = 4, ROWS_OUTSIDE = 65536 };  // ROWS_OUTSIDE: floats of X (256 KB)

// Rows [0, r) of the tile at `y`, columns [0, 16*(v-1)) plus the lanes of `last`: one
// depth block's partial sums (`k` terms from zero) added to the earlier blocks' kept in
// `part` (rows `ldp` apart; `first`: none yet); after the last block (`last_block`) the
// bias, the residual already in `y` (act.residual) and the activation, written to `y`.
AVX512 __attribute__((always_inline)) static inline void tile(
    const int r, const int v, const float *w, ptrdiff_t ldw, int k, const float *x, ptrdiff_t ldx, const int *offsets,
    __mmask16 last, float *y, ptrdiff_t ldy, float *part, ptrdiff_t ldp, const float *bias, ck_activation act, int first,
    int last_block) {
    __m512 acc[ROWS][VECTORS];
#pragma clang loop unroll(full)
    for (int i = 0; i < r; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < v; j++) acc[i][j] = _mm512_setzero_ps();
    for (int t = 0; t < k; t++) {
        const float *xt = offsets ? x + offsets[t] : x + t * ldx;
        __m512 xv[VECTORS];
#pragma clang loop unroll(full)
        for (int j = 0; j < v; j++) xv[j] = j == v - 1 ? _mm512_maskz_loadu_ps(last, xt + 16 * j) : _mm512_loadu_ps(xt + 16 * j);
#pragma clang loop unroll(full)
        for (int i = 0; i < r; i++) {
            __m512 wi = _mm512_set1_ps(w[i * ldw + t]);
#pragma clang loop unroll(full)
            for (int j = 0; j < v; j++) acc[i][j] = _mm512_fmadd_ps(wi, xv[j], acc[i][j]);
        }
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < r; i++) {
        __m512 shift = _mm512_set1_ps(bias ? bias[i] : 0);
#pragma clang loop unroll(full)
        for (int j = 0; j < v; j++) {
            float *at = y + i * ldy + 16 * j, *kept = part + i * ldp + 16 * j;
            const __mmask16 lanes = j == v - 1 ? last : 0xffff;
            __m512 sum = first ? acc[i][j] : _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, kept), acc[i][j]);
            if (!last_block) {
                _mm512_mask_storeu_ps(kept, lanes, sum);
                continue;
            }
            sum = _mm512_add_ps(sum, shift);
            if (act.residual) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(lanes, at));
            _mm512_mask_storeu_ps(at, lanes, ck_activate(sum, act));
        }
    }
}

typedef void (*tile_fn)(const float *, ptrdiff_t, int, const float *, ptrdiff_t, const int *, __mmask16, float *, ptrdiff_t,
                        float *, ptrdiff_t, const float *, ck_activation, int, int);
// Each shape twice: X's rows `ldx` apart (`tileRxV`), and X's rows at `offsets` (`tapsRxV`:
// a convolution's taps read where they lie in its input).
#define TILE(R, V) \
    AVX512 static void tile##R##x##V(const float *w, ptrdiff_t ldw, int k, const float *x, ptrdiff_t ldx, const int *offsets, \
                                     __mmask16 last, float *y, ptrdiff_t ldy, float *part, ptrdiff_t ldp, const float *bias, \
                                     ck_activation act, int first, int last_block) { \
        (void)offsets; tile(R, V, w, ldw, k, x, ldx, 0, last, y, ldy, part, ldp, bias, act, first, last_block); } \
    AVX512 static void taps##R##x##V(const float *w, ptrdiff_t ldw, int k, const float *x, ptrdiff_t ldx, const int *offsets, \
                                     __mmask16 last, float *y, ptrdiff_t ldy, float *part, ptrdiff_t ldp, const float *bias, \
                                     ck_activation act, int first, int last_block) { \
        (void)ldx; tile(R, V, w, ldw, k, x, 0, offsets, last, y, ldy, part, ldp, bias, act, first, last_block); }
#define TILES(R) TILE(R, 1) TILE(R, 2) TILE(R, 3) TILE(R, 4)
TILES(1) TILES(2) TILES(3) TILES(4) TILES(5) TILES(6)
#define ROW(F, R) {0, F##R##x1, F##R##x2, F##R##x3, F##R##x4}
static const tile_fn tiles[ROWS + 1][VECTORS + 1] = {
    {0}, ROW(tile, 1), ROW(tile, 2), ROW(tile, 3), ROW(tile, 4), ROW(tile, 5), ROW(tile, 6)};
static const tile_fn taps[ROWS + 1][VECTORS + 1] = {
    {0}, ROW(taps, 1), ROW(taps, 2), ROW(taps, 3), ROW(taps, 4), ROW(taps, 5), ROW(taps, 6)};

// Rows [m0, m0+r) of Y against tile t of the columns: tiles of near-equal width, a 14x14
// map's 13 vectors as 4+3+3+3, not 4+4+4+1 (a one-vector tile loads six weights for six
// multiply-adds). `offsets`: X's rows at x + offsets[t] instead of x + t*ldx.
static void tile_at(int m0, int r, int t, int tileCount, int vectors, const float *w, int k, ptrdiff_t ldw, const float *x,
                    ptrdiff_t ldx, const int *offsets, int n, float *y, ptrdiff_t ldy, const float *bias, ck_activation act) {
    const int v = vectors / tileCount + (t < vectors % tileCount);
    const int n0 = 16 * (t * (vectors / tileCount) + (t < vectors % tileCount ? t : vectors % tileCount));
    const int columns = n - n0 < 16 * v ? n - n0 : 16 * v, tail = columns - 16 * (v - 1);
    const __mmask16 last = tail == 16 ? 0xffff : (__mmask16)((1u << tail) - 1);
    const tile_fn *kernels = offsets ? taps[r] : tiles[r];
    float *at = y + (ptrdiff_t)m0 * ldy + n0;
    // The depth blocks' partial sums are kept in Y, unless Y holds a residual: then here.
    float kept[ROWS * VECTORS * 16];
    const int own = act.residual && k > CK_DEPTH_BLOCK;
    for (int k0 = 0; k0 < k || k0 == 0; k0 += CK_DEPTH_BLOCK) {
        const int kc = k - k0 < CK_DEPTH_BLOCK ? k - k0 : CK_DEPTH_BLOCK;
        kernels[v](w + (ptrdiff_t)m0 * ldw + k0, ldw, kc, offsets ? x + n0 : x + (ptrdiff_t)k0 * ldx + n0, ldx,
                   offsets ? offsets + k0 : 0, last, at, ldy, own ? kept : at, own ? VECTORS * 16 : ldy, bias ? bias + m0 : 0, act,
                   k0 == 0, k0 + CK_DEPTH_BLOCK >= k);
    }
}

static void row_gemm(const float *w, int m, int k, ptrdiff_t ldw, const float *x, ptrdiff_t ldx, const int *offsets, int n,
                     float *y, ptrdiff_t ldy, const float *bias, ck_activation act) {
    const int vectors = (n + 15) / 16, tileCount = (vectors + VECTORS - 1) / VECTORS;
    // Long rows of few input channels (MobileNet's 112x112 layers, blocks of 1,568
    // pixels): rows outside and columns inside, so that each six-row slab of Y is written
    // in long runs, not all rows 64 floats at a time. On 2 threads with outputs out of
    // cache, MobileNetV2's 16 -> 96 layer took 0.38 -> 0.31 ms (best of 6, interleaved).
    // Not for shorter rows or more channels: ResNet-50's 64 -> 256 at 56x56 (blocks of 392)
    // measured 0.40 -> 0.55 in one run and 0.55 -> 0.40 in another, too noisy to take.
    if (n >= 1024 && (size_t)k * (size_t)n <= ROWS_OUTSIDE) {
        for (int m0 = 0; m0 < m; m0 += ROWS)
            for (int t = 0; t < tileCount; t++)
                tile_at(m0, m - m0 < ROWS ? m - m0 : ROWS, t, tileCount, vectors, w, k, ldw, x, ldx, offsets, n, y, ldy, bias, act);
    } else {
        for (int t = 0; t < tileCount; t++)
            for (int m0 = 0; m0 < m; m0 += ROWS)
                tile_at(m0, m - m0 < ROWS ? m - m0 : ROWS, t, tileCount, vectors, w, k, ldw, x, ldx, offsets, n, y, ldy, bias, act);
    }
}

void ck_row_gemm_avx512(const float *w, int m, int k, ptrdiff_t ldw, const float *x, ptrdiff_t ldx, int n,
                        float *y, ptrdiff_t ldy, const float *bias, ck_activation act) {
    row_gemm(w, m, k, ldw, x, ldx, 0, n, y, ldy, bias, act);
}

void ck_row_gemm_taps_avx512(const float *w, int m, int k, ptrdiff_t ldw, const float *x, const int *offsets, int n,
                             float *y, ptrdiff_t ldy, const float *bias, ck_activation act) {
    row_gemm(w, m, k, ldw, x, 0, offsets, n, y, ldy, bias, act);
}

#else

void ck_row_gemm_avx512(const float *w, int m, int k, ptrdiff_t ldw, const float *x, ptrdiff_t ldx, int n,
                        float *y, ptrdiff_t ldy, const float *bias, ck_activation act) {
    (void)w; (void)m; (void)k; (void)ldw; (void)x; (void)ldx; (void)n; (void)y; (void)ldy; (void)bias; (void)act;
    __builtin_trap();  // never called: ck_avx512_ready() is 0
}

void ck_row_gemm_taps_avx512(const float *w, int m, int k, ptrdiff_t ldw, const float *x, const int *offsets, int n,
                             float *y, ptrdiff_t ldy, const float *bias, ck_activation act) {
    (void)w; (void)m; (void)k; (void)ldw; (void)x; (void)offsets; (void)n; (void)y; (void)ldy; (void)bias; (void)act;
    __builtin_trap();
}

#endif
