/* Pointwise nonlinearities over buffers (rk_exp, rk_sigmoid, rk_tanh, rk_relu): the
 * algorithm of simd_math.h applied per element or per vector, chosen per call with
 * rk_active_isa(). */
#include "simd_math.h"

static void rk_exp_portable(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = rk_exp1(x[i]);
}
static void rk_sigmoid_portable(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = rk_sigmoid1(x[i]);
}
static void rk_tanh_portable(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = rk_tanh1(x[i]);
}
static void rk_relu_portable(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = rk_relu1(x[i]);
}

#if defined(__x86_64__) || defined(__i386__)
#define RK_AVX512_LOOP(name, vecfn)                                                             \
    static RK_AVX512 void name(const float *x, float *y, size_t n) {                            \
        size_t i = 0;                                                                           \
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, vecfn(_mm512_loadu_ps(x + i)));    \
        if (i < n) {                                                                            \
            const __mmask16 m = (__mmask16)((1u << (unsigned)(n - i)) - 1u);                   \
            _mm512_mask_storeu_ps(y + i, m, vecfn(_mm512_maskz_loadu_ps(m, x + i)));            \
        }                                                                                       \
    }

RK_AVX512_LOOP(rk_exp_avx512, rk_exp_v16)
RK_AVX512_LOOP(rk_sigmoid_avx512, rk_sigmoid_v16)
RK_AVX512_LOOP(rk_tanh_avx512, rk_tanh_v16)
RK_AVX512_LOOP(rk_relu_avx512, rk_relu_v16)

#define RK_AVX2_LOOP(name, vecfn)                                                               \
    static RK_AVX2 void name(const float *x, float *y, size_t n) {                              \
        size_t i = 0;                                                                           \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, vecfn(_mm256_loadu_ps(x + i)));      \
        if (i < n) {                                                                            \
            const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                     \
            const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), lane);        \
            _mm256_maskstore_ps(y + i, m, vecfn(_mm256_maskload_ps(x + i, m)));                 \
        }                                                                                       \
    }

RK_AVX2_LOOP(rk_exp_avx2, rk_exp_v8)
RK_AVX2_LOOP(rk_sigmoid_avx2, rk_sigmoid_v8)
RK_AVX2_LOOP(rk_tanh_avx2, rk_tanh_v8)
RK_AVX2_LOOP(rk_relu_avx2, rk_relu_v8)
#endif

#if defined(__aarch64__)
#define RK_NEON_LOOP(name, vecfn)                                                               \
    static void name(const float *x, float *y, size_t n) {                                      \
        size_t i = 0;                                                                           \
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vecfn(vld1q_f32(x + i)));                   \
        if (i < n) {                                                                            \
            float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};                                            \
            for (size_t j = 0; j < n - i; j++) buf[j] = x[i + j];                               \
            vst1q_f32(buf, vecfn(vld1q_f32(buf)));                                              \
            for (size_t j = 0; j < n - i; j++) y[i + j] = buf[j];                               \
        }                                                                                       \
    }

RK_NEON_LOOP(rk_exp_neon, rk_exp_v4)
RK_NEON_LOOP(rk_sigmoid_neon, rk_sigmoid_v4)
RK_NEON_LOOP(rk_tanh_neon, rk_tanh_v4)
RK_NEON_LOOP(rk_relu_neon, rk_relu_v4)
#endif

/* ------------------------------------------------------------------------------------------ */
/* Dispatch                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#if defined(__x86_64__) || defined(__i386__)
#define RK_DISPATCH_X86(fn)                                                                     \
    case RK_ISA_AVX512: fn##_avx512(x, y, n); return;                                           \
    case RK_ISA_AVX2: fn##_avx2(x, y, n); return;
#else
#define RK_DISPATCH_X86(fn)
#endif

#if defined(__aarch64__)
#define RK_DISPATCH_NEON(fn) case RK_ISA_NEON: fn##_neon(x, y, n); return;
#else
#define RK_DISPATCH_NEON(fn)
#endif

#define RK_DEFINE_DISPATCH(fn)                                                                  \
    void fn(const float *x, float *y, size_t n) {                                               \
        switch (rk_active_isa()) {                                                              \
        RK_DISPATCH_X86(fn)                                                                     \
        RK_DISPATCH_NEON(fn)                                                                    \
        default: fn##_portable(x, y, n); return;                                                \
        }                                                                                       \
    }

RK_DEFINE_DISPATCH(rk_exp)
RK_DEFINE_DISPATCH(rk_sigmoid)
RK_DEFINE_DISPATCH(rk_tanh)
RK_DEFINE_DISPATCH(rk_relu)
