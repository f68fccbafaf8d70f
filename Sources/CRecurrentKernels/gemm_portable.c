/* Portable C SGEMM micro-kernel (4 x 8 tile), macro-kernel and SGEMV: the fallback for CPUs
 * without the SIMD extensions the other files target. Plain loops the compiler may vectorise
 * for the baseline target. See rk_gemm.h for the packed layouts. */
#include "CRecurrentKernels.h"

enum { MR = 4, NR = 8 };

int rk__gemm_mr_portable(void) { return MR; }
int rk__gemm_nr_portable(void) { return NR; }

/* 4-float vectors via the GCC/clang vector extension: SSE on x86-64, NEON on arm64, scalar
 * code elsewhere. The unaligned variant is for loads and stores of C. */
typedef float v4 __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4)));

/* One M x 8 tile: C = alpha * A·B + beta * C; KS accumulator sets over k for small M.
 * M and KS are constants at each call site so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void tile(const int M, const int KS, ptrdiff_t kc,
                                                       const float *restrict a,
                                                       const float *restrict b, float *restrict c,
                                                       ptrdiff_t ldc, ptrdiff_t n, float alpha,
                                                       float beta) {
    v4 acc[4][MR][2];
    _Pragma("unroll") for (int s = 0; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++) acc[s][i][0] = acc[s][i][1] = (v4){0, 0, 0, 0};
    ptrdiff_t p = 0;
    for (; p + KS <= kc; p += KS) {
        _Pragma("unroll") for (int s = 0; s < KS; s++) {
            const v4 b0 = *(const v4u *)(b + s * NR), b1 = *(const v4u *)(b + s * NR + 4);
            _Pragma("unroll") for (int i = 0; i < M; i++) {
                const float ai = a[s * M + i];
                acc[s][i][0] += ai * b0;
                acc[s][i][1] += ai * b1;
            }
        }
        a += KS * M;
        b += KS * NR;
    }
    for (; p < kc; p++) {
        const v4 b0 = *(const v4u *)b, b1 = *(const v4u *)(b + 4);
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            acc[0][i][0] += a[i] * b0;
            acc[0][i][1] += a[i] * b1;
        }
        a += M;
        b += NR;
    }
    _Pragma("unroll") for (int s = 1; s < KS; s++)
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            acc[0][i][0] += acc[s][i][0];
            acc[0][i][1] += acc[s][i][1];
        }
    if (n >= NR) {
        _Pragma("unroll") for (int i = 0; i < M; i++) {
            v4u *ci = (v4u *)(c + i * ldc);
            if (beta == 0.0f) {
                ci[0] = alpha * acc[0][i][0];
                ci[1] = alpha * acc[0][i][1];
            } else {
                ci[0] = alpha * acc[0][i][0] + beta * ci[0];
                ci[1] = alpha * acc[0][i][1] + beta * ci[1];
            }
        }
    } else {
        for (int i = 0; i < M; i++) {
            float t[NR];
            *(v4u *)t = alpha * acc[0][i][0];
            *(v4u *)(t + 4) = alpha * acc[0][i][1];
            float *ci = c + i * ldc;
            for (ptrdiff_t j = 0; j < n; j++) ci[j] = beta == 0.0f ? t[j] : t[j] + beta * ci[j];
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
UKR(3, 1)
UKR(4, 1)

static const ukr_fn ukrs[MR + 1] = {0, ukr_1, ukr_2, ukr_3, ukr_4};

void rk__sgemm_packed_portable(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kc, float alpha, const float *ap,
                               const float *bp, ptrdiff_t bstride, float beta, float *c,
                               ptrdiff_t ldc) {
    for (ptrdiff_t j = 0; j < n; j += NR) {
        const float *bj = bp + (j / NR) * bstride;
        for (ptrdiff_t i = 0; i < m; i += MR) {
            const ptrdiff_t rows = m - i < MR ? m - i : MR;
            ukrs[rows](kc, ap + i * kc, bj, c + i * ldc + j, ldc, n - j, alpha, beta);
        }
    }
}

void rk__sgemv_n_portable(ptrdiff_t k, ptrdiff_t n, float alpha, const float *x, const float *b,
                          ptrdiff_t ldb, float beta, float *y) {
    enum { W = 64 };
    for (ptrdiff_t j0 = 0; j0 < n; j0 += W) {
        const ptrdiff_t w = n - j0 < W ? n - j0 : W;
        float acc[W] = {0};
        for (ptrdiff_t p = 0; p < k; p++) {
            const float xp = x[p];
            const float *bp = b + p * ldb + j0;
            for (ptrdiff_t j = 0; j < w; j++) acc[j] += xp * bp[j];
        }
        for (ptrdiff_t j = 0; j < w; j++)
            y[j0 + j] = beta == 0.0f ? alpha * acc[j] : alpha * acc[j] + beta * y[j0 + j];
    }
}

void rk__sgemv_t_portable(ptrdiff_t n, ptrdiff_t k, float alpha, const float *b, ptrdiff_t ldb,
                          const float *x, float beta, float *y) {
    for (ptrdiff_t j = 0; j < n; j++) {
        const float *r = b + j * ldb;
        float s[8] = {0};
        ptrdiff_t p = 0;
        for (; p + 8 <= k; p += 8)
            for (int l = 0; l < 8; l++) s[l] += r[p + l] * x[p + l];
        float t = 0;
        for (; p < k; p++) t += r[p] * x[p];
        t += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
        y[j] = beta == 0.0f ? alpha * t : alpha * t + beta * y[j];
    }
}

/* y = alpha * x·B + beta * y with B packed (k blocks of depth kc, 8-column panels; see
 * rk_sgemv_packed). The inner loops over a panel's columns vectorise; two depth steps at a
 * time into separate accumulators. */
void rk__sgemv_packed_portable(ptrdiff_t k, ptrdiff_t n, ptrdiff_t kc, const float *x, const float *b, float alpha,
                               float beta, float *y) {
    const ptrdiff_t panels = (n + NR - 1) / NR;
    for (ptrdiff_t q = 0; q < panels; q++) {
        float a0[NR] = {0}, a1[NR] = {0};
        for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
            const ptrdiff_t depth = k - p0 < kc ? k - p0 : kc;
            const float *panel = b + p0 * panels * NR + q * depth * NR, *xp = x + p0;
            ptrdiff_t p = 0;
            for (; p + 2 <= depth; p += 2, panel += 2 * NR) {
                for (int j = 0; j < NR; j++) a0[j] += xp[p] * panel[j];
                for (int j = 0; j < NR; j++) a1[j] += xp[p + 1] * panel[NR + j];
            }
            for (; p < depth; p++, panel += NR)
                for (int j = 0; j < NR; j++) a0[j] += xp[p] * panel[j];
        }
        const ptrdiff_t cols = n - q * NR < NR ? n - q * NR : NR;
        float *yq = y + q * NR;
        for (ptrdiff_t j = 0; j < cols; j++) {
            const float s = alpha * (a0[j] + a1[j]);
            yq[j] = beta == 0.0f ? s : s + beta * yq[j];
        }
    }
}
