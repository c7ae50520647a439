// One output plane of a 3x3 depthwise convolution (MobileNet's and EfficientNet's
// layers), sixteen outputs of a row per AVX-512 vector, read straight from the input
// plane: taps that fall in the zero padding are masked loads that give zero, and rows
// above or below the plane are read from a row of zeros.
//
// The sums are those of Conv2D's Swift loops, bit for bit: the bias, then each tap's
// product in row-major tap order, multiplied and added separately (this file is compiled
// without contraction into fused multiply-adds), a tap in the padding adding a product
// with zero. What differs is the width: a 7x7 or 14x14 row is one vector here, with its
// tail masked, where the Swift loop (eight lanes, x86-64-v3) stored the tail lane by lane:
// MobileNetV2's 14x14 and 7x7 depthwise layers ran at 2-4x onnxruntime's time. And
// nothing is copied: copying each plane with its padding first took about as long as the
// sums (one core, 96 planes of 112x112: stride 2, copy and sums 0.23-0.32 ms, here
// 0.16-0.21; stride 1, 0.40-0.63 and 0.36-0.45).
//
// At stride 1 with one column of padding each side (MobileNet's and EfficientNet's 3x3
// layers), each input row is loaded once per vector and its three taps made by shifting
// lanes in from the neighbouring vectors, and two output rows are summed at a time (two
// independent chains, the rows they share loaded once): one core, 72 planes of 56x56
// 0.072 -> 0.038 ms, 480 planes of 7x7 0.020 -> 0.0125 (three unaligned loads per row
// and tap row, each across two cache lines, and one chain of 18 dependent operations per
// vector before). At stride 2 with one column of padding on the left, each row's 32
// input columns of a vector are loaded once and split into even and odd lanes, the left
// taps shifted in likewise, two output rows at a time: 48 planes of 112x112 0.069 ->
// 0.042 ms, 288 of 14x14 0.018 -> 0.010 (four unaligned loads per row before). The same
// products in the same order: the same bytes. Other paddings keep the masked loads below.

#include "CKernels.h"
#include "activation.h"

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f")))

