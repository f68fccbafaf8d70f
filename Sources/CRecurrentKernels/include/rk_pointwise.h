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

#ifdef __cplusplus
}
#endif

#endif
