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

/* The activations by code, in double, and their derivatives from the output. */
static double act_d(int kind, double x) {
    switch (kind) {
    case RK_ACT_SIGMOID: return sigmoid_d(x);
    case RK_ACT_RELU: return x > 0 ? x : 0;
    case RK_ACT_LINEAR: return x;
    case RK_ACT_HARD_SIGMOID: return fmin(fmax(x + 3, 0), 6) / 6;
    default: return tanh(x);
    }
}
static double grad_d(int kind, double y) {
    switch (kind) {
    case RK_ACT_SIGMOID: return y * (1 - y);
    case RK_ACT_RELU: return y > 0 ? 1 : 0;
    case RK_ACT_LINEAR: return 1;
    case RK_ACT_HARD_SIGMOID: return y > 0 && y < 1 ? 1.0 / 6 : 0;
    default: return 1 - y * y;
    }
}
static const char *act_name(int kind) {
    static const char *names[] = {"tanh", "sigmoid", "relu", "linear", "hard_sigmoid"};
    return names[kind];
}

/* One row of each cell at widths that leave every kind of vector tail, with candidate
 * activation `act` and gate activation `gate`. */
static void test_cells_with(rk_isa isa, int act, int gate) {
    char label[64];
    /* Unbounded activations (relu, linear) are checked relative to the value's size. */
    const int standard = act == RK_ACT_TANH && gate == RK_ACT_SIGMOID;
#define CHECK(what, j, got, want) \
    (snprintf(label, sizeof label, "%s [%s/%s]", what, act_name(act), act_name(gate)), \
     expect(label, isa, (long)(j), got, want, standard ? 0.0 : fabs((double)(want)), 1e-6))
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
        rk_lstm_forward(n, xg, xs, bias, rg, rs, c, cprev, tanhc, h, 1, act, gate);
        for (size_t j = 0; j < n; j++) {
            double a[4];
            for (int k = 0; k < 4; k++) a[k] = (double)x0[k * xs + j] + bias[k * xs + j] + rg[k * rs + j];
            const double i = act_d(gate, a[0]), f = act_d(gate, a[1]), g = act_d(act, a[2]), o = act_d(gate, a[3]);
            const double cn = f * c0[j] + i * g;
            CHECK("lstm c", j, c[j], cn);
            CHECK("lstm cprev", j, cprev[j], c0[j]);
            CHECK("lstm act(c)", j, tanhc[j], act_d(act, cn));
            CHECK("lstm h", j, h[j], o * act_d(act, cn));
            CHECK("lstm gate i", j, xg[j], i);
            CHECK("lstm gate g", j, xg[2 * xs + j], g);
        }
        /* LSTM backward from the saved gates. */
        float *da = aligned(4 * (size_t)xs), *dc1 = malloc(n * sizeof(float));
        memcpy(dc1, dc, n * sizeof(float));
        rk_lstm_backward(n, xg, xs, cprev, tanhc, dh, dc1, da, xs, act, gate);
        for (size_t j = 0; j < n; j++) {
            const double i = xg[j], f = xg[xs + j], g = xg[2 * xs + j], o = xg[3 * xs + j], tc = tanhc[j];
            const double total = dc[j] + dh[j] * o * grad_d(act, tc);
            CHECK("lstm da_i", j, da[j], total * g * grad_d(gate, i));
            CHECK("lstm da_f", j, da[xs + j], total * cprev[j] * grad_d(gate, f));
            CHECK("lstm da_g", j, da[2 * xs + j], total * i * grad_d(act, g));
            CHECK("lstm da_o", j, da[3 * xs + j], dh[j] * tc * grad_d(gate, o));
            CHECK("lstm dc", j, dc1[j], total * f);
        }

        /* GRU forward (reset after), both biases. */
        memcpy(xg, x0, 4 * (size_t)xs * sizeof(float));
        rk_gru_forward(n, xg, xs, bias, rg, rs, bhh, bs, hprev, cand, h, act, gate);
        for (size_t j = 0; j < n; j++) {
            const double r = act_d(gate, (double)x0[j] + bias[j] + rg[j] + bhh[j]);
            const double z = act_d(gate, (double)x0[xs + j] + bias[bs + j] + rg[rs + j] + bhh[bs + j]);
            const double q = (double)rg[2 * rs + j] + bhh[2 * bs + j];
            const double nn = act_d(act, (double)x0[2 * xs + j] + bias[2 * bs + j] + r * q);
            CHECK("gru h", j, h[j], (1 - z) * nn + z * hprev[j]);
            CHECK("gru cand", j, cand[j], q);
            CHECK("gru gate n", j, xg[2 * xs + j], nn);
        }
        float *di = aligned(3 * (size_t)xs), *dr = aligned(3 * (size_t)rs), *direct = aligned(n);
        rk_gru_backward(n, xg, xs, hprev, cand, dh, direct, di, xs, dr, rs, act, gate);
        for (size_t j = 0; j < n; j++) {
            const double r = xg[j], z = xg[xs + j], nn = xg[2 * xs + j], d = dh[j];
            const double dn = d * (1 - z) * grad_d(act, nn), dz = d * (hprev[j] - nn) * grad_d(gate, z);
            const double dreset = dn * cand[j] * grad_d(gate, r);
            CHECK("gru di_r", j, di[j], dreset);
            CHECK("gru di_z", j, di[xs + j], dz);
            CHECK("gru di_n", j, di[2 * xs + j], dn);
            CHECK("gru dr_n", j, dr[2 * rs + j], dn * r);
            CHECK("gru direct", j, direct[j], d * z);
        }

        /* Classic GRU (reset before), both phases, with a mask and both biases, forward and backward. */
        float *mask = randoms(n, 0, 2), *rh = aligned(n), *q = randoms(n, -2, 2), *drh = randoms(n, -1, 1);
        memcpy(xg, x0, 4 * (size_t)xs * sizeof(float));
        rk_gru_reset_forward(n, xg, xs, bias, rg, rs, bhh, bs, hprev, mask, rh, gate);
        rk_gru_candidate_forward(n, xg, xs, bias, q, bhh, bs, hprev, h, act);
        for (size_t j = 0; j < n; j++) {
            const double r = act_d(gate, (double)x0[j] + bias[j] + rg[j] + bhh[j]);
            const double z = act_d(gate, (double)x0[xs + j] + bias[bs + j] + rg[rs + j] + bhh[bs + j]);
            const double nn = act_d(act, (double)x0[2 * xs + j] + bias[2 * bs + j] + q[j] + bhh[2 * bs + j]);
            CHECK("gru classic r", j, xg[j], r);
            CHECK("gru classic rh", j, rh[j], r * hprev[j] * mask[j]);
            CHECK("gru classic n", j, xg[2 * xs + j], nn);
            CHECK("gru classic h", j, h[j], (1 - z) * nn + z * hprev[j]);
        }
        float *dh2 = malloc(n * sizeof(float));
        memcpy(dh2, dh, n * sizeof(float));
        rk_gru_candidate_backward(n, xg, xs, hprev, dh2, dh2, di, xs, act, gate);
        for (size_t j = 0; j < n; j++) {
            const double z = xg[xs + j], nn = xg[2 * xs + j], d = dh[j];
            CHECK("gru classic da_z", j, di[xs + j], d * (hprev[j] - nn) * grad_d(gate, z));
            CHECK("gru classic da_n", j, di[2 * xs + j], d * (1 - z) * grad_d(act, nn));
            CHECK("gru classic direct", j, dh2[j], d * z);
        }
        rk_gru_reset_backward(n, xg, hprev, mask, drh, dh2, di, gate);
        for (size_t j = 0; j < n; j++) {
            const double r = xg[j], z = xg[xs + j], d = (double)drh[j] * mask[j];
            CHECK("gru classic da_r", j, di[j], d * hprev[j] * grad_d(gate, r));
            CHECK("gru classic dh", j, dh2[j], dh[j] * z + d * r);
        }
        free(mask); free(rh); free(q); free(drh); free(dh2);

        /* Simple RNN (activation `act`), with and without bias. */
        for (int withBias = 0; withBias < 2; withBias++) {
            memcpy(xg, x0, 4 * (size_t)xs * sizeof(float));
            rk_rnn_forward(n, xg, withBias ? bias : NULL, rg, h, act);
            float *dar = aligned(n);
            rk_rnn_backward(n, h, dh, dar, act);
            for (size_t j = 0; j < n; j++) {
                const double y = act_d(act, (double)x0[j] + (withBias ? bias[j] : 0.0) + rg[j]);
                CHECK("rnn h", j, h[j], y);
                CHECK("rnn act saved", j, xg[j], y);
                CHECK("rnn da", j, dar[j], dh[j] * grad_d(act, h[j]));
            }
            free(dar);
        }
        free(xg); free(rg); free(bias); free(bhh); free(c); free(hprev); free(dh); free(dc); free(x0); free(c0);
        free(h); free(cprev); free(tanhc); free(cand); free(da); free(dc1); free(di); free(dr); free(direct);
    }
#undef CHECK
}

/* The standard pair and pairs that reach every other activation as candidate and as gate. */
static void test_cells(rk_isa isa) {
    const int pairs[][2] = {
        {RK_ACT_TANH, RK_ACT_SIGMOID}, {RK_ACT_RELU, RK_ACT_HARD_SIGMOID}, {RK_ACT_LINEAR, RK_ACT_RELU},
        {RK_ACT_HARD_SIGMOID, RK_ACT_LINEAR}, {RK_ACT_SIGMOID, RK_ACT_TANH},
    };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) test_cells_with(isa, pairs[k][0], pairs[k][1]);
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
