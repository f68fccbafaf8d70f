/* AVX2 + FMA SGEMM micro-kernels (6 x 16 register tile), macro-kernel and SGEMV.
 * Compiled for the baseline target; the target attribute lets clang emit AVX2 here only.
 * See rk_gemm.h for the packed layouts. */
#include "CRecurrentKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline))

enum { MR = 6, NR = 16 };

/* Integer lane mask (all bits set in lane l when l < n) for maskload / maskstore. */
INL TGT __m256i lanes(ptrdiff_t n) {
    const int c = n <= 0 ? 0 : n >= 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* One M x 16 tile: C = alpha * A·B + beta * C; KS accumulator sets over k for small M. */
INL TGT void tile(const int M, const int KS, ptrdiff_t kc, const float *restrict a,
                  const float *restrict b, float *restrict c, ptrdiff_t ldc, ptrdiff_t n,
                  float alpha, float beta) {
    __m256 c0[4][MR], c1[4][MR];
    _Pragma("unroll") for (int s = 0; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            c0[s][i] = _mm256_setzero_ps();
            c1[s][i] = _mm256_setzero_ps();
        }
    ptrdiff_t p = 0;
    for (; p + KS <= kc; p += KS) {
        _Pragma("unroll") for (int s = 0; s < KS; s++) {
            const __m256 b0 = _mm256_load_ps(b + s * NR);
            const __m256 b1 = _mm256_load_ps(b + s * NR + 8);
            _Pragma("unroll") for (int i = 0; i < M; i++) {
                const __m256 ai = _mm256_broadcast_ss(a + s * M + i);
                c0[s][i] = _mm256_fmadd_ps(ai, b0, c0[s][i]);
                c1[s][i] = _mm256_fmadd_ps(ai, b1, c1[s][i]);
            }
        }
        a += KS * M;
        b += KS * NR;
    }
    for (; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b);
        const __m256 b1 = _mm256_load_ps(b + 8);
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            c0[0][i] = _mm256_fmadd_ps(ai, b0, c0[0][i]);
            c1[0][i] = _mm256_fmadd_ps(ai, b1, c1[0][i]);
        }
        a += M;
        b += NR;
    }
    _Pragma("unroll") for (int s = 1; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            c0[0][i] = _mm256_add_ps(c0[0][i], c0[s][i]);
            c1[0][i] = _mm256_add_ps(c1[0][i], c1[s][i]);
        }
    const __m256 va = _mm256_set1_ps(alpha);
    if (n >= NR) {
        if (beta == 0.0f) {
            _Pragma("unroll") for (int i = 0; i < M; i++) {
                _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(va, c0[0][i]));
                _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(va, c1[0][i]));
            }
        } else {
            const __m256 vb = _mm256_set1_ps(beta);
            _Pragma("unroll") for (int i = 0; i < M; i++) {
                _mm256_storeu_ps(c + i * ldc, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + i * ldc),
                                                              _mm256_mul_ps(va, c0[0][i])));
                _mm256_storeu_ps(c + i * ldc + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + i * ldc + 8),
                                                                  _mm256_mul_ps(va, c1[0][i])));
            }
        }
    } else {
        const __m256i m0 = lanes(n), m1 = lanes(n - 8);
        const __m256 vb = _mm256_set1_ps(beta);
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            __m256 r0 = _mm256_mul_ps(va, c0[0][i]), r1 = _mm256_mul_ps(va, c1[0][i]);
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + i * ldc, m0), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + i * ldc + 8, m1), r1);
            }
            _mm256_maskstore_ps(c + i * ldc, m0, r0);
            _mm256_maskstore_ps(c + i * ldc + 8, m1, r1);
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

static const ukr_fn ukrs[MR + 1] = {0, ukr_1, ukr_2, ukr_3, ukr_4, ukr_5, ukr_6};

int rk__gemm_mr_avx2(void) { return MR; }
int rk__gemm_nr_avx2(void) { return NR; }

void rk__sgemm_packed_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kc, float alpha, const float *ap,
                           const float *bp, ptrdiff_t bstride, float beta, float *c, ptrdiff_t ldc) {
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
TGT void rk__sgemv_n_avx2(ptrdiff_t k, ptrdiff_t n, float alpha, const float *x, const float *b,
                          ptrdiff_t ldb, float beta, float *y) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    ptrdiff_t j = 0;
    for (; j + 64 <= n; j += 64) {
        __m256 acc[8];
        _Pragma("unroll") for (int v = 0; v < 8; v++) acc[v] = _mm256_setzero_ps();
        const float *bj = b + j;
        for (ptrdiff_t p = 0; p < k; p++) {
            const __m256 xp = _mm256_broadcast_ss(x + p);
            _Pragma("unroll") for (int v = 0; v < 8; v++)
                acc[v] = _mm256_fmadd_ps(xp, _mm256_loadu_ps(bj + v * 8), acc[v]);
            bj += ldb;
        }
        _Pragma("unroll") for (int v = 0; v < 8; v++) {
            __m256 r = _mm256_mul_ps(va, acc[v]);
            if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(y + j + v * 8), r);
            _mm256_storeu_ps(y + j + v * 8, r);
        }
    }
    for (; j < n; j += 8) {
        const __m256i mj = lanes(n - j);
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        const float *bj = b + j;
        ptrdiff_t p = 0;
        for (; p + 2 <= k; p += 2) {
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + p), _mm256_maskload_ps(bj, mj), a0);
            a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + p + 1), _mm256_maskload_ps(bj + ldb, mj), a1);
            bj += 2 * ldb;
        }
        if (p < k) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + p), _mm256_maskload_ps(bj, mj), a0);
        __m256 r = _mm256_mul_ps(va, _mm256_add_ps(a0, a1));
        if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(y + j, mj), r);
        _mm256_maskstore_ps(y + j, mj, r);
    }
}

