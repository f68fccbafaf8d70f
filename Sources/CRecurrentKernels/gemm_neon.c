/* NEON SGEMM micro-kernels (8 x 12 register tile), macro-kernel and SGEMV for arm64.
 * See rk_gemm.h for the packed layouts. */
#include "CRecurrentKernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define INL static inline __attribute__((always_inline))

enum { MR = 8, NR = 12 };

/* One M x 12 tile: C = alpha * A·B + beta * C; KS accumulator sets over k for small M. */
INL void tile(const int M, const int KS, ptrdiff_t kc, const float *restrict a,
              const float *restrict b, float *restrict c, ptrdiff_t ldc, ptrdiff_t n, float alpha,
              float beta) {
    float32x4_t acc[4][MR][3];
    _Pragma("unroll") for (int s = 0; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++)
            _Pragma("unroll") for (int v = 0; v < 3; v++) acc[s][i][v] = vdupq_n_f32(0.0f);
    ptrdiff_t p = 0;
    for (; p + KS <= kc; p += KS) {
        _Pragma("unroll") for (int s = 0; s < KS; s++) {
            const float32x4_t b0 = vld1q_f32(b + s * NR), b1 = vld1q_f32(b + s * NR + 4),
                              b2 = vld1q_f32(b + s * NR + 8);
            _Pragma("unroll") for (int i = 0; i < M; i++) {
                const float ai = a[s * M + i];
                acc[s][i][0] = vfmaq_n_f32(acc[s][i][0], b0, ai);
                acc[s][i][1] = vfmaq_n_f32(acc[s][i][1], b1, ai);
                acc[s][i][2] = vfmaq_n_f32(acc[s][i][2], b2, ai);
            }
        }
        a += KS * M;
        b += KS * NR;
    }
    for (; p < kc; p++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            acc[0][i][0] = vfmaq_n_f32(acc[0][i][0], b0, a[i]);
            acc[0][i][1] = vfmaq_n_f32(acc[0][i][1], b1, a[i]);
            acc[0][i][2] = vfmaq_n_f32(acc[0][i][2], b2, a[i]);
        }
        a += M;
        b += NR;
    }
    _Pragma("unroll") for (int s = 1; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++)
            _Pragma("unroll") for (int v = 0; v < 3; v++)
                acc[0][i][v] = vaddq_f32(acc[0][i][v], acc[s][i][v]);
    const float32x4_t va = vdupq_n_f32(alpha);
    if (n >= NR) {
        _Pragma("unroll") for (int i = 0; i < M; i++)
            _Pragma("unroll") for (int v = 0; v < 3; v++) {
                float32x4_t r = vmulq_f32(va, acc[0][i][v]);
                if (beta != 0.0f) r = vfmaq_n_f32(r, vld1q_f32(c + i * ldc + 4 * v), beta);
                vst1q_f32(c + i * ldc + 4 * v, r);
            }
    } else {
        float t[NR];
        for (int i = 0; i < M; i++) {
            for (int v = 0; v < 3; v++) vst1q_f32(t + 4 * v, vmulq_f32(va, acc[0][i][v]));
            for (ptrdiff_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0f ? t[j] : t[j] + beta * c[i * ldc + j];
        }
    }
}

typedef void (*ukr_fn)(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, ptrdiff_t, float, float);

#define UKR(M, KS)                                                                                  \
    static void ukr_##M(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc,     \
                        ptrdiff_t n, float alpha, float beta) {                                     \
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

static const ukr_fn ukrs[MR + 1] = {0, ukr_1, ukr_2, ukr_3, ukr_4, ukr_5, ukr_6, ukr_7, ukr_8};

int rk__gemm_mr_neon(void) { return MR; }
int rk__gemm_nr_neon(void) { return NR; }

void rk__sgemm_packed_neon(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kc, float alpha, const float *ap,
                           const float *bp, ptrdiff_t bstride, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t j = 0; j < n; j += NR) {
        const float *bj = bp + (j / NR) * bstride;
        for (ptrdiff_t i = 0; i < m; i += MR) {
            const ptrdiff_t rows = m - i < MR ? m - i : MR;
            ukrs[rows](kc, ap + i * kc, bj, c + i * ldc + j, ldc, n - j, alpha, beta);
        }
    }
}

