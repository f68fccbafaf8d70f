/* AVX-512F + FMA SGEMM micro-kernels (12 x 32 register tile), macro-kernel and SGEMV.
 * Compiled for the baseline target; the target attribute lets clang emit AVX-512 here only.
 * See rk_gemm.h for the packed layouts. */
#include "CRecurrentKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f,fma")))
#define INL static inline __attribute__((always_inline))

#ifndef RK_AVX512_MR
#define RK_AVX512_MR 12
#endif
enum { MR = RK_AVX512_MR, NR = 32 };

/* Lane mask for the first `n` of 16 lanes (n may be <= 0 or >= 16). */
INL TGT __mmask16 lanes(ptrdiff_t n) {
    if (n >= 16) return (__mmask16)0xFFFF;
    if (n <= 0) return 0;
    return (__mmask16)((1u << n) - 1u);
}

/* One M x 32 tile: C = alpha * A·B + beta * C over kc, A packed with row stride M per p.
 * KS independent accumulator sets over k hide FMA latency when M is small. M and KS are
 * compile-time constants at every call site, so the arrays live in registers. */
INL TGT void tile(const int M, const int KS, ptrdiff_t kc, const float *restrict a,
                  const float *restrict b, float *restrict c, ptrdiff_t ldc, ptrdiff_t n,
                  float alpha, float beta) {
    __m512 c0[4][MR], c1[4][MR];
    _Pragma("unroll") for (int s = 0; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            c0[s][i] = _mm512_setzero_ps();
            c1[s][i] = _mm512_setzero_ps();
        }
    ptrdiff_t p = 0;
    for (; p + KS <= kc; p += KS) {
        _Pragma("unroll") for (int s = 0; s < KS; s++) {
            const __m512 b0 = _mm512_load_ps(b + s * NR);
            const __m512 b1 = _mm512_load_ps(b + s * NR + 16);
            _Pragma("unroll") for (int i = 0; i < M; i++) {
                const __m512 ai = _mm512_set1_ps(a[s * M + i]);
                c0[s][i] = _mm512_fmadd_ps(ai, b0, c0[s][i]);
                c1[s][i] = _mm512_fmadd_ps(ai, b1, c1[s][i]);
            }
        }
        a += KS * M;
        b += KS * NR;
    }
    for (; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b);
        const __m512 b1 = _mm512_load_ps(b + 16);
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            c0[0][i] = _mm512_fmadd_ps(ai, b0, c0[0][i]);
            c1[0][i] = _mm512_fmadd_ps(ai, b1, c1[0][i]);
        }
        a += M;
        b += NR;
    }
    _Pragma("unroll") for (int s = 1; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            c0[0][i] = _mm512_add_ps(c0[0][i], c0[s][i]);
            c1[0][i] = _mm512_add_ps(c1[0][i], c1[s][i]);
        }
    const __mmask16 m0 = lanes(n), m1 = lanes(n - 16);
    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            _mm512_mask_storeu_ps(c + i * ldc, m0, _mm512_mul_ps(va, c0[0][i]));
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, _mm512_mul_ps(va, c1[0][i]));
        }
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            const __m512 o0 = _mm512_maskz_loadu_ps(m0, c + i * ldc);
            const __m512 o1 = _mm512_maskz_loadu_ps(m1, c + i * ldc + 16);
            _mm512_mask_storeu_ps(c + i * ldc, m0, _mm512_fmadd_ps(vb, o0, _mm512_mul_ps(va, c0[0][i])));
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, _mm512_fmadd_ps(vb, o1, _mm512_mul_ps(va, c1[0][i])));
        }
    }
}

typedef void (*ukr_fn)(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, ptrdiff_t, float, float);

#define UKR(M, KS)                                                                                  \
    static TGT void ukr_##M(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc, \
                            ptrdiff_t n, float alpha, float beta) {                                 \
        tile(M, KS, kc, a, b, c, ldc, n, alpha, beta);                                              \
    }
UKR(1, 4)
UKR(2, 2)
UKR(3, 2)
UKR(4, 1)
UKR(5, 1)
UKR(6, 1)
UKR(7, 1)
UKR(8, 1)
#if RK_AVX512_MR > 8
UKR(9, 1)
UKR(10, 1)
UKR(11, 1)
UKR(12, 1)
#endif
#if RK_AVX512_MR > 12
UKR(13, 1)
UKR(14, 1)
#endif

