/* The fused recurrent cells (rk_pointwise.h), each one row of one time step over n hidden
 * units, written once: forward and backward of LSTM, GRU (reset after the product; and reset
 * before it, in two phases around the product (r ⊙ h)·W_hnᵀ) and the simple RNN. cells.c includes this file once per ISA after defining
 *   VEC, VW            the vector type and its lanes (float and 1 for portable C)
 *   TGT                the target attribute of that ISA (empty for portable C)
 *   V_LOAD(p, m)       the first m ≤ VW floats at p, zero in the other lanes; V_STORE(p, v, m)
 *   V_SET1 V_ADD V_SUB V_MUL V_DIV V_MIN V_MAX, V_SIGMOID V_TANH V_RELU   (simd_math.h's algorithm)
 *   RK_CELL(name)      name with the ISA's suffix
 *   V_LOOP             a loop hint (portable C asks clang to vectorise the forward loops)
 * No include guard: it is meant to be included several times, and it undefines these names at
 * its end.
 *
 * The equations are the autograd cells' (Sources/Recurrent/RecurrentLayers/Cells.swift), the
 * tests' oracle. Each kernel takes its activations as codes (rk_activation: the candidate's
 * `act`, the gates' `gate`); the standard pair (tanh, sigmoid) gets a body of its own with the
 * codes constant. The backward kernels have no transcendental functions (every derivative is
 * a function of the activation's output): plain loops that the target attribute lets the
 * vectorizer render with that ISA's registers. */

/* x + b (b nullable) + r over the first m lanes. */
static inline TGT VEC RK_CELL(rk_cell_pre)(size_t m, const float *x, const float *b, const float *r) {
    VEC v = V_LOAD(x, m);
    if (b) v = V_ADD(v, V_LOAD(b, m));
    return V_ADD(v, V_LOAD(r, m));
}

/* The activation of code `kind`; hard sigmoid is Keras 3's min(max(x + 3, 0), 6) / 6. */
static inline TGT VEC RK_CELL(rk_act)(int kind, VEC x) {
    switch (kind) {
    case RK_ACT_SIGMOID: return V_SIGMOID(x);
    case RK_ACT_RELU: return V_RELU(x);
    case RK_ACT_LINEAR: return x;
    case RK_ACT_HARD_SIGMOID:
        return V_DIV(V_MIN(V_MAX(V_ADD(x, V_SET1(3.0f)), V_SET1(0.0f)), V_SET1(6.0f)), V_SET1(6.0f));
    default: return V_TANH(x);
    }
}

/* A kernel's body specialised for the standard activations, else for the codes given. */
#define RK_STANDARD_OR(body, act, gate, ...)                                                        \
    do {                                                                                           \
        if ((act) == RK_ACT_TANH && (gate) == RK_ACT_SIGMOID) body(__VA_ARGS__, RK_ACT_TANH, RK_ACT_SIGMOID); \
        else body(__VA_ARGS__, (act), (gate));                                                     \
    } while (0)
#define RK_BODY static inline TGT __attribute__((always_inline))

/* a = (xg + bias) + rg per gate; i, f, o = gate(a), g = act(a); c = f·c + i·g; h = o·act(c). */
RK_BODY void RK_CELL(rk_lstm_forward_body)(size_t n, float *xg, ptrdiff_t xs, const float *bias, const float *rg,
                                           ptrdiff_t rs, float *c, float *cprev, float *tanhc, float *h, int save,
                                           int act, int gate) {
    V_LOOP for (size_t j = 0; j < n; j += VW) {
        const size_t m = n - j < VW ? n - j : VW;
        const float *b = bias ? bias + j : 0;
        const VEC i = RK_CELL(rk_act)(gate, RK_CELL(rk_cell_pre)(m, xg + j, b, rg + j));
        const VEC f = RK_CELL(rk_act)(gate, RK_CELL(rk_cell_pre)(m, xg + xs + j, b ? b + xs : 0, rg + rs + j));
        const VEC g = RK_CELL(rk_act)(act, RK_CELL(rk_cell_pre)(m, xg + 2 * xs + j, b ? b + 2 * xs : 0, rg + 2 * rs + j));
        const VEC o = RK_CELL(rk_act)(gate, RK_CELL(rk_cell_pre)(m, xg + 3 * xs + j, b ? b + 3 * xs : 0, rg + 3 * rs + j));
        const VEC cp = V_LOAD(c + j, m);
        const VEC cn = V_ADD(V_MUL(f, cp), V_MUL(i, g));
        const VEC tc = RK_CELL(rk_act)(act, cn);
        if (cprev) V_STORE(cprev + j, cp, m);
        V_STORE(c + j, cn, m);
        if (tanhc) V_STORE(tanhc + j, tc, m);
        V_STORE(h + j, V_MUL(o, tc), m);
        if (save) {
            V_STORE(xg + j, i, m);
            V_STORE(xg + xs + j, f, m);
            V_STORE(xg + 2 * xs + j, g, m);
            V_STORE(xg + 3 * xs + j, o, m);
        }
    }
}
static TGT void RK_CELL(rk_lstm_forward)(size_t n, float *xg, ptrdiff_t xs, const float *bias, const float *rg,
                                         ptrdiff_t rs, float *c, float *cprev, float *tanhc, float *h, int save,
                                         int act, int gate) {
    RK_STANDARD_OR(RK_CELL(rk_lstm_forward_body), act, gate, n, xg, xs, bias, rg, rs, c, cprev, tanhc, h, save);
}

