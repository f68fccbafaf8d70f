#include "CRecurrentKernels.h"

/* Adam: SSE on x86-64 (the baseline ISA: separate multiply and add instructions, so the
 * results equal the scalar loop's bit for bit), scalar elsewhere and for the tail. */
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif
void rk_adam_update(size_t n, float *p, const float *g, float *m, float *v, float decay, float l2,
                    float b1, float b2, float step, float c2, float eps) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
    const float a1 = 1.0f - b1, a2 = 1.0f - b2;
    size_t i = 0;
#if defined(__x86_64__)
    const __m128 vdecay = _mm_set1_ps(decay), vl2 = _mm_set1_ps(l2), vb1 = _mm_set1_ps(b1),
                 vb2 = _mm_set1_ps(b2), va1 = _mm_set1_ps(a1), va2 = _mm_set1_ps(a2),
                 vstep = _mm_set1_ps(step), vc2 = _mm_set1_ps(c2), veps = _mm_set1_ps(eps);
    for (; i + 4 <= n; i += 4) {
        __m128 q = _mm_mul_ps(_mm_loadu_ps(p + i), vdecay);
        __m128 d = _mm_add_ps(_mm_loadu_ps(g + i), _mm_mul_ps(vl2, q));
        __m128 mi = _mm_add_ps(_mm_mul_ps(vb1, _mm_loadu_ps(m + i)), _mm_mul_ps(va1, d));
        __m128 vi = _mm_add_ps(_mm_mul_ps(vb2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(va2, d), d));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        __m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), vc2), veps);
        _mm_storeu_ps(p + i, _mm_sub_ps(q, _mm_div_ps(_mm_mul_ps(vstep, mi), den)));
    }
#endif
    for (; i < n; i++) {
        float q = p[i] * decay;
        float d = g[i] + l2 * q;
        float mi = b1 * m[i];
        mi = mi + a1 * d;
        float t = a2 * d;
        float vi = b2 * v[i];
        vi = vi + t * d;
        m[i] = mi;
        v[i] = vi;
        float s = step * mi;
        float den = __builtin_sqrtf(vi) / c2;
        den = den + eps;
        p[i] = q - s / den;
    }
}