/* y = alpha * x·B + beta * y, B is k x n with row stride ldb. */
void rk__sgemv_n_neon(ptrdiff_t k, ptrdiff_t n, float alpha, const float *x, const float *b,
                      ptrdiff_t ldb, float beta, float *y) {
    ptrdiff_t j = 0;
    for (; j + 32 <= n; j += 32) {
        float32x4_t acc[8];
        for (int v = 0; v < 8; v++) acc[v] = vdupq_n_f32(0.0f);
        const float *bj = b + j;
        for (ptrdiff_t p = 0; p < k; p++) {
            for (int v = 0; v < 8; v++) acc[v] = vfmaq_n_f32(acc[v], vld1q_f32(bj + 4 * v), x[p]);
            bj += ldb;
        }
        for (int v = 0; v < 8; v++) {
            float32x4_t r = vmulq_n_f32(acc[v], alpha);
            if (beta != 0.0f) r = vfmaq_n_f32(r, vld1q_f32(y + j + 4 * v), beta);
            vst1q_f32(y + j + 4 * v, r);
        }
    }
    for (; j < n; j++) {
        float s = 0.0f;
        for (ptrdiff_t p = 0; p < k; p++) s += x[p] * b[p * ldb + j];
        y[j] = beta == 0.0f ? alpha * s : alpha * s + beta * y[j];
    }
}

/* y = alpha * B·x + beta * y, B is n x k with row stride ldb. */
void rk__sgemv_t_neon(ptrdiff_t n, ptrdiff_t k, float alpha, const float *b, ptrdiff_t ldb,
                      const float *x, float beta, float *y) {
    for (ptrdiff_t j = 0; j < n; j++) {
        const float *r = b + j * ldb;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
        ptrdiff_t p = 0;
        for (; p + 8 <= k; p += 8) {
            a0 = vfmaq_f32(a0, vld1q_f32(r + p), vld1q_f32(x + p));
            a1 = vfmaq_f32(a1, vld1q_f32(r + p + 4), vld1q_f32(x + p + 4));
        }
        float s = vaddvq_f32(vaddq_f32(a0, a1));
        for (; p < k; p++) s += r[p] * x[p];
        y[j] = beta == 0.0f ? alpha * s : alpha * s + beta * y[j];
    }
}

/* y = alpha * x·B + beta * y with B packed (k blocks of depth kc, 12-column panels; see
 * rk_sgemv_packed): the batch-1 step of a recurrent layer, without packing x. Two depth
 * steps at a time into separate accumulators hide the FMA latency. */
void rk__sgemv_packed_neon(ptrdiff_t k, ptrdiff_t n, ptrdiff_t kc, const float *x, const float *b, float alpha,
                           float beta, float *y) {
    const ptrdiff_t panels = (n + NR - 1) / NR;
    for (ptrdiff_t q = 0; q < panels; q++) {
        float32x4_t a[2][3];
        for (int s = 0; s < 2; s++) a[s][0] = a[s][1] = a[s][2] = vdupq_n_f32(0.0f);
        for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
            const ptrdiff_t depth = k - p0 < kc ? k - p0 : kc;
            const float *panel = b + p0 * panels * NR + q * depth * NR, *xp = x + p0;
            ptrdiff_t p = 0;
            for (; p + 2 <= depth; p += 2, panel += 2 * NR) {
                const float32x4_t x0 = vdupq_n_f32(xp[p]), x1 = vdupq_n_f32(xp[p + 1]);
                a[0][0] = vfmaq_f32(a[0][0], x0, vld1q_f32(panel));
                a[0][1] = vfmaq_f32(a[0][1], x0, vld1q_f32(panel + 4));
                a[0][2] = vfmaq_f32(a[0][2], x0, vld1q_f32(panel + 8));
                a[1][0] = vfmaq_f32(a[1][0], x1, vld1q_f32(panel + 12));
                a[1][1] = vfmaq_f32(a[1][1], x1, vld1q_f32(panel + 16));
                a[1][2] = vfmaq_f32(a[1][2], x1, vld1q_f32(panel + 20));
            }
            for (; p < depth; p++, panel += NR) {
                const float32x4_t x0 = vdupq_n_f32(xp[p]);
                a[0][0] = vfmaq_f32(a[0][0], x0, vld1q_f32(panel));
                a[0][1] = vfmaq_f32(a[0][1], x0, vld1q_f32(panel + 4));
                a[0][2] = vfmaq_f32(a[0][2], x0, vld1q_f32(panel + 8));
            }
        }
        float t[NR];
        for (int v = 0; v < 3; v++) vst1q_f32(t + 4 * v, vmulq_n_f32(vaddq_f32(a[0][v], a[1][v]), alpha));
        const ptrdiff_t cols = n - q * NR < NR ? n - q * NR : NR;
        float *yq = y + q * NR;
        for (ptrdiff_t j = 0; j < cols; j++) yq[j] = beta == 0.0f ? t[j] : t[j] + beta * yq[j];
    }
}

#endif /* __aarch64__ */