static const ukr_fn ukrs[MR + 1] = {
    0, ukr_1, ukr_2, ukr_3, ukr_4, ukr_5, ukr_6, ukr_7, ukr_8,
#if RK_AVX512_MR > 8
    ukr_9, ukr_10, ukr_11, ukr_12,
#endif
#if RK_AVX512_MR > 12
    ukr_13, ukr_14,
#endif
};

int rk__gemm_mr_avx512(void) { return MR; }
int rk__gemm_nr_avx512(void) { return NR; }

void rk__sgemm_packed_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kc, float alpha, const float *ap,
                             const float *bp, ptrdiff_t bstride, float beta, float *c, ptrdiff_t ldc) {
    /* Column panels outer: one kc x 32 panel of B is reused by every row panel of A. */
    for (ptrdiff_t j = 0; j < n; j += NR) {
        const float *bj = bp + (j / NR) * bstride;
        for (ptrdiff_t i = 0; i < m; i += MR) {
            const ptrdiff_t rows = m - i < MR ? m - i : MR;
            ukrs[rows](kc, ap + i * kc, bj, c + i * ldc + j, ldc, n - j, alpha, beta);
        }
    }
}

/* ---- GEMV ---- */

/* y = alpha * x·B + beta * y, B is k x n with row stride ldb. */
TGT void rk__sgemv_n_avx512(ptrdiff_t k, ptrdiff_t n, float alpha, const float *x, const float *b,
                            ptrdiff_t ldb, float beta, float *y) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    ptrdiff_t j = 0;
    for (; j + 128 <= n; j += 128) {
        __m512 acc[8];
        for (int v = 0; v < 8; v++) acc[v] = _mm512_setzero_ps();
        const float *bj = b + j;
        for (ptrdiff_t p = 0; p < k; p++) {
            const __m512 xp = _mm512_set1_ps(x[p]);
            for (int v = 0; v < 8; v++)
                acc[v] = _mm512_fmadd_ps(xp, _mm512_loadu_ps(bj + v * 16), acc[v]);
            bj += ldb;
        }
        for (int v = 0; v < 8; v++) {
            __m512 r = _mm512_mul_ps(va, acc[v]);
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(y + j + v * 16), r);
            _mm512_storeu_ps(y + j + v * 16, r);
        }
    }
    for (; j < n; j += 32) {
        const __mmask16 m0 = lanes(n - j), m1 = lanes(n - j - 16);
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        const float *bj = b + j;
        ptrdiff_t p = 0;
        for (; p + 2 <= k; p += 2) {
            const __m512 x0 = _mm512_set1_ps(x[p]), x1 = _mm512_set1_ps(x[p + 1]);
            a0 = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m0, bj), a0);
            a1 = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m1, bj + 16), a1);
            a2 = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(m0, bj + ldb), a2);
            a3 = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(m1, bj + ldb + 16), a3);
            bj += 2 * ldb;
        }
        if (p < k) {
            const __m512 x0 = _mm512_set1_ps(x[p]);
            a0 = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m0, bj), a0);
            a1 = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m1, bj + 16), a1);
        }
        __m512 r0 = _mm512_mul_ps(va, _mm512_add_ps(a0, a2));
        __m512 r1 = _mm512_mul_ps(va, _mm512_add_ps(a1, a3));
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, y + j), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, y + j + 16), r1);
        }
        _mm512_mask_storeu_ps(y + j, m0, r0);
        _mm512_mask_storeu_ps(y + j + 16, m1, r1);
    }
}

