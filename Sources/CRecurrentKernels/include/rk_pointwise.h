#ifndef RK_POINTWISE_H
#define RK_POINTWISE_H
/* Pointwise nonlinearities over contiguous float buffers.
 *
 * y[i] = f(x[i]) for i in [0, n). `x` and `y` may be the same buffer (in-place), but must
 * not partially overlap. Each function dispatches on rk_active_isa() to an AVX-512, AVX2,
 * NEON or portable variant; all variants use the same algorithm and agree to a few ulp.
 *
 * Accuracy (measured against double precision, see PointwiseTests): relative error below
 * ~2e-7 wherever the result is a normal float. Limits: exp(-inf) = 0, exp(+inf) = +inf,
 * sigmoid(-inf) = 0, sigmoid(+inf) = 1, tanh(±inf) = ±1; NaN in gives NaN out.
 */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// y = 1 / (1 + exp(-x)), accurate for negative x down to the subnormal range.
void rk_sigmoid(const float *x, float *y, size_t n);
/// y = tanh(x); odd polynomial near zero (tanh(x) ≈ x stays relatively accurate).
void rk_tanh(const float *x, float *y, size_t n);
/// y = max(x, 0); NaN propagates, -0 gives +0.
void rk_relu(const float *x, float *y, size_t n);
/// y = exp(x); Cody–Waite range reduction, degree-6 polynomial, 2^n from exponent bits.
void rk_exp(const float *x, float *y, size_t n);


/* The activations a fused cell can apply, by code: `act` is the candidate's (and the cell
 * state's, for LSTM; SimpleRNN's only one), `gate` the gates'. Keras's defaults are tanh and
 * sigmoid; hard sigmoid is Keras 3's min(max(x + 3, 0), 6) / 6. */
typedef enum {
    RK_ACT_TANH = 0,
    RK_ACT_SIGMOID = 1,
    RK_ACT_RELU = 2,
    RK_ACT_LINEAR = 3,
    RK_ACT_HARD_SIGMOID = 4,
} rk_activation;

/* Fused recurrent cells: one row of one time step over n hidden units (the fused sequence ops
 * of Sources/Recurrent/RecurrentLayers call these per batch row and per slice of hidden units).
 * Gate k of a gate vector starts at k * stride. The equations below name the standard
 * activations (σ for the gates, tanh for the candidate and cell state); the codes `act` and
 * `gate` (rk_activation) choose others, and σ and tanh are rk_sigmoid's and rk_tanh's.
 * Pointers marked "nullable" may be NULL to skip that output. */

/// LSTM (gates i, f, g, o): a = (xg + bias) + rg; i, f, o = σ(a); g = tanh(a); c = f·c + i·g;
/// h = o·tanh(c). xg holds the input side x·W_ihᵀ, bias (nullable) is laid out like xg; with
/// `save`, xg receives the activated gates. c is read (c_{t−1}) and written (c_t); cprev
/// (nullable) receives c_{t−1}, tanhc (nullable) tanh(c_t).
void rk_lstm_forward(size_t n, float *xg, ptrdiff_t xs, const float *bias, const float *rg, ptrdiff_t rs,
                     float *c, float *cprev, float *tanhc, float *h, int save, int act, int gate);
/// LSTM gate gradients: from the activated gates, c_{t−1}, tanh(c_t), dh and dc (in: gradient
/// of c_t; out: gradient of c_{t−1}), writes da (pre-activation gradients, gate k at k * das).
void rk_lstm_backward(size_t n, const float *gates, ptrdiff_t gs, const float *cprev, const float *tanhc,
                      const float *dh, float *dc, float *da, ptrdiff_t das, int act, int gate);
/// GRU with the reset after the product (gates r, z, n): r, z = σ((xg + b_ih) + (rg + b_hh)),
/// q = rg_n + b_hn, n = tanh((xg_n + b_in) + r·q), h = (1 − z)·n + z·hprev. bih and bhh
/// nullable (gate k at b + k * bs). xg receives the activated r, z, n; cand (nullable) q.
void rk_gru_forward(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *rg, ptrdiff_t rs,
                    const float *bhh, ptrdiff_t bs, const float *hprev, float *cand, float *h, int act, int gate);
/// GRU gate gradients (reset after): di = gradients of the input-side pre-activations (r, z, n),
/// dr = gradients of the recurrent products' outputs (r, z, n·r), direct = dh·z (direct may be dh
/// itself: each element is read before it is written).
void rk_gru_backward(size_t n, const float *gates, ptrdiff_t gs, const float *hprev, const float *cand,
                     const float *dh, float *direct, float *di, ptrdiff_t dis, float *dr, ptrdiff_t drs, int act,
                     int gate);
/// Classic GRU (the reset before the product), first phase: r, z = σ((xg + b_ih) + (rg + b_hh))
/// (rg holds gates r and z of h·W_hhᵀ), written into xg; rh = r·hprev·mask, the operand of the
/// candidate's product (mask nullable: Keras's recurrent dropout mask of gate n).
void rk_gru_reset_forward(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *rg, ptrdiff_t rs,
                          const float *bhh, ptrdiff_t bs, const float *hprev, const float *mask, float *rh, int gate);
/// Classic GRU, second phase: n = tanh((xg_n + b_in) + (q + b_hn)) with q = rh·W_hnᵀ, written
/// into xg's gate n; h = (1 − z)·n + z·hprev (z from xg's gate z).
void rk_gru_candidate_forward(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *q, const float *bhh,
                              ptrdiff_t bs, const float *hprev, float *h, int act);
/// Classic GRU backward, first phase: from the activated gates and dh, da_z and da_n (gates 1
/// and 2 of da) and direct = dh·z (direct may be dh).
void rk_gru_candidate_backward(size_t n, const float *gates, ptrdiff_t gs, const float *hprev, const float *dh,
                               float *direct, float *da, ptrdiff_t das, int act, int gate);
/// Classic GRU backward, second phase: from drh = da_n·W_hn, da_r = drh·hprev·mask·r(1 − r)
/// (gate 0 of da) and dh += drh·r·mask (mask nullable).
void rk_gru_reset_backward(size_t n, const float *gates, const float *hprev, const float *mask, const float *drh,
                           float *dh, float *da, int gate);
/// Simple RNN: h = act((xp + bias) + rp), bias nullable; xp
/// receives the activation too.
void rk_rnn_forward(size_t n, float *xp, const float *bias, const float *rp, float *h, int act);
/// Simple RNN: da = dh · act'(y) from the step's output y.
void rk_rnn_backward(size_t n, const float *y, const float *dh, float *da, int act);

/// One Adam step (no AMSGrad) over n elements, per element and in this order, each operation
/// rounded to float (no fused multiply-add): q = p·decay; d = g + l2·q; m = b1·m + (1 − b1)·d;
/// v = b2·v + ((1 − b2)·d)·d; p = q − (step·m) / (√v / c2 + eps).
void rk_adam_update(size_t n, float *p, const float *g, float *m, float *v, float decay, float l2,
                    float b1, float b2, float step, float c2, float eps);

#ifdef __cplusplus
}
#endif

#endif
