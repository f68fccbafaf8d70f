/* The C kernels against naive double-precision references, on every ISA the CPU supports,
 * each forced with rk_set_isa: the packed SGEMM and SGEMV, the nonlinearities and the fused
 * cell kernels forward and backward. Built and run by Tests/CKernels/run.sh, natively and,
 * for NEON, cross-compiled for arm64 and run under qemu-aarch64-static.
 * Exit status 0 when every check passes; each failure prints what and where. */
#include "CRecurrentKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;
static const char *isa_name(rk_isa isa) {
    switch (isa) {
    case RK_ISA_AVX2: return "avx2";
    case RK_ISA_AVX512: return "avx512";
    case RK_ISA_NEON: return "neon";
    default: return "portable";
    }
}

static unsigned long long rng = 88172645463325252ull;
static float uniform(float lo, float hi) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 11) * (1.0 / 9007199254740992.0));
}
static float *randoms(size_t n, float lo, float hi) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = uniform(lo, hi);
    return p;
}
/* Aligned to 64 bytes, as the Swift driver allocates packed panels. */
static float *aligned(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float))) abort();
    memset(p, 0, (n ? n : 1) * sizeof(float));
    return p;
}

/* |got − want| ≤ atol + rtol·scale, where scale bounds the terms that were summed. */
static void expect(const char *what, rk_isa isa, long i, double got, double want, double scale, double tol) {
    checks++;
    if (fabs(got - want) <= tol * (1.0 + scale) && !(isnan(got) != isnan(want))) return;
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s [%s] at %ld: got %.9g, want %.9g\n", what, isa_name(isa), i, got, want);
}

/* B (k x n, row-major) packed as Recurrent's PackedMatrix: depth blocks of kc, panels of nr. */
static float *pack_matrix(rk_isa isa, const float *b, ptrdiff_t k, ptrdiff_t n, ptrdiff_t kc) {
    const ptrdiff_t nr = rk_gemm_nr(isa), panels = (n + nr - 1) / nr;
    float *dst = aligned((size_t)(k * panels * nr));
    for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
        const ptrdiff_t depth = k - p0 < kc ? k - p0 : kc;
        rk_pack_b(isa, 0, b + p0 * n, n, depth, n, nr, dst + p0 * panels * nr);
    }
    return dst;
}

static void test_sgemv_packed(rk_isa isa) {
    const ptrdiff_t shapes[][3] = {{1, 1, 256}, {7, 13, 256}, {64, 96, 256}, {300, 37, 128}, {128, 512, 256}, {5, 33, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const ptrdiff_t k = shapes[s][0], n = shapes[s][1], kc = shapes[s][2];
        float *b = randoms((size_t)(k * n), -1, 1), *x = randoms((size_t)k, -1, 1), *y = randoms((size_t)n, -1, 1);
        float *y0 = malloc((size_t)n * sizeof(float));
        memcpy(y0, y, (size_t)n * sizeof(float));
        float *packed = pack_matrix(isa, b, k, n, kc);
        for (int withBeta = 0; withBeta < 2; withBeta++) {
            memcpy(y, y0, (size_t)n * sizeof(float));
            const float beta = withBeta ? 0.5f : 0.0f;
            rk_sgemv_packed(isa, k, n, kc, rk_gemm_nr(isa), x, packed, 1.5f, beta, y);
            for (ptrdiff_t j = 0; j < n; j++) {
                double want = 0, scale = 0;
                for (ptrdiff_t p = 0; p < k; p++) { want += (double)x[p] * b[p * n + j]; scale += fabs((double)x[p] * b[p * n + j]); }
                want = 1.5 * want + beta * y0[j];
                expect("sgemv_packed", isa, (long)j, y[j], want, 1.5 * scale, 1e-6);
            }
        }
        free(b); free(x); free(y); free(y0); free(packed);
    }
}

static void test_sgemm_packed(rk_isa isa) {
    const ptrdiff_t shapes[][3] = {{1, 1, 1}, {5, 17, 9}, {13, 40, 64}, {32, 70, 100}};
    const ptrdiff_t mr = rk_gemm_mr(isa), nr = rk_gemm_nr(isa);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const ptrdiff_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = randoms((size_t)(m * k), -1, 1), *b = randoms((size_t)(k * n), -1, 1);
        float *c = randoms((size_t)(m * n), -1, 1), *c0 = malloc((size_t)(m * n) * sizeof(float));
        memcpy(c0, c, (size_t)(m * n) * sizeof(float));
        const ptrdiff_t panels = (n + nr - 1) / nr;
        float *ap = aligned((size_t)(((m + mr - 1) / mr) * mr * k)), *bp = aligned((size_t)(panels * nr * k));
        rk_pack_a(isa, 0, a, k, m, k, mr, ap);
        rk_pack_b(isa, 0, b, n, k, n, nr, bp);
        rk_sgemm_packed(isa, m, n, k, 1.0f, ap, bp, k * nr, 1.0f, c, n);
        for (ptrdiff_t i = 0; i < m; i++)
            for (ptrdiff_t j = 0; j < n; j++) {
                double want = c0[i * n + j], scale = fabs(c0[i * n + j]);
                for (ptrdiff_t p = 0; p < k; p++) { want += (double)a[i * k + p] * b[p * n + j]; scale += fabs((double)a[i * k + p] * b[p * n + j]); }
                expect("sgemm_packed", isa, (long)(i * n + j), c[i * n + j], want, scale, 1e-6);
            }
        free(a); free(b); free(c); free(c0); free(ap); free(bp);
    }
}

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

