// The activation the kernels apply to each output after its bias (ck_activation), with
// Swift's semantics (Vector.rectify, Pointwise.clip): ReLU passes positive values and
// NaN and makes the rest +0; a clip to [lo, hi] passes NaN.
#ifndef CKERNELS_ACTIVATION_H
#define CKERNELS_ACTIVATION_H

#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f"), always_inline)) static inline __m512 ck_activate(__m512 v, ck_activation act) {
    if (act.kind == CK_RELU) return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ), v);
    if (act.kind == CK_CLIP) {
        // max_ps/min_ps return their second operand on ties; Swift's max(v, lo) returns lo and
        // min(m, hi) returns m (Pointwise's clip), so -0 against a bound of 0 ends alike.
        __m512 c = _mm512_min_ps(_mm512_set1_ps(act.hi), _mm512_max_ps(v, _mm512_set1_ps(act.lo)));
        return _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
    }
    return v;
}
#endif

#endif
