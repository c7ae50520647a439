// Y = W B for a weight packed once into panels of 32 rows (a convolution's weight as
// stored, `[C_out, C_in*K*K]`, against its channel-major patch matrix): the product
// ConvViz's small maps and 1x1 layers on 7x7 maps make at small batches.
//
// Why not OpenBLAS: for a product only 49-196 columns wide (a photo's 7x7 and 14x14
// maps at batch 1), OpenBLAS packs the whole weight again on every call, from memory the
// previous layers evicted, and its AVX-512 kernel runs on short panels; ResNet-18's 7x7
// 3x3 layers took 0.97 ms each inside a pass (239 GFLOP/s on 2 cores, weights cold).
// Here the weight is packed once per layer, in the order the kernel reads it, and the
// next block is prefetched while the current one is in use.
//
// Blocking: columns in blocks of NC (the patch rows of a depth block stay in L2), depth
// in blocks of KC (a panel's block, 32 KB, stays in L1 for all column tiles), then tiles
// of at most 14 columns x 32 rows: 28 accumulators of the 32 AVX-512 registers.

#include "CKernels.h"
#include "activation.h"

#include <string.h>

enum { KC = CK_DEPTH_BLOCK, NC = 256, MAX_TILE = 14, P = CK_PANEL_ROWS, SCRATCH = 32768 };

// Panels accumulated together for `nc` columns: their sums (scratch) within 128 KB.
static int group_panels(int panels, int nc) {
    int fit = SCRATCH / (nc * P);
    return fit < 1 ? 1 : fit < panels ? fit : panels;
}

size_t ck_packed_count(int m, int k) {
    return (size_t)((m + P - 1) / P) * (size_t)k * P;
}

void ck_pack_panels(const float *w, int m, int k, float *packed) {
    int panels = (m + P - 1) / P;
    for (int p = 0; p < panels; p++) {
        float *panel = packed + (size_t)p * k * P;
        for (int r = 0; r < P; r++) {
            int row = p * P + r;
            if (row < m) {
                const float *src = w + (size_t)row * k;
                for (int i = 0; i < k; i++) panel[(size_t)i * P + r] = src[i];
            } else {
                for (int i = 0; i < k; i++) panel[(size_t)i * P + r] = 0;
            }
        }
    }
}

void ck_pack_panels_transposed(const float *w, int m, int k, float *packed) {
    int panels = (m + P - 1) / P;
    for (int p = 0; p < panels; p++) {
        float *panel = packed + (size_t)p * k * P;
        int rows = m - p * P < P ? m - p * P : P;
        for (int i = 0; i < k; i++) {
            memcpy(panel + (size_t)i * P, w + (size_t)i * m + p * P, (size_t)rows * sizeof(float));
            if (rows < P) memset(panel + (size_t)i * P + rows, 0, (size_t)(P - rows) * sizeof(float));
        }
    }
}

size_t ck_panel_gemm_scratch(int panels, int n) {
    // Enough for any call of at most `n` columns: a call with fewer columns accumulates
    // more panels together, never more than SCRATCH floats.
    size_t nc = (size_t)(n < NC ? n : NC), all = nc * P * (size_t)panels;
    return all < SCRATCH ? all : SCRATCH;
}

#if defined(__x86_64__)
#include <immintrin.h>

int ck_avx512_ready(void) {
    // Checks the CPU's feature bit and that the OS saves the AVX-512 registers.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define AVX512 __attribute__((target("avx512f")))

// One tile: `w` columns of B against one panel's KC-block `wp` ([kc][32]), its partial sum
// added to `acc` ([w][ld], this panel's 32 floats per column; `first`: stored as it is). B's
// element (i, j) is at b[i*ldb + j]. `prefetch`: a block to bring into cache meanwhile (the
// next one this thread reads).
AVX512 __attribute__((always_inline)) static inline void tile(
    const int w, const float *wp, const float *b, ptrdiff_t ldb, float *acc, ptrdiff_t ld, int kc, int first,
    const float *prefetch) {
    __m512 lo[MAX_TILE], hi[MAX_TILE];
#pragma clang loop unroll(full)
    for (int j = 0; j < w; j++) lo[j] = hi[j] = _mm512_setzero_ps();  // each depth block from zero
    for (int i = 0; i < kc; i++) {
        if (prefetch) {
            _mm_prefetch((const char *)(prefetch + i * P), _MM_HINT_T0);
            _mm_prefetch((const char *)(prefetch + i * P + 16), _MM_HINT_T0);
        }
        __m512 w0 = _mm512_loadu_ps(wp + i * P), w1 = _mm512_loadu_ps(wp + i * P + 16);
        const float *bi = b + i * ldb;
#pragma clang loop unroll(full)
        for (int j = 0; j < w; j++) {
            __m512 x = _mm512_set1_ps(bi[j]);
            lo[j] = _mm512_fmadd_ps(w0, x, lo[j]);
            hi[j] = _mm512_fmadd_ps(w1, x, hi[j]);
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < w; j++) {
        // The block's partial sum, added to the earlier blocks' (CK_DEPTH_BLOCK).
        _mm512_storeu_ps(acc + j * ld, first ? lo[j] : _mm512_add_ps(_mm512_loadu_ps(acc + j * ld), lo[j]));
        _mm512_storeu_ps(acc + j * ld + 16, first ? hi[j] : _mm512_add_ps(_mm512_loadu_ps(acc + j * ld + 16), hi[j]));
    }
}

typedef void (*tile_fn)(const float *, const float *, ptrdiff_t, float *, ptrdiff_t, int, int, const float *);
#define TILE(W) \
    AVX512 static void tile##W(const float *wp, const float *b, ptrdiff_t ldb, float *acc, ptrdiff_t ld, int kc, int first, \
                               const float *prefetch) { tile(W, wp, b, ldb, acc, ld, kc, first, prefetch); }
TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6) TILE(7) TILE(8) TILE(9) TILE(10) TILE(11) TILE(12) TILE(13) TILE(14)
static const tile_fn tiles[MAX_TILE + 1] = {
    0, tile1, tile2, tile3, tile4, tile5, tile6, tile7, tile8, tile9, tile10, tile11, tile12, tile13, tile14};