static void test_activations(rk_isa isa) {
    enum { N = 2003 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = -30.0f + 60.0f * (float)i / (N - 1);
    rk_sigmoid(x, y, N);
    for (int i = 0; i < N; i++) expect("sigmoid", isa, i, y[i], sigmoid_d(x[i]), 0, 3e-7);
    rk_tanh(x, y, N);
    for (int i = 0; i < N; i++) expect("tanh", isa, i, y[i], tanh((double)x[i]), 0, 3e-7);
    for (int i = 0; i < N; i++) x[i] = -20.0f + 40.0f * (float)i / (N - 1);
    rk_exp(x, y, N);
    for (int i = 0; i < N; i++) expect("exp", isa, i, y[i] / exp((double)x[i]), 1.0, 0, 3e-7);
}

/* One row of each cell at widths that leave every kind of vector tail. */
static void test_cells(rk_isa isa) {
    const size_t widths[] = {1, 3, 8, 13, 16, 37, 80};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        const size_t n = widths[w];
        const ptrdiff_t xs = (ptrdiff_t)n + 3, rs = (ptrdiff_t)n + 5, bs = (ptrdiff_t)n + 1;
        float *xg = randoms(4 * (size_t)xs, -3, 3), *rg = randoms(4 * (size_t)rs, -3, 3);
        float *bias = randoms(4 * (size_t)xs, -1, 1), *bhh = randoms(3 * (size_t)bs, -1, 1);
        float *c = randoms(n, -2, 2), *hprev = randoms(n, -1, 1), *dh = randoms(n, -1, 1), *dc = randoms(n, -1, 1);
        float *x0 = malloc(4 * (size_t)xs * sizeof(float));
        memcpy(x0, xg, 4 * (size_t)xs * sizeof(float));
        float *c0 = malloc(n * sizeof(float));
        memcpy(c0, c, n * sizeof(float));
        float *h = aligned(n), *cprev = aligned(n), *tanhc = aligned(n), *cand = aligned(n);

        /* LSTM forward, gates saved. */
        rk_lstm_forward(n, xg, xs, bias, rg, rs, c, cprev, tanhc, h, 1);
        for (size_t j = 0; j < n; j++) {
            double a[4];
            for (int k = 0; k < 4; k++) a[k] = (double)x0[k * xs + j] + bias[k * xs + j] + rg[k * rs + j];
            const double i = sigmoid_d(a[0]), f = sigmoid_d(a[1]), g = tanh(a[2]), o = sigmoid_d(a[3]);
            const double cn = f * c0[j] + i * g;
            expect("lstm c", isa, (long)j, c[j], cn, 0, 1e-6);
            expect("lstm cprev", isa, (long)j, cprev[j], c0[j], 0, 0);
            expect("lstm tanhc", isa, (long)j, tanhc[j], tanh(cn), 0, 1e-6);
            expect("lstm h", isa, (long)j, h[j], o * tanh(cn), 0, 1e-6);
            expect("lstm gate i", isa, (long)j, xg[j], i, 0, 1e-6);
            expect("lstm gate g", isa, (long)j, xg[2 * xs + j], g, 0, 1e-6);
        }
        /* LSTM backward from the saved gates. */
        float *da = aligned(4 * (size_t)xs), *dc1 = malloc(n * sizeof(float));
        memcpy(dc1, dc, n * sizeof(float));
        rk_lstm_backward(n, xg, xs, cprev, tanhc, dh, dc1, da, xs);
        for (size_t j = 0; j < n; j++) {
            const double i = xg[j], f = xg[xs + j], g = xg[2 * xs + j], o = xg[3 * xs + j], tc = tanhc[j];
            const double total = dc[j] + dh[j] * o * (1 - tc * tc);
            expect("lstm da_i", isa, (long)j, da[j], total * g * i * (1 - i), 0, 1e-6);
            expect("lstm da_f", isa, (long)j, da[xs + j], total * cprev[j] * f * (1 - f), 0, 1e-6);
            expect("lstm da_g", isa, (long)j, da[2 * xs + j], total * i * (1 - g * g), 0, 1e-6);
            expect("lstm da_o", isa, (long)j, da[3 * xs + j], dh[j] * tc * o * (1 - o), 0, 1e-6);
            expect("lstm dc", isa, (long)j, dc1[j], total * f, 0, 1e-6);
        }

        /* GRU forward (reset after), both biases. */
        memcpy(xg, x0, 4 * (size_t)xs * sizeof(float));
        rk_gru_forward(n, xg, xs, bias, rg, rs, bhh, bs, hprev, cand, h);
        for (size_t j = 0; j < n; j++) {
            const double r = sigmoid_d((double)x0[j] + bias[j] + rg[j] + bhh[j]);
            const double z = sigmoid_d((double)x0[xs + j] + bias[bs + j] + rg[rs + j] + bhh[bs + j]);
            const double q = (double)rg[2 * rs + j] + bhh[2 * bs + j];
            const double nn = tanh((double)x0[2 * xs + j] + bias[2 * bs + j] + r * q);
            expect("gru h", isa, (long)j, h[j], (1 - z) * nn + z * hprev[j], 0, 1e-6);
            expect("gru cand", isa, (long)j, cand[j], q, 0, 1e-6);
            expect("gru gate n", isa, (long)j, xg[2 * xs + j], nn, 0, 1e-6);
        }
        float *di = aligned(3 * (size_t)xs), *dr = aligned(3 * (size_t)rs), *direct = aligned(n);
        rk_gru_backward(n, xg, xs, hprev, cand, dh, direct, di, xs, dr, rs);
        for (size_t j = 0; j < n; j++) {
            const double r = xg[j], z = xg[xs + j], nn = xg[2 * xs + j], d = dh[j];
            const double dn = d * (1 - z) * (1 - nn * nn), dz = d * (hprev[j] - nn) * z * (1 - z);
            const double dreset = dn * cand[j] * r * (1 - r);
            expect("gru di_r", isa, (long)j, di[j], dreset, 0, 1e-6);
            expect("gru di_z", isa, (long)j, di[xs + j], dz, 0, 1e-6);
            expect("gru di_n", isa, (long)j, di[2 * xs + j], dn, 0, 1e-6);
            expect("gru dr_n", isa, (long)j, dr[2 * rs + j], dn * r, 0, 1e-6);
            expect("gru direct", isa, (long)j, direct[j], d * z, 0, 1e-6);
        }

        /* Classic GRU (reset before), both phases, with a mask and both biases, forward and backward. */
        float *mask = randoms(n, 0, 2), *rh = aligned(n), *q = randoms(n, -2, 2), *drh = randoms(n, -1, 1);
        memcpy(xg, x0, 4 * (size_t)xs * sizeof(float));
        rk_gru_reset_forward(n, xg, xs, bias, rg, rs, bhh, bs, hprev, mask, rh);
        rk_gru_candidate_forward(n, xg, xs, bias, q, bhh, bs, hprev, h);
        for (size_t j = 0; j < n; j++) {
            const double r = sigmoid_d((double)x0[j] + bias[j] + rg[j] + bhh[j]);
            const double z = sigmoid_d((double)x0[xs + j] + bias[bs + j] + rg[rs + j] + bhh[bs + j]);
            const double nn = tanh((double)x0[2 * xs + j] + bias[2 * bs + j] + q[j] + bhh[2 * bs + j]);
            expect("gru classic r", isa, (long)j, xg[j], r, 0, 1e-6);
            expect("gru classic rh", isa, (long)j, rh[j], r * hprev[j] * mask[j], 0, 1e-6);
            expect("gru classic n", isa, (long)j, xg[2 * xs + j], nn, 0, 1e-6);
            expect("gru classic h", isa, (long)j, h[j], (1 - z) * nn + z * hprev[j], 0, 1e-6);
        }
        float *dh2 = malloc(n * sizeof(float));
        memcpy(dh2, dh, n * sizeof(float));
        rk_gru_candidate_backward(n, xg, xs, hprev, dh2, dh2, di, xs);
        for (size_t j = 0; j < n; j++) {
            const double z = xg[xs + j], nn = xg[2 * xs + j], d = dh[j];
            expect("gru classic da_z", isa, (long)j, di[xs + j], d * (hprev[j] - nn) * z * (1 - z), 0, 1e-6);
            expect("gru classic da_n", isa, (long)j, di[2 * xs + j], d * (1 - z) * (1 - nn * nn), 0, 1e-6);
            expect("gru classic direct", isa, (long)j, dh2[j], d * z, 0, 1e-6);
        }
        rk_gru_reset_backward(n, xg, hprev, mask, drh, dh2, di);
        for (size_t j = 0; j < n; j++) {
            const double r = xg[j], z = xg[xs + j], d = (double)drh[j] * mask[j];
            expect("gru classic da_r", isa, (long)j, di[j], d * hprev[j] * r * (1 - r), 0, 1e-6);
            expect("gru classic dh", isa, (long)j, dh2[j], dh[j] * z + d * r, 0, 1e-6);
        }
        free(mask); free(rh); free(q); free(drh); free(dh2);

        /* Simple RNN, tanh and relu, with and without bias. */
        for (int relu = 0; relu < 2; relu++) {
            memcpy(xg, x0, 4 * (size_t)xs * sizeof(float));
            rk_rnn_forward(n, xg, relu ? NULL : bias, rg, h, relu);
            float *dar = aligned(n);
            rk_rnn_backward(n, h, dh, dar, relu);
            for (size_t j = 0; j < n; j++) {
                const double a = (double)x0[j] + (relu ? 0.0 : bias[j]) + rg[j];
                const double y = relu ? (a > 0 ? a : 0) : tanh(a);
                expect(relu ? "rnn relu h" : "rnn tanh h", isa, (long)j, h[j], y, 0, 1e-6);
                expect("rnn act saved", isa, (long)j, xg[j], y, 0, 1e-6);
                const double dwant = relu ? (h[j] > 0 ? dh[j] : 0) : dh[j] * (1 - (double)h[j] * h[j]);
                expect("rnn da", isa, (long)j, dar[j], dwant, 0, 1e-6);
            }
            free(dar);
        }
        free(xg); free(rg); free(bias); free(bhh); free(c); free(hprev); free(dh); free(dc); free(x0); free(c0);
        free(h); free(cprev); free(tanhc); free(cand); free(da); free(dc1); free(di); free(dr); free(direct);
    }
}

int main(void) {
    const rk_isa all[] = {RK_ISA_PORTABLE, RK_ISA_AVX2, RK_ISA_AVX512, RK_ISA_NEON};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const rk_isa isa = all[i];
        if (!rk_isa_supported(isa)) continue;
        if (rk_set_isa(isa) != 0 || rk_active_isa() != isa) { fprintf(stderr, "cannot force %s\n", isa_name(isa)); return 1; }
        const int before = failures, checked = checks;
        test_sgemv_packed(isa);
        test_sgemm_packed(isa);
        test_activations(isa);
        test_cells(isa);
        printf("%-8s %6d checks, %d failed\n", isa_name(isa), checks - checked, failures - before);
    }
    return failures == 0 ? 0 : 1;
}