/* r, z = gate((xg + b_ih) + (rg + b_hh)); q = rg_n + b_hn; n = act((xg_n + b_in) + r·q);
 * h = (1 − z)·n + z·hprev. */
RK_BODY void RK_CELL(rk_gru_forward_body)(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *rg,
                                          ptrdiff_t rs, const float *bhh, ptrdiff_t bs, const float *hprev,
                                          float *cand, float *h, int act, int gate) {
    V_LOOP for (size_t j = 0; j < n; j += VW) {
        const size_t m = n - j < VW ? n - j : VW;
        VEC rr = V_LOAD(rg + j, m), rz = V_LOAD(rg + rs + j, m), q = V_LOAD(rg + 2 * rs + j, m);
        if (bhh) {
            rr = V_ADD(rr, V_LOAD(bhh + j, m));
            rz = V_ADD(rz, V_LOAD(bhh + bs + j, m));
            q = V_ADD(q, V_LOAD(bhh + 2 * bs + j, m));
        }
        VEC xr = V_LOAD(xg + j, m), xz = V_LOAD(xg + xs + j, m), xn = V_LOAD(xg + 2 * xs + j, m);
        if (bih) {
            xr = V_ADD(xr, V_LOAD(bih + j, m));
            xz = V_ADD(xz, V_LOAD(bih + bs + j, m));
            xn = V_ADD(xn, V_LOAD(bih + 2 * bs + j, m));
        }
        const VEC r = RK_CELL(rk_act)(gate, V_ADD(xr, rr));
        const VEC z = RK_CELL(rk_act)(gate, V_ADD(xz, rz));
        const VEC nn = RK_CELL(rk_act)(act, V_ADD(xn, V_MUL(r, q)));
        const VEC hp = V_LOAD(hprev + j, m);
        V_STORE(h + j, V_ADD(V_MUL(V_SUB(V_SET1(1.0f), z), nn), V_MUL(z, hp)), m);
        if (cand) V_STORE(cand + j, q, m);
        V_STORE(xg + j, r, m);
        V_STORE(xg + xs + j, z, m);
        V_STORE(xg + 2 * xs + j, nn, m);
    }
}
static TGT void RK_CELL(rk_gru_forward)(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *rg,
                                        ptrdiff_t rs, const float *bhh, ptrdiff_t bs, const float *hprev, float *cand,
                                        float *h, int act, int gate) {
    RK_STANDARD_OR(RK_CELL(rk_gru_forward_body), act, gate, n, xg, xs, bih, rg, rs, bhh, bs, hprev, cand, h);
}

/* Classic GRU, first phase: r, z = gate((xg + b_ih) + (rg + b_hh)) for gates r, z; xg receives
 * them; rh = r·hprev·mask (mask nullable). */
RK_BODY void RK_CELL(rk_gru_reset_forward_body)(size_t n, float *xg, ptrdiff_t xs, const float *bih,
                                                const float *rg, ptrdiff_t rs, const float *bhh, ptrdiff_t bs,
                                                const float *hprev, const float *mask, float *rh, int act, int gate) {
    (void)act;
    V_LOOP for (size_t j = 0; j < n; j += VW) {
        const size_t m = n - j < VW ? n - j : VW;
        VEC ar = RK_CELL(rk_cell_pre)(m, xg + j, bih ? bih + j : 0, rg + j);
        VEC az = RK_CELL(rk_cell_pre)(m, xg + xs + j, bih ? bih + bs + j : 0, rg + rs + j);
        if (bhh) {
            ar = V_ADD(ar, V_LOAD(bhh + j, m));
            az = V_ADD(az, V_LOAD(bhh + bs + j, m));
        }
        const VEC r = RK_CELL(rk_act)(gate, ar), z = RK_CELL(rk_act)(gate, az);
        VEC hv = V_LOAD(hprev + j, m);
        if (mask) hv = V_MUL(hv, V_LOAD(mask + j, m));
        V_STORE(xg + j, r, m);
        V_STORE(xg + xs + j, z, m);
        V_STORE(rh + j, V_MUL(r, hv), m);
    }
}
static TGT void RK_CELL(rk_gru_reset_forward)(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *rg,
                                              ptrdiff_t rs, const float *bhh, ptrdiff_t bs, const float *hprev,
                                              const float *mask, float *rh, int gate) {
    RK_STANDARD_OR(RK_CELL(rk_gru_reset_forward_body), RK_ACT_TANH, gate, n, xg, xs, bih, rg, rs, bhh, bs, hprev,
                   mask, rh);
}