// Lanes j of a 16-float load at column `col` that fall inside a row of `w` columns.
static inline __mmask16 inside(int col, int w) {
    const int lo = col < 0 ? -col : 0, hi = w - col > 16 ? 16 : w - col;
    return hi <= lo ? 0 : (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// Lanes of a vector with `count` floats left from its start: all sixteen, or the first `count`.
static inline __mmask16 lanes_of(int count) { return count >= 16 ? 0xffff : (__mmask16)((1u << count) - 1); }

// Input row `r` of the plane `x` (`h` rows of `w`), or the row of zeros above or below it.
#define ROW_OR_ZEROS(r) ((r) >= 0 && (r) < h ? x + (ptrdiff_t)(r) * w : zeros)

// Sixteen windows' column 0 and column 1 at stride 2: the even and odd lanes of the 32
// floats `lo` and `hi`.
AVX512 static inline __m512 even(__m512 lo, __m512 hi) {
    const __m512i idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(lo, idx, hi);
}
AVX512 static inline __m512 odd(__m512 lo, __m512 hi) {
    const __m512i idx = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_permutex2var_ps(lo, idx, hi);
}

// Sixteen windows from loads at column `c` of rows r0, r1, r2, in row-major tap order.
// LOAD(p, i) reads sixteen floats at p (i: which of the four loads of a column, for its
// mask). Interior vectors load plainly, edges with masks (not read, so `p` may point
// outside the row) computed once per plane: computed for every vector, they made the
// stride-2 layer above take 0.28 ms against 0.14 with plain loads everywhere (not a
// correct kernel, a bound).
#define WINDOWS_STRIDE1(LOAD)                                                        \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t0, LOAD(r0 + c, 0)));                    \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t1, LOAD(r0 + c + 1, 1)));                \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t2, LOAD(r0 + c + 2, 2)));                \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t3, LOAD(r1 + c, 0)));                    \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t4, LOAD(r1 + c + 1, 1)));                \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t5, LOAD(r1 + c + 2, 2)));                \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t6, LOAD(r2 + c, 0)));                    \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t7, LOAD(r2 + c + 1, 1)));                \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(t8, LOAD(r2 + c + 2, 2)));
#define WINDOWS_STRIDE2_ROW(LOAD, R, TA, TB, TC)                                     \
    {                                                                                \
        const __m512 a = LOAD(R + c, 0), b = LOAD(R + c + 16, 1);                    \
        acc = _mm512_add_ps(acc, _mm512_mul_ps(TA, even(a, b)));                     \
        acc = _mm512_add_ps(acc, _mm512_mul_ps(TB, odd(a, b)));                      \
        acc = _mm512_add_ps(acc, _mm512_mul_ps(TC, even(LOAD(R + c + 2, 2), LOAD(R + c + 18, 3)))); \
    }
#define WINDOWS(LOAD)                                                                \
    if (stride == 1) {                                                               \
        WINDOWS_STRIDE1(LOAD)                                                        \
    } else {                                                                         \
        WINDOWS_STRIDE2_ROW(LOAD, r0, t0, t1, t2)                                    \
        WINDOWS_STRIDE2_ROW(LOAD, r1, t3, t4, t5)                                    \
        WINDOWS_STRIDE2_ROW(LOAD, r2, t6, t7, t8)                                    \
    }
#define PLAIN(p, i) _mm512_loadu_ps(p)
#define MASKED(p, i) _mm512_maskz_loadu_ps(m[i], p)

// The masks of the four loads of the vector whose loads start at column `c` (stride 1:
// c, c+1, c+2; stride 2: c, c+16, c+2, c+18); returns whether all lanes are inside.
static inline int edge_masks(int c, int w, int stride, __mmask16 *m) {
    m[0] = inside(c, w); m[1] = inside(stride == 1 ? c + 1 : c + 16, w);
    m[2] = inside(c + 2, w); m[3] = inside(c + 18, w);
    return (m[0] & m[1] & m[2] & (stride == 1 ? 0xffff : m[3])) == 0xffff;
}

// The stride-1 path with one column of padding each side (see the top of this file):
// a row's taps left of and right of its centre are the centre vector with one lane
// shifted in from the vector before or after (valignd); past the row's ends, zeros.
#define SHIFT_LEFT_IN(cur, prev) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(cur), _mm512_castps_si512(prev), 15))
#define SHIFT_RIGHT_IN(next, cur) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(cur), 1))
AVX512 static inline __m512 row_vector(const float *row, int x0, int w) {
    if (x0 >= w) return _mm512_setzero_ps();
    return w - x0 >= 16 ? _mm512_loadu_ps(row + x0) : _mm512_maskz_loadu_ps(lanes_of(w - x0), row + x0);
}
// Row `a` at `out` and, unless it is a last odd row's partner (`second` 0), row `b` one
// output row (`ld` floats) below, each through the activation: the lanes of the `count`
// outputs left in the rows.
AVX512 static inline void store_two_rows(float *out, ptrdiff_t ld, int count, __m512 a, __m512 b, int second, ck_activation act) {
    const __mmask16 lanes = lanes_of(count);
    _mm512_mask_storeu_ps(out, lanes, ck_activate(a, act));
    if (second) _mm512_mask_storeu_ps(out + ld, lanes, ck_activate(b, act));
}
// acc += each tap of one row's three, in order: left neighbour, centre, right neighbour.
#define ADD_ROW(acc, ta, tb, tc, p, c, n)                                               \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(ta, SHIFT_LEFT_IN(c, p)));                  \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(tb, c));                                    \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(tc, SHIFT_RIGHT_IN(n, c)));
AVX512 static void shifted_rows(const float *x, int h, int w, int top, const float *zeros, __m512 t0, __m512 t1, __m512 t2,
                                __m512 t3, __m512 t4, __m512 t5, __m512 t6, __m512 t7, __m512 t8, __m512 start, float *y, int oh,
                                ck_activation act) {
    // Two output rows at a time (input rows iy..iy+3): two independent chains of sums. A
    // last odd row's partner is summed (from rows of zeros past the plane) and not stored.
    for (int oy = 0; oy < oh; oy += 2) {
        const int iy = oy - top, second = oy + 1 < oh;
        const float *r0 = ROW_OR_ZEROS(iy), *r1 = ROW_OR_ZEROS(iy + 1), *r2 = ROW_OR_ZEROS(iy + 2), *r3 = ROW_OR_ZEROS(iy + 3);
        float *out = y + (ptrdiff_t)oy * w;
        __m512 p0 = _mm512_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
        __m512 c0 = row_vector(r0, 0, w), c1 = row_vector(r1, 0, w), c2 = row_vector(r2, 0, w), c3 = row_vector(r3, 0, w);
        for (int x0 = 0; x0 < w; x0 += 16) {
            const __m512 n0 = row_vector(r0, x0 + 16, w), n1 = row_vector(r1, x0 + 16, w);
            const __m512 n2 = row_vector(r2, x0 + 16, w), n3 = row_vector(r3, x0 + 16, w);
            __m512 a = start, b = start;
            ADD_ROW(a, t0, t1, t2, p0, c0, n0)
            ADD_ROW(b, t0, t1, t2, p1, c1, n1)
            ADD_ROW(a, t3, t4, t5, p1, c1, n1)
            ADD_ROW(b, t3, t4, t5, p2, c2, n2)
            ADD_ROW(a, t6, t7, t8, p2, c2, n2)
            ADD_ROW(b, t6, t7, t8, p3, c3, n3)
            store_two_rows(out + x0, w, w - x0, a, b, second, act);
            p0 = c0; p1 = c1; p2 = c2; p3 = c3; c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        }
    }
}

// Stride 2, one column of padding on the left (MobileNet's downsampling 3x3 layers): a
// row's centre taps (columns 2x) are the even lanes of the 32 columns from 2x0 and its
// right taps (2x+1) the odd ones; its left taps (2x-1) are the odd lanes shifted one
// lane on, the vector before's last shifted in. Two output rows at a time (input rows
// iy..iy+4, the middle one shared), as at stride 1.
#define SPLIT_ROW(r, x0, e, o) { const __m512 a = row_vector(r, 2 * (x0), w), b = row_vector(r, 2 * (x0) + 16, w); e = even(a, b); o = odd(a, b); }
// acc += one row's three taps in order: columns 2x-1, 2x, 2x+1.
#define ADD_SPLIT_ROW(acc, ta, tb, tc, q, e, o)                                         \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(ta, SHIFT_LEFT_IN(o, q)));                  \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(tb, e));                                    \
    acc = _mm512_add_ps(acc, _mm512_mul_ps(tc, o));
AVX512 static void strided_rows(const float *x, int h, int w, int top, const float *zeros, __m512 t0, __m512 t1, __m512 t2,
                                __m512 t3, __m512 t4, __m512 t5, __m512 t6, __m512 t7, __m512 t8, __m512 start, float *y, int oh,
                                int ow, ck_activation act) {
    for (int oy = 0; oy < oh; oy += 2) {
        const int iy = 2 * oy - top, second = oy + 1 < oh;
        const float *r0 = ROW_OR_ZEROS(iy), *r1 = ROW_OR_ZEROS(iy + 1), *r2 = ROW_OR_ZEROS(iy + 2);
        const float *r3 = ROW_OR_ZEROS(iy + 3), *r4 = ROW_OR_ZEROS(iy + 4);
        float *out = y + (ptrdiff_t)oy * ow;
        __m512 q0 = _mm512_setzero_ps(), q1 = q0, q2 = q0, q3 = q0, q4 = q0;  // the vector before's odd lanes
        for (int x0 = 0; x0 < ow; x0 += 16) {
            __m512 e0, o0, e1, o1, e2, o2, e3, o3, e4, o4;
            SPLIT_ROW(r0, x0, e0, o0) SPLIT_ROW(r1, x0, e1, o1) SPLIT_ROW(r2, x0, e2, o2)
            SPLIT_ROW(r3, x0, e3, o3) SPLIT_ROW(r4, x0, e4, o4)
            __m512 a = start, b = start;
            ADD_SPLIT_ROW(a, t0, t1, t2, q0, e0, o0)
            ADD_SPLIT_ROW(b, t0, t1, t2, q2, e2, o2)
            ADD_SPLIT_ROW(a, t3, t4, t5, q1, e1, o1)
            ADD_SPLIT_ROW(b, t3, t4, t5, q3, e3, o3)
            ADD_SPLIT_ROW(a, t6, t7, t8, q2, e2, o2)
            ADD_SPLIT_ROW(b, t6, t7, t8, q4, e4, o4)
            store_two_rows(out + x0, ow, ow - x0, a, b, second, act);
            q0 = o0; q1 = o1; q2 = o2; q3 = o3; q4 = o4;
        }
    }
}
#undef SPLIT_ROW
#undef ADD_SPLIT_ROW

AVX512 void ck_depthwise3x3_avx512(const float *x, int h, int w, int top, int left, int stride, const float *zeros,
                                   const float *taps, float bias, float *y, int oh, int ow, ck_activation act) {
    const __m512 t0 = _mm512_set1_ps(taps[0]), t1 = _mm512_set1_ps(taps[1]), t2 = _mm512_set1_ps(taps[2]);
    const __m512 t3 = _mm512_set1_ps(taps[3]), t4 = _mm512_set1_ps(taps[4]), t5 = _mm512_set1_ps(taps[5]);
    const __m512 t6 = _mm512_set1_ps(taps[6]), t7 = _mm512_set1_ps(taps[7]), t8 = _mm512_set1_ps(taps[8]);
    const __m512 start = _mm512_set1_ps(bias);
    if (stride == 1 && left == 1 && ow == w) {
        shifted_rows(x, h, w, top, zeros, t0, t1, t2, t3, t4, t5, t6, t7, t8, start, y, oh, act);
        return;
    }
    if (stride == 2 && left == 1) {
        strided_rows(x, h, w, top, zeros, t0, t1, t2, t3, t4, t5, t6, t7, t8, start, y, oh, ow, act);
        return;
    }
    // Per vector of a row (the same for every row): its loads' masks, and whether all
    // lanes are inside; past KEPT vectors (rows over 2,048 outputs), computed as they come.
    enum { KEPT = 128 };
    __mmask16 masks[KEPT][4];
    int interior[KEPT];
    for (int v = 0; v < (ow + 15) / 16 && v < KEPT; v++) interior[v] = edge_masks(16 * v * stride - left, w, stride, masks[v]);
    for (int oy = 0; oy < oh; oy++) {
        const int iy = oy * stride - top;
        const float *r0 = ROW_OR_ZEROS(iy), *r1 = ROW_OR_ZEROS(iy + 1), *r2 = ROW_OR_ZEROS(iy + 2);
        float *out = y + (ptrdiff_t)oy * ow;
        for (int v = 0, x0 = 0; x0 < ow; v++, x0 += 16) {
            const __mmask16 lanes = lanes_of(ow - x0);
            const int c = x0 * stride - left;
            __mmask16 computed[4];
            const __mmask16 *m = v < KEPT ? masks[v] : computed;
            const int plain = v < KEPT ? interior[v] : edge_masks(c, w, stride, computed);
            __m512 acc = start;
            if (plain) {
                WINDOWS(PLAIN)
            } else {
                WINDOWS(MASKED)
            }
            _mm512_mask_storeu_ps(out + x0, lanes, ck_activate(acc, act));
        }
    }
}

#undef ROW_OR_ZEROS

#else

void ck_depthwise3x3_avx512(const float *x, int h, int w, int top, int left, int stride, const float *zeros,
                            const float *taps, float bias, float *y, int oh, int ow, ck_activation act) {
    (void)x; (void)h; (void)w; (void)top; (void)left; (void)stride; (void)zeros; (void)taps; (void)bias; (void)y; (void)oh; (void)ow;
    (void)act;
    __builtin_trap();  // never called: ck_avx512_ready() is 0
}

#endif