INL TGT float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* y = alpha * B·x + beta * y, B is n x k with row stride ldb: four dot products at a time. */
TGT void rk__sgemv_t_avx2(ptrdiff_t n, ptrdiff_t k, float alpha, const float *b, ptrdiff_t ldb,
                          const float *x, float beta, float *y) {
    for (ptrdiff_t j = 0; j < n; j += 4) {
        const int rows = n - j < 4 ? (int)(n - j) : 4;
        const float *r[4];
        for (int t = 0; t < 4; t++) r[t] = b + (j + (t < rows ? t : 0)) * ldb;
        __m256 acc[4][2];
        _Pragma("unroll") for (int t = 0; t < 4; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
        ptrdiff_t p = 0;
        for (; p + 16 <= k; p += 16) {
            const __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
            _Pragma("unroll") for (int t = 0; t < 4; t++) {
                acc[t][0] = _mm256_fmadd_ps(_mm256_loadu_ps(r[t] + p), x0, acc[t][0]);
                acc[t][1] = _mm256_fmadd_ps(_mm256_loadu_ps(r[t] + p + 8), x1, acc[t][1]);
            }
        }
        for (; p < k; p += 8) {
            const __m256i mk = lanes(k - p);
            const __m256 x0 = _mm256_maskload_ps(x + p, mk);
            _Pragma("unroll") for (int t = 0; t < 4; t++)
                acc[t][0] = _mm256_fmadd_ps(_mm256_maskload_ps(r[t] + p, mk), x0, acc[t][0]);
        }
        for (int t = 0; t < rows; t++) {
            float s = alpha * hsum(_mm256_add_ps(acc[t][0], acc[t][1]));
            if (beta != 0.0f) s += beta * y[j + t];
            y[j + t] = s;
        }
    }
}

/* y = alpha * x·B + beta * y with B packed (k blocks of depth kc, 16-column panels; see
 * rk_sgemv_packed): the batch-1 step of a recurrent layer, without packing x. Four depth
 * steps at a time into separate accumulators hide the FMA latency. */
TGT void rk__sgemv_packed_avx2(ptrdiff_t k, ptrdiff_t n, ptrdiff_t kc, const float *x, const float *b,
                               float alpha, float beta, float *y) {
    const ptrdiff_t panels = (n + NR - 1) / NR;
    for (ptrdiff_t q = 0; q < panels; q++) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
            const ptrdiff_t depth = k - p0 < kc ? k - p0 : kc;
            const float *panel = b + p0 * panels * NR + q * depth * NR, *xp = x + p0;
            ptrdiff_t p = 0;
            for (; p + 4 <= depth; p += 4, panel += 4 * NR) {
                const __m256 x0 = _mm256_broadcast_ss(xp + p), x1 = _mm256_broadcast_ss(xp + p + 1);
                const __m256 x2 = _mm256_broadcast_ss(xp + p + 2), x3 = _mm256_broadcast_ss(xp + p + 3);
                a0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(panel), a0);
                a1 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(panel + 8), a1);
                a2 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(panel + 16), a2);
                a3 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(panel + 24), a3);
                a4 = _mm256_fmadd_ps(x2, _mm256_loadu_ps(panel + 32), a4);
                a5 = _mm256_fmadd_ps(x2, _mm256_loadu_ps(panel + 40), a5);
                a6 = _mm256_fmadd_ps(x3, _mm256_loadu_ps(panel + 48), a6);
                a7 = _mm256_fmadd_ps(x3, _mm256_loadu_ps(panel + 56), a7);
            }
            for (; p < depth; p++, panel += NR) {
                const __m256 x0 = _mm256_broadcast_ss(xp + p);
                a0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(panel), a0);
                a1 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(panel + 8), a1);
            }
        }
        const __m256 lo = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a4, a6));
        const __m256 hi = _mm256_add_ps(_mm256_add_ps(a1, a3), _mm256_add_ps(a5, a7));
        const __m256i m0 = lanes(n - q * NR), m1 = lanes(n - q * NR - 8);
        float *yq = y + q * NR;
        __m256 r0 = _mm256_mul_ps(_mm256_set1_ps(alpha), lo), r1 = _mm256_mul_ps(_mm256_set1_ps(alpha), hi);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(yq, m0), r0);
            r1 = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(yq + 8, m1), r1);
        }
        _mm256_maskstore_ps(yq, m0, r0);
        _mm256_maskstore_ps(yq + 8, m1, r1);
    }
}

#endif /* __x86_64__ */