// Writes the accumulated block (`acc`, [nc][ld]) into Y's rows, transposed, with bias,
// residual and activation: sixteen columns of a row at a time, gathered from the block (in L1).
AVX512 static void store_rows(const float *acc, ptrdiff_t ld, int nc, int row0, int rows, float *y, ptrdiff_t ldy,
                              const float *bias, ck_activation act) {
    const __m512i across = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                              _mm512_set1_epi32((int)ld));
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) {
        float *out = y + (ptrdiff_t)(row0 + r) * ldy;
        const __m512 shift = _mm512_set1_ps(bias ? bias[row0 + r] : 0);
        for (int j = 0; j < nc; j += 16) {
            const __mmask16 lanes = nc - j >= 16 ? 0xffff : (__mmask16)((1u << (nc - j)) - 1);
            __m512 v = _mm512_mask_i32gather_ps(zero, lanes, across, acc + j * ld + r, 4);
            v = _mm512_add_ps(v, shift);
            if (act.residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, out + j));
            v = ck_activate(v, act);
            _mm512_mask_storeu_ps(out + j, lanes, v);
        }
    }
}

void ck_panel_gemm_avx512(const float *packed, int m, int k, int first_panel, int end_panel,
                          const float *b, ptrdiff_t ldb, int n, float *y, ptrdiff_t ldy,
                          const float *bias, ck_activation act, float *scratch) {
    // Blocks of columns, then groups of panels, then depth blocks.
    const size_t panelSize = (size_t)k * P;
    for (int n0 = 0; n0 < n; n0 += NC) {
        const int nc = n - n0 < NC ? n - n0 : NC;
        // Tiles of near-equal width: 49 columns as 13+12+12+12, not 14+14+14+7.
        const int tileCount = (nc + MAX_TILE - 1) / MAX_TILE;
        const int group = group_panels(end_panel - first_panel, nc);
        for (int g0 = first_panel; g0 < end_panel; g0 += group) {
            const int panels = end_panel - g0 < group ? end_panel - g0 : group;
            const ptrdiff_t ld = (ptrdiff_t)panels * P;
            for (int k0 = 0; k0 < k; k0 += KC) {
                const int kc = k - k0 < KC ? k - k0 : KC;
                for (int p = 0; p < panels; p++) {
                    const float *wp = packed + (size_t)(g0 + p) * panelSize + (size_t)k0 * P;
                    // The next block this loop reads: the next panel's, or the group's next depth block.
                    const float *next = p + 1 < panels ? wp + panelSize
                                      : k0 + KC < k ? packed + (size_t)g0 * panelSize + (size_t)(k0 + KC) * P : 0;
                    int j0 = 0;
                    for (int t = 0; t < tileCount; t++) {
                        const int w = nc / tileCount + (t < nc % tileCount);
                        tiles[w](wp, b + (ptrdiff_t)k0 * ldb + n0 + j0, ldb, scratch + j0 * ld + p * P, ld, kc, k0 == 0,
                                 t == 0 ? next : 0);
                        j0 += w;
                    }
                }
            }
            const int row0 = g0 * P, rows = (m < (g0 + panels) * P ? m : (g0 + panels) * P) - row0;
            store_rows(scratch, ld, nc, row0, rows, y + n0, ldy, bias, act);
        }
    }
}

#else

int ck_avx512_ready(void) { return 0; }

void ck_panel_gemm_avx512(const float *packed, int m, int k, int first_panel, int end_panel,
                          const float *b, ptrdiff_t ldb, int n, float *y, ptrdiff_t ldy,
                          const float *bias, ck_activation act, float *scratch) {
    (void)packed; (void)m; (void)k; (void)first_panel; (void)end_panel; (void)b; (void)ldb; (void)n;
    (void)y; (void)ldy; (void)bias; (void)act; (void)scratch;
    __builtin_trap();  // never called: ck_avx512_ready() is 0
}

#endif
