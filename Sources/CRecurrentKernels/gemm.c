/* Run-time dispatch of the SGEMM / SGEMV kernels to the variant for an ISA. An ISA whose
 * variant is not compiled into this build (AVX on arm64, NEON on x86-64) falls back to the
 * portable kernels consistently: rk_gemm_mr / rk_gemm_nr report the layout the kernel uses. */
#include "CRecurrentKernels.h"

#define DECLARE(isa)                                                                               \
    int rk__gemm_mr_##isa(void);                                                                   \
    int rk__gemm_nr_##isa(void);                                                                   \
    void rk__sgemm_packed_##isa(ptrdiff_t, ptrdiff_t, ptrdiff_t, float, const float *,             \
                                const float *, ptrdiff_t, float, float *, ptrdiff_t);              \
    void rk__sgemv_n_##isa(ptrdiff_t, ptrdiff_t, float, const float *, const float *, ptrdiff_t,   \
                           float, float *);                                                        \
    void rk__sgemv_t_##isa(ptrdiff_t, ptrdiff_t, float, const float *, ptrdiff_t, const float *,   \
                           float, float *);                                                        \
    void rk__sgemv_packed_##isa(ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, const float *, float,  \
                                float, float *);

DECLARE(portable)
#if defined(__x86_64__)
DECLARE(avx2)
DECLARE(avx512)
#define CASE_X86(call)                                                                             \
    case RK_ISA_AVX512:                                                                            \
        return call(avx512);                                                                       \
    case RK_ISA_AVX2:                                                                              \
        return call(avx2);
#else
#define CASE_X86(call)
#endif
#if defined(__aarch64__)
DECLARE(neon)
#define CASE_NEON(call)                                                                            \
    case RK_ISA_NEON:                                                                              \
        return call(neon);
#else
#define CASE_NEON(call)
#endif

#define DISPATCH(isa, call)                                                                        \
    switch (isa) {                                                                                 \
        CASE_X86(call)                                                                             \
        CASE_NEON(call)                                                                            \
    default:                                                                                       \
        return call(portable);                                                                     \
    }

int rk_gemm_mr(rk_isa isa) {
#define CALL(v) rk__gemm_mr_##v()
    DISPATCH(isa, CALL)
#undef CALL
}

int rk_gemm_nr(rk_isa isa) {
#define CALL(v) rk__gemm_nr_##v()
    DISPATCH(isa, CALL)
#undef CALL
}

void rk_sgemm_packed(rk_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t kc, float alpha,
                     const float *ap, const float *bp, ptrdiff_t b_panel_stride, float beta,
                     float *c, ptrdiff_t ldc) {
#define CALL(v) rk__sgemm_packed_##v(m, n, kc, alpha, ap, bp, b_panel_stride, beta, c, ldc)
    DISPATCH(isa, CALL)
#undef CALL
}

void rk_sgemv_n(rk_isa isa, ptrdiff_t k, ptrdiff_t n, float alpha, const float *x, const float *b,
                ptrdiff_t ldb, float beta, float *y) {
#define CALL(v) rk__sgemv_n_##v(k, n, alpha, x, b, ldb, beta, y)
    DISPATCH(isa, CALL)
#undef CALL
}

void rk_sgemv_t(rk_isa isa, ptrdiff_t n, ptrdiff_t k, float alpha, const float *b, ptrdiff_t ldb,
                const float *x, float beta, float *y) {
#define CALL(v) rk__sgemv_t_##v(n, k, alpha, b, ldb, x, beta, y)
    DISPATCH(isa, CALL)
#undef CALL
}

void rk_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void rk_sgemv_packed(rk_isa isa, ptrdiff_t k, ptrdiff_t n, ptrdiff_t kc, ptrdiff_t nr, const float *x,
                     const float *b, float alpha, float beta, float *y) {
    if (nr == rk_gemm_nr(isa)) {
#define CALL(v) rk__sgemv_packed_##v(k, n, kc, x, b, alpha, beta, y)
        DISPATCH(isa, CALL)
#undef CALL
    }
    /* Panels of another width (a matrix packed for another ISA): one column at a time. */
    const ptrdiff_t panels = (n + nr - 1) / nr;
    for (ptrdiff_t j = 0; j < n; j++) {
        const ptrdiff_t q = j / nr, jj = j % nr;
        float sum = 0;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
            const ptrdiff_t depth = k - p0 < kc ? k - p0 : kc;
            const float *panel = b + p0 * panels * nr + q * depth * nr;
            for (ptrdiff_t p = 0; p < depth; p++) sum += x[p0 + p] * panel[p * nr + jj];
        }
        y[j] = beta == 0.0f ? alpha * sum : alpha * sum + beta * y[j];
    }
}