/* Classic GRU, second phase: n = act((xg_n + b_in) + (q + b_hn)) with q = (r ⊙ h)·W_hnᵀ;
 * h = (1 − z)·n + z·hprev with z from xg (the first phase's); xg_n receives n. */
RK_BODY void RK_CELL(rk_gru_candidate_forward_body)(size_t n, float *xg, ptrdiff_t xs, const float *bih,
                                                    const float *q, const float *bhh, ptrdiff_t bs,
                                                    const float *hprev, float *h, int act, int gate) {
    (void)gate;
    V_LOOP for (size_t j = 0; j < n; j += VW) {
        const size_t m = n - j < VW ? n - j : VW;
        VEC a = RK_CELL(rk_cell_pre)(m, xg + 2 * xs + j, bih ? bih + 2 * bs + j : 0, q + j);
        if (bhh) a = V_ADD(a, V_LOAD(bhh + 2 * bs + j, m));
        const VEC nn = RK_CELL(rk_act)(act, a), z = V_LOAD(xg + xs + j, m);
        V_STORE(xg + 2 * xs + j, nn, m);
        V_STORE(h + j, V_ADD(V_MUL(V_SUB(V_SET1(1.0f), z), nn), V_MUL(z, V_LOAD(hprev + j, m))), m);
    }
}
static TGT void RK_CELL(rk_gru_candidate_forward)(size_t n, float *xg, ptrdiff_t xs, const float *bih,
                                                  const float *q, const float *bhh, ptrdiff_t bs,
                                                  const float *hprev, float *h, int act) {
    RK_STANDARD_OR(RK_CELL(rk_gru_candidate_forward_body), act, RK_ACT_SIGMOID, n, xg, xs, bih, q, bhh, bs, hprev, h);
}

/* h = act((xp + bias) + rp); xp receives h too. */
RK_BODY void RK_CELL(rk_rnn_forward_body)(size_t n, float *xp, const float *bias, const float *rp, float *h,
                                          int act, int gate) {
    (void)gate;
    V_LOOP for (size_t j = 0; j < n; j += VW) {
        const size_t m = n - j < VW ? n - j : VW;
        const VEC y = RK_CELL(rk_act)(act, RK_CELL(rk_cell_pre)(m, xp + j, bias ? bias + j : 0, rp + j));
        V_STORE(xp + j, y, m);
        V_STORE(h + j, y, m);
    }
}
static TGT void RK_CELL(rk_rnn_forward)(size_t n, float *xp, const float *bias, const float *rp, float *h, int act) {
    RK_STANDARD_OR(RK_CELL(rk_rnn_forward_body), act, RK_ACT_SIGMOID, n, xp, bias, rp, h);
}

RK_BODY void RK_CELL(rk_lstm_backward_body)(size_t n, const float *gates, ptrdiff_t gs, const float *cprev,
                                            const float *tanhc, const float *dh, float *dc, float *da, ptrdiff_t das,
                                            int act, int gate) {
    const float *gi = gates, *gf = gates + gs, *gg = gates + 2 * gs, *go = gates + 3 * gs;
    float *di = da, *df = da + das, *dg = da + 2 * das, *dO = da + 3 * das;
    for (size_t j = 0; j < n; j++) {
        const float i = gi[j], f = gf[j], g = gg[j], o = go[j], tc = tanhc[j], d = dh[j];
        const float total = dc[j] + d * o * rk_act_grad1(act, tc);
        di[j] = total * g * rk_act_grad1(gate, i);
        df[j] = total * cprev[j] * rk_act_grad1(gate, f);
        dg[j] = total * i * rk_act_grad1(act, g);
        dO[j] = d * tc * rk_act_grad1(gate, o);
        dc[j] = total * f;
    }
}
static TGT void RK_CELL(rk_lstm_backward)(size_t n, const float *gates, ptrdiff_t gs, const float *cprev,
                                          const float *tanhc, const float *dh, float *dc, float *da, ptrdiff_t das,
                                          int act, int gate) {
    RK_STANDARD_OR(RK_CELL(rk_lstm_backward_body), act, gate, n, gates, gs, cprev, tanhc, dh, dc, da, das);
}

