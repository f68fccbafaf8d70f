/* What the machine can do, without our kernels (recurrent-bench floor): read a buffer with the
 * widest loads of the active ISA, and run independent multiply-adds at the widest width. */
#include "CRecurrentKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static float stream_avx512(const float *w, size_t n) {
    __m512 a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 128 <= n; j += 128)
        for (int i = 0; i < 8; i++) a[i] = _mm512_add_ps(a[i], _mm512_loadu_ps(w + j + 16 * i));
    for (int i = 1; i < 8; i++) a[0] = _mm512_add_ps(a[0], a[i]);
    float s = _mm512_reduce_add_ps(a[0]);
    for (; j < n; j++) s += w[j];
    return s;
}

__attribute__((target("avx2"))) static float stream_avx2(const float *w, size_t n) {
    __m256 a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 64 <= n; j += 64)
        for (int i = 0; i < 8; i++) a[i] = _mm256_add_ps(a[i], _mm256_loadu_ps(w + j + 8 * i));
    for (int i = 1; i < 8; i++) a[0] = _mm256_add_ps(a[0], a[i]);
    float t[8], s = 0;
    _mm256_storeu_ps(t, a[0]);
    for (int i = 0; i < 8; i++) s += t[i];
    for (; j < n; j++) s += w[j];
    return s;
}

/* 16 independent accumulators: more than latency × ports on every x86 core seen (4 × 2). */
__attribute__((target("avx512f,fma"))) static double fma_avx512(size_t iterations) {
    __m512 a[16];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; i++) a[i] = _mm512_set1_ps((float)i);
    for (size_t k = 0; k < iterations; k++)
        for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    for (int i = 1; i < 16; i++) a[0] = _mm512_add_ps(a[0], a[i]);
    return (double)_mm512_reduce_add_ps(a[0]);
}

__attribute__((target("avx2,fma"))) static double fma_avx2(size_t iterations) {
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (size_t k = 0; k < iterations; k++)
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    for (int i = 1; i < 12; i++) a[0] = _mm256_add_ps(a[0], a[i]);
    float t[8];
    _mm256_storeu_ps(t, a[0]);
    return (double)t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

#if defined(__aarch64__)
#include <arm_neon.h>

static float stream_neon(const float *w, size_t n) {
    float32x4_t a[8];
    for (int i = 0; i < 8; i++) a[i] = vdupq_n_f32(0.0f);
    size_t j = 0;
    for (; j + 32 <= n; j += 32)
        for (int i = 0; i < 8; i++) a[i] = vaddq_f32(a[i], vld1q_f32(w + j + 4 * i));
    for (int i = 1; i < 8; i++) a[0] = vaddq_f32(a[0], a[i]);
    float s = vaddvq_f32(a[0]);
    for (; j < n; j++) s += w[j];
    return s;
}

static double fma_neon(size_t iterations) {
    float32x4_t a[16];
    const float32x4_t m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
    for (int i = 0; i < 16; i++) a[i] = vdupq_n_f32((float)i);
    for (size_t k = 0; k < iterations; k++)
        for (int i = 0; i < 16; i++) a[i] = vfmaq_f32(c, a[i], m);
    for (int i = 1; i < 16; i++) a[0] = vaddq_f32(a[0], a[i]);
    return (double)vaddvq_f32(a[0]);
}
#endif

static float stream_portable(const float *w, size_t n) {
    float a[8] = {0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int i = 0; i < 8; i++) a[i] += w[j + i];
    float s = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (; j < n; j++) s += w[j];
    return s;
}

static double fma_portable(size_t iterations) {
    float a[16];
    for (int i = 0; i < 16; i++) a[i] = (float)i;
    for (size_t k = 0; k < iterations; k++)
        for (int i = 0; i < 16; i++) a[i] = a[i] * 0.999999f + 1e-7f;
    double s = 0;
    for (int i = 0; i < 16; i++) s += a[i];
    return s;
}

float rk_floor_stream(const float *w, size_t n) {
    switch (rk_active_isa()) {
#if defined(__x86_64__) || defined(__i386__)
    case RK_ISA_AVX512: return stream_avx512(w, n);
    case RK_ISA_AVX2: return stream_avx2(w, n);
#endif
#if defined(__aarch64__)
    case RK_ISA_NEON: return stream_neon(w, n);
#endif
    default: return stream_portable(w, n);
    }
}

double rk_floor_fma(size_t iterations, size_t *flops) {
    switch (rk_active_isa()) {
#if defined(__x86_64__) || defined(__i386__)
    case RK_ISA_AVX512: *flops = iterations * 16 * 16 * 2; return fma_avx512(iterations);
    case RK_ISA_AVX2: *flops = iterations * 12 * 8 * 2; return fma_avx2(iterations);
#endif
#if defined(__aarch64__)
    case RK_ISA_NEON: *flops = iterations * 16 * 4 * 2; return fma_neon(iterations);
#endif
    default: *flops = iterations * 16 * 2; return fma_portable(iterations);
    }
}