/* y = alpha * B·x + beta * y, B is n x k with row stride ldb: four dot products at a time. */
TGT void rk__sgemv_t_avx512(ptrdiff_t n, ptrdiff_t k, float alpha, const float *b, ptrdiff_t ldb,
                            const float *x, float beta, float *y) {
    ptrdiff_t j = 0;
    for (; j < n; j += 4) {
        const int rows = n - j < 4 ? (int)(n - j) : 4;
        const float *r[4];
        for (int t = 0; t < 4; t++) r[t] = b + (j + (t < rows ? t : 0)) * ldb;
        __m512 acc[4][2];
        for (int t = 0; t < 4; t++) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
        ptrdiff_t p = 0;
        for (; p + 32 <= k; p += 32) {
            const __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
            for (int t = 0; t < 4; t++) {
                acc[t][0] = _mm512_fmadd_ps(_mm512_loadu_ps(r[t] + p), x0, acc[t][0]);
                acc[t][1] = _mm512_fmadd_ps(_mm512_loadu_ps(r[t] + p + 16), x1, acc[t][1]);
            }
        }
        for (; p < k; p += 16) {
            const __mmask16 mk = lanes(k - p);
            const __m512 x0 = _mm512_maskz_loadu_ps(mk, x + p);
            for (int t = 0; t < 4; t++)
                acc[t][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, r[t] + p), x0, acc[t][0]);
        }
        for (int t = 0; t < rows; t++) {
            float s = alpha * _mm512_reduce_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]));
            if (beta != 0.0f) s += beta * y[j + t];
            y[j + t] = s;
        }
    }
}

/* y = alpha * x·B + beta * y with B packed (k blocks of depth kc, 32-column panels; see
 * rk_sgemv_packed): the batch-1 step of a recurrent layer, without packing x. */
TGT void rk__sgemv_packed_avx512(ptrdiff_t k, ptrdiff_t n, ptrdiff_t kc, const float *x, const float *b,
                                 float alpha, float beta, float *y) {
    const ptrdiff_t panels = (n + NR - 1) / NR;
    for (ptrdiff_t q = 0; q < panels; q++) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
            const ptrdiff_t depth = k - p0 < kc ? k - p0 : kc;
            const float *panel = b + p0 * panels * NR + q * depth * NR, *xp = x + p0;
            ptrdiff_t p = 0;
            for (; p + 4 <= depth; p += 4, panel += 4 * NR) {
                const __m512 x0 = _mm512_set1_ps(xp[p]), x1 = _mm512_set1_ps(xp[p + 1]);
                const __m512 x2 = _mm512_set1_ps(xp[p + 2]), x3 = _mm512_set1_ps(xp[p + 3]);
                a0 = _mm512_fmadd_ps(x0, _mm512_load_ps(panel), a0);
                a1 = _mm512_fmadd_ps(x0, _mm512_load_ps(panel + 16), a1);
                a2 = _mm512_fmadd_ps(x1, _mm512_load_ps(panel + 32), a2);
                a3 = _mm512_fmadd_ps(x1, _mm512_load_ps(panel + 48), a3);
                a4 = _mm512_fmadd_ps(x2, _mm512_load_ps(panel + 64), a4);
                a5 = _mm512_fmadd_ps(x2, _mm512_load_ps(panel + 80), a5);
                a6 = _mm512_fmadd_ps(x3, _mm512_load_ps(panel + 96), a6);
                a7 = _mm512_fmadd_ps(x3, _mm512_load_ps(panel + 112), a7);
            }
            for (; p < depth; p++, panel += NR) {
                const __m512 x0 = _mm512_set1_ps(xp[p]);
                a0 = _mm512_fmadd_ps(x0, _mm512_load_ps(panel), a0);
                a1 = _mm512_fmadd_ps(x0, _mm512_load_ps(panel + 16), a1);
            }
        }
        const __m512 lo = _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a4, a6));
        const __m512 hi = _mm512_add_ps(_mm512_add_ps(a1, a3), _mm512_add_ps(a5, a7));
        const __mmask16 m0 = lanes(n - q * NR), m1 = lanes(n - q * NR - 16);
        float *yq = y + q * NR;
        __m512 r0 = _mm512_mul_ps(_mm512_set1_ps(alpha), lo), r1 = _mm512_mul_ps(_mm512_set1_ps(alpha), hi);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m0, yq), r0);
            r1 = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m1, yq + 16), r1);
        }
        _mm512_mask_storeu_ps(yq, m0, r0);
        _mm512_mask_storeu_ps(yq + 16, m1, r1);
    }
}

#endif /* __x86_64__ */
