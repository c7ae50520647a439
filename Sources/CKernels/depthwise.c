// One output plane of a 3x3 depthwise convolution (MobileNet's and EfficientNet's
// layers), sixteen outputs of a row per AVX-512 vector, from the input plane copied with
// its zero padding (Conv2D+Depthwise).
//
// The sums are those of Conv2D's Swift loops, bit for bit: the bias, then each tap's
// product in row-major tap order, multiplied and added separately (this file is compiled
// without contraction into fused multiply-adds). What differs is the width: a 7x7 or
// 14x14 row is one vector here, with its tail masked, where the Swift loop (eight lanes,
// x86-64-v3) stored the tail lane by lane: MobileNetV2's 14x14 and 7x7 depthwise layers
// ran at 2-4x onnxruntime's time.

#include "CKernels.h"
#include "activation.h"

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f")))

// Sixteen windows' column 0 and column 1 at stride 2: the even and odd lanes of 32 floats.
AVX512 static inline __m512 even(const float *p) {
    const __m512i idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + 16));
}
AVX512 static inline __m512 odd(const float *p) {
    const __m512i idx = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + 16));
}

AVX512 void ck_depthwise3x3_avx512(const float *padded, ptrdiff_t rowStride, int stride, const float *taps, float bias,
                                   float *y, int oh, int ow, ck_activation act) {
    __m512 t[9];
    for (int i = 0; i < 9; i++) t[i] = _mm512_set1_ps(taps[i]);
    const __m512 start = _mm512_set1_ps(bias);
    for (int oy = 0; oy < oh; oy++) {
        const float *r0 = padded + (ptrdiff_t)oy * stride * rowStride, *r1 = r0 + rowStride, *r2 = r1 + rowStride;
        float *out = y + (ptrdiff_t)oy * ow;
        for (int x0 = 0; x0 < ow; x0 += 16) {
            const __mmask16 lanes = ow - x0 >= 16 ? 0xffff : (__mmask16)((1u << (ow - x0)) - 1);
            __m512 acc = start;
            if (stride == 1) {
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[0], _mm512_loadu_ps(r0 + x0)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[1], _mm512_loadu_ps(r0 + x0 + 1)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[2], _mm512_loadu_ps(r0 + x0 + 2)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[3], _mm512_loadu_ps(r1 + x0)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[4], _mm512_loadu_ps(r1 + x0 + 1)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[5], _mm512_loadu_ps(r1 + x0 + 2)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[6], _mm512_loadu_ps(r2 + x0)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[7], _mm512_loadu_ps(r2 + x0 + 1)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[8], _mm512_loadu_ps(r2 + x0 + 2)));
            } else {
                const int at = 2 * x0;
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[0], even(r0 + at)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[1], odd(r0 + at)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[2], even(r0 + at + 2)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[3], even(r1 + at)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[4], odd(r1 + at)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[5], even(r1 + at + 2)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[6], even(r2 + at)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[7], odd(r2 + at)));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(t[8], even(r2 + at + 2)));
            }
            _mm512_mask_storeu_ps(out + x0, lanes, ck_activate(acc, act));
        }
    }
}

#else

void ck_depthwise3x3_avx512(const float *padded, ptrdiff_t rowStride, int stride, const float *taps, float bias,
                            float *y, int oh, int ow, ck_activation act) {
    (void)padded; (void)rowStride; (void)stride; (void)taps; (void)bias; (void)y; (void)oh; (void)ow; (void)act;
    __builtin_trap();  // never called: ck_avx512_ready() is 0
}

#endif
