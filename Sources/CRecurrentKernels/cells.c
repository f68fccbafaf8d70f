/* The fused cell kernels of cell_kernels.h, instantiated per ISA over that ISA's vectors, and
 * the public entry points (rk_pointwise.h), which dispatch on rk_active_isa(). */
#include "simd_math.h"

/* ---- Portable C: one float at a time; the loops vectorise for the baseline ISA ---- */
#define VEC float
#define VW 1
#define TGT
#define V_LOAD(p, m) ((void)(m), *(p))
#define V_STORE(p, v, m) ((void)(m), *(p) = (v))
#define V_SET1(x) (x)
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_MIN(a, b) ((a) < (b) ? (a) : (b))
#define V_MAX(a, b) ((a) > (b) ? (a) : (b))
#define V_SIGMOID rk_sigmoid1
#define V_TANH rk_tanh1
#define V_RELU rk_relu1
#define RK_CELL(name) name##_portable
#if defined(__clang__)
#define V_LOOP _Pragma("clang loop vectorize(enable)")
#else
#define V_LOOP
#endif
#include "cell_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
/* ---- AVX-512: masked loads and stores for the tail; the cell forms of σ and tanh ---- */
static inline RK_AVX512 __mmask16 rk_lanes16(size_t m) {
    return m >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (unsigned)m) - 1u);
}
#define VEC __m512
#define VW 16
#define TGT RK_AVX512
#define V_LOAD(p, m) _mm512_maskz_loadu_ps(rk_lanes16(m), (p))
#define V_STORE(p, v, m) _mm512_mask_storeu_ps((p), rk_lanes16(m), (v))
#define V_SET1 _mm512_set1_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_MIN _mm512_min_ps
#define V_MAX _mm512_max_ps
#define V_SIGMOID rk_sigmoid_cell_v16
#define V_TANH rk_tanh_cell_v16
#define V_RELU rk_relu_v16
#define RK_CELL(name) name##_avx512
#define V_LOOP
#include "cell_kernels.h"

/* ---- AVX2: full vectors load and store directly, the tail through a lane mask ---- */
static inline RK_AVX2 __m256i rk_lanes8(size_t m) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline RK_AVX2 __m256 rk_load8(const float *p, size_t m) {
    return m >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, rk_lanes8(m));
}
static inline RK_AVX2 void rk_store8(float *p, __m256 v, size_t m) {
    if (m >= 8) _mm256_storeu_ps(p, v); else _mm256_maskstore_ps(p, rk_lanes8(m), v);
}
#define VEC __m256
#define VW 8
#define TGT RK_AVX2
#define V_LOAD rk_load8
#define V_STORE rk_store8
#define V_SET1 _mm256_set1_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_MIN _mm256_min_ps
#define V_MAX _mm256_max_ps
#define V_SIGMOID rk_sigmoid_v8
#define V_TANH rk_tanh_v8
#define V_RELU rk_relu_v8
#define RK_CELL(name) name##_avx2
#define V_LOOP
#include "cell_kernels.h"
#endif /* x86 */

#if defined(__aarch64__)
/* ---- NEON: the tail through a zeroed stack buffer ---- */
static inline float32x4_t rk_load4(const float *p, size_t m) {
    if (m >= 4) return vld1q_f32(p);
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t j = 0; j < m; j++) t[j] = p[j];
    return vld1q_f32(t);
}
static inline void rk_store4(float *p, float32x4_t v, size_t m) {
    if (m >= 4) { vst1q_f32(p, v); return; }
    float t[4];
    vst1q_f32(t, v);
    for (size_t j = 0; j < m; j++) p[j] = t[j];
}
#define VEC float32x4_t
#define VW 4
#define TGT
#define V_LOAD rk_load4
#define V_STORE rk_store4
#define V_SET1 vdupq_n_f32
#define V_ADD vaddq_f32
#define V_SUB vsubq_f32
#define V_MUL vmulq_f32
#define V_DIV vdivq_f32
#define V_MIN vminq_f32
#define V_MAX vmaxq_f32
#define V_SIGMOID rk_sigmoid_v4
#define V_TANH rk_tanh_v4
#define V_RELU rk_relu_v4
#define RK_CELL(name) name##_neon
#define V_LOOP
#include "cell_kernels.h"
#endif /* aarch64 */