RK_BODY void RK_CELL(rk_gru_backward_body)(size_t n, const float *gates, ptrdiff_t gs, const float *hprev,
                                           const float *cand, const float *dh, float *direct, float *di,
                                           ptrdiff_t dis, float *dr, ptrdiff_t drs, int act, int gate) {
    const float *gr = gates, *gz = gates + gs, *gn = gates + 2 * gs;
    for (size_t j = 0; j < n; j++) {
        const float r = gr[j], z = gz[j], nn = gn[j], d = dh[j];
        const float dn = d * (1.0f - z) * rk_act_grad1(act, nn);
        const float dz = d * (hprev[j] - nn) * rk_act_grad1(gate, z);
        const float dreset = dn * cand[j] * rk_act_grad1(gate, r);
        di[j] = dreset;
        di[dis + j] = dz;
        di[2 * dis + j] = dn;
        dr[j] = dreset;
        dr[drs + j] = dz;
        dr[2 * drs + j] = dn * r;
        direct[j] = d * z;
    }
}
static TGT void RK_CELL(rk_gru_backward)(size_t n, const float *gates, ptrdiff_t gs, const float *hprev,
                                         const float *cand, const float *dh, float *direct, float *di, ptrdiff_t dis,
                                         float *dr, ptrdiff_t drs, int act, int gate) {
    RK_STANDARD_OR(RK_CELL(rk_gru_backward_body), act, gate, n, gates, gs, hprev, cand, dh, direct, di, dis, dr, drs);
}

/* Classic GRU, first backward phase: da_z, da_n from dh; direct = dh·z (may be dh). */
RK_BODY void RK_CELL(rk_gru_candidate_backward_body)(size_t n, const float *gates, ptrdiff_t gs, const float *hprev,
                                                     const float *dh, float *direct, float *da, ptrdiff_t das,
                                                     int act, int gate) {
    const float *gz = gates + gs, *gn = gates + 2 * gs;
    for (size_t j = 0; j < n; j++) {
        const float z = gz[j], nn = gn[j], d = dh[j];
        da[das + j] = d * (hprev[j] - nn) * rk_act_grad1(gate, z);
        da[2 * das + j] = d * (1.0f - z) * rk_act_grad1(act, nn);
        direct[j] = d * z;
    }
}
static TGT void RK_CELL(rk_gru_candidate_backward)(size_t n, const float *gates, ptrdiff_t gs, const float *hprev,
                                                   const float *dh, float *direct, float *da, ptrdiff_t das,
                                                   int act, int gate) {
    RK_STANDARD_OR(RK_CELL(rk_gru_candidate_backward_body), act, gate, n, gates, gs, hprev, dh, direct, da, das);
}

/* Classic GRU, second backward phase, from drh = da_n·W_hn (the gradient of r ⊙ h·mask):
 * da_r = drh·hprev·mask·gate'(r); dh += drh·r·mask (mask nullable). */
RK_BODY void RK_CELL(rk_gru_reset_backward_body)(size_t n, const float *gates, const float *hprev, const float *mask,
                                                 const float *drh, float *dh, float *da, int act, int gate) {
    (void)act;
    for (size_t j = 0; j < n; j++) {
        const float r = gates[j], m = mask ? mask[j] : 1.0f, d = drh[j] * m;
        da[j] = d * hprev[j] * rk_act_grad1(gate, r);
        dh[j] += d * r;
    }
}
static TGT void RK_CELL(rk_gru_reset_backward)(size_t n, const float *gates, const float *hprev, const float *mask,
                                               const float *drh, float *dh, float *da, int gate) {
    RK_STANDARD_OR(RK_CELL(rk_gru_reset_backward_body), RK_ACT_TANH, gate, n, gates, hprev, mask, drh, dh, da);
}

RK_BODY void RK_CELL(rk_rnn_backward_body)(size_t n, const float *y, const float *dh, float *da, int act, int gate) {
    (void)gate;
    for (size_t j = 0; j < n; j++) da[j] = dh[j] * rk_act_grad1(act, y[j]);
}
static TGT void RK_CELL(rk_rnn_backward)(size_t n, const float *y, const float *dh, float *da, int act) {
    RK_STANDARD_OR(RK_CELL(rk_rnn_backward_body), act, RK_ACT_SIGMOID, n, y, dh, da);
}

#undef RK_STANDARD_OR
#undef RK_BODY
#undef VEC
#undef VW
#undef TGT
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_MIN
#undef V_MAX
#undef V_SIGMOID
#undef V_TANH
#undef V_RELU
#undef RK_CELL
#undef V_LOOP