/* ---- Dispatch ---- */
#if defined(__x86_64__) || defined(__i386__)
#define RK_CELL_X86(call)                                                                          \
    case RK_ISA_AVX512: call(avx512); return;                                                     \
    case RK_ISA_AVX2: call(avx2); return;
#else
#define RK_CELL_X86(call)
#endif
#if defined(__aarch64__)
#define RK_CELL_NEON(call) case RK_ISA_NEON: call(neon); return;
#else
#define RK_CELL_NEON(call)
#endif
#define RK_CELL_DISPATCH(call)                                                                     \
    switch (rk_active_isa()) {                                                                     \
        RK_CELL_X86(call)                                                                          \
        RK_CELL_NEON(call)                                                                         \
    default: call(portable); return;                                                               \
    }

void rk_lstm_forward(size_t n, float *xg, ptrdiff_t xs, const float *bias, const float *rg, ptrdiff_t rs, float *c,
                     float *cprev, float *tanhc, float *h, int save, int act, int gate) {
#define CALL(isa) rk_lstm_forward_##isa(n, xg, xs, bias, rg, rs, c, cprev, tanhc, h, save, act, gate)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_gru_forward(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *rg, ptrdiff_t rs,
                    const float *bhh, ptrdiff_t bs, const float *hprev, float *cand, float *h, int act, int gate) {
#define CALL(isa) rk_gru_forward_##isa(n, xg, xs, bih, rg, rs, bhh, bs, hprev, cand, h, act, gate)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_gru_reset_forward(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *rg, ptrdiff_t rs,
                          const float *bhh, ptrdiff_t bs, const float *hprev, const float *mask, float *rh, int gate) {
#define CALL(isa) rk_gru_reset_forward_##isa(n, xg, xs, bih, rg, rs, bhh, bs, hprev, mask, rh, gate)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_gru_candidate_forward(size_t n, float *xg, ptrdiff_t xs, const float *bih, const float *q, const float *bhh,
                              ptrdiff_t bs, const float *hprev, float *h, int act) {
#define CALL(isa) rk_gru_candidate_forward_##isa(n, xg, xs, bih, q, bhh, bs, hprev, h, act)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_rnn_forward(size_t n, float *xp, const float *bias, const float *rp, float *h, int act) {
#define CALL(isa) rk_rnn_forward_##isa(n, xp, bias, rp, h, act)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_lstm_backward(size_t n, const float *gates, ptrdiff_t gs, const float *cprev, const float *tanhc,
                      const float *dh, float *dc, float *da, ptrdiff_t das, int act, int gate) {
#define CALL(isa) rk_lstm_backward_##isa(n, gates, gs, cprev, tanhc, dh, dc, da, das, act, gate)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_gru_backward(size_t n, const float *gates, ptrdiff_t gs, const float *hprev, const float *cand,
                     const float *dh, float *direct, float *di, ptrdiff_t dis, float *dr, ptrdiff_t drs, int act,
                     int gate) {
#define CALL(isa) rk_gru_backward_##isa(n, gates, gs, hprev, cand, dh, direct, di, dis, dr, drs, act, gate)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_gru_candidate_backward(size_t n, const float *gates, ptrdiff_t gs, const float *hprev, const float *dh,
                               float *direct, float *da, ptrdiff_t das, int act, int gate) {
#define CALL(isa) rk_gru_candidate_backward_##isa(n, gates, gs, hprev, dh, direct, da, das, act, gate)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_gru_reset_backward(size_t n, const float *gates, const float *hprev, const float *mask, const float *drh,
                           float *dh, float *da, int gate) {
#define CALL(isa) rk_gru_reset_backward_##isa(n, gates, hprev, mask, drh, dh, da, gate)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}

void rk_rnn_backward(size_t n, const float *y, const float *dh, float *da, int act) {
#define CALL(isa) rk_rnn_backward_##isa(n, y, dh, da, act)
    RK_CELL_DISPATCH(CALL)
#undef CALL
}
