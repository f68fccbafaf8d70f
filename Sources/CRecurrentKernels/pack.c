/* Packing of GEMM operands into the micro-kernels' layouts (see rk_gemm.h): a portable
 * variant, and an AVX-512 one that moves 16 floats at a time and transposes 16 x 16 blocks in
 * registers where the layout turns rows into columns (the scalar loops store one float at a
 * time with a stride, which showed up as 10-15 % of training profiles). */
#include "CRecurrentKernels.h"

/* ---- portable ---- */

static void pack_a_portable(int transposed, const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc,
                            ptrdiff_t mr, float *dst) {
    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
        const ptrdiff_t rm = mc - ir < mr ? mc - ir : mr;
        float *panel = dst + ir * kc;
        if (transposed) {
            /* Each p is rm contiguous floats. */
            for (ptrdiff_t p = 0; p < kc; p++)
                for (ptrdiff_t i = 0; i < rm; i++) panel[p * rm + i] = a[p * lda + ir + i];
        } else {
            /* Read each row once, write every rm-th float. */
            for (ptrdiff_t i = 0; i < rm; i++)
                for (ptrdiff_t p = 0; p < kc; p++) panel[p * rm + i] = a[(ir + i) * lda + p];
        }
    }
}

static void pack_b_portable(int transposed, const float *b, ptrdiff_t ldb, ptrdiff_t kc, ptrdiff_t nc,
                            ptrdiff_t nr, float *dst) {
    for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
        const ptrdiff_t cols = nc - jr < nr ? nc - jr : nr;
        float *panel = dst + (jr / nr) * kc * nr;
        if (transposed) {
            /* Read each stored row once, write every nr-th float. */
            for (ptrdiff_t j = 0; j < cols; j++)
                for (ptrdiff_t p = 0; p < kc; p++) panel[p * nr + j] = b[(jr + j) * ldb + p];
        } else {
            for (ptrdiff_t p = 0; p < kc; p++)
                for (ptrdiff_t j = 0; j < cols; j++) panel[p * nr + j] = b[p * ldb + jr + j];
        }
        for (ptrdiff_t p = 0; p < kc; p++)
            for (ptrdiff_t j = cols; j < nr; j++) panel[p * nr + j] = 0;
    }
}

/* ---- AVX-512 ---- */

#if defined(__x86_64__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))
#define INL static inline __attribute__((always_inline))

INL TGT __mmask16 first_lanes(ptrdiff_t n) {
    if (n >= 16) return (__mmask16)0xFFFF;
    if (n <= 0) return 0;
    return (__mmask16)((1u << n) - 1u);
}

/* In-register transpose: afterwards r[c] holds column c of the 16 x 16 block. */
INL TGT void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 16; i += 8)
        for (int k = 0; k < 4; k++) {
            t[i + k] = _mm512_shuffle_f32x4(r[i + k], r[i + k + 4], 0x88);
            t[i + k + 4] = _mm512_shuffle_f32x4(r[i + k], r[i + k + 4], 0xDD);
        }
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
        r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xDD);
    }
}

/* dst[p * dst_stride + i] = src[i * ld + p] for i < rows (<= 16), p < cols, storing the lanes of
 * `store` of each destination row: lanes i >= rows hold zeros (rows not loaded). */
INL TGT void transpose_rows(const float *src, ptrdiff_t ld, ptrdiff_t rows, ptrdiff_t cols, float *dst,
                            ptrdiff_t dst_stride, __mmask16 store) {
    for (ptrdiff_t p = 0; p < cols; p += 16) {
        const __mmask16 m = first_lanes(cols - p);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * ld + p) : _mm512_setzero_ps();
        transpose16(r);
        const ptrdiff_t n = cols - p < 16 ? cols - p : 16;
        for (ptrdiff_t q = 0; q < n; q++) _mm512_mask_storeu_ps(dst + (p + q) * dst_stride, store, r[q]);
    }
}

static TGT void pack_a_avx512(int transposed, const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc,
                              ptrdiff_t mr, float *dst) {
    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
        const ptrdiff_t rm = mc - ir < mr ? mc - ir : mr;
        const __mmask16 m = first_lanes(rm);
        float *panel = dst + ir * kc;
        if (transposed) {
            const float *src = a + ir;
            for (ptrdiff_t p = 0; p < kc; p++)
                _mm512_mask_storeu_ps(panel + p * rm, m, _mm512_maskz_loadu_ps(m, src + p * lda));
        } else if (rm == 1) {
            /* A single row (batch-1 steps) is its own panel. */
            const float *src = a + ir * lda;
            for (ptrdiff_t p = 0; p < kc; p += 16) {
                const __mmask16 mk = first_lanes(kc - p);
                _mm512_mask_storeu_ps(panel + p, mk, _mm512_maskz_loadu_ps(mk, src + p));
            }
        } else {
            transpose_rows(a + ir * lda, lda, rm, kc, panel, rm, m);
        }
    }
}

static TGT void pack_b_avx512(int transposed, const float *b, ptrdiff_t ldb, ptrdiff_t kc, ptrdiff_t nc,
                              float *dst) {
    enum { NR = 32 };
    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
        const ptrdiff_t cols = nc - jr < NR ? nc - jr : NR;
        float *panel = dst + (jr / NR) * kc * NR;
        if (transposed) {
            /* Columns past nc come out of the transpose as zeros (rows not loaded). */
            for (ptrdiff_t half = 0; half < NR; half += 16) {
                const ptrdiff_t rows = cols - half < 0 ? 0 : (cols - half < 16 ? cols - half : 16);
                transpose_rows(b + (jr + half) * ldb, ldb, rows, kc, panel + half, NR, (__mmask16)0xFFFF);
            }
        } else {
            const __mmask16 m0 = first_lanes(cols), m1 = first_lanes(cols - 16);
            const float *src = b + jr;
            for (ptrdiff_t p = 0; p < kc; p++) {
                _mm512_storeu_ps(panel + p * NR, _mm512_maskz_loadu_ps(m0, src + p * ldb));
                _mm512_storeu_ps(panel + p * NR + 16, _mm512_maskz_loadu_ps(m1, src + p * ldb + 16));
            }
        }
    }
}
#endif

void rk_pack_a(rk_isa isa, int transposed, const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc,
               ptrdiff_t mr, float *dst) {
#if defined(__x86_64__)
    if (isa == RK_ISA_AVX512 && mr <= 16) {
        pack_a_avx512(transposed, a, lda, mc, kc, mr, dst);
        return;
    }
#endif
    (void)isa;
    pack_a_portable(transposed, a, lda, mc, kc, mr, dst);
}

void rk_pack_b(rk_isa isa, int transposed, const float *b, ptrdiff_t ldb, ptrdiff_t kc, ptrdiff_t nc,
               ptrdiff_t nr, float *dst) {
#if defined(__x86_64__)
    if (isa == RK_ISA_AVX512 && nr == 32) {
        pack_b_avx512(transposed, b, ldb, kc, nc, dst);
        return;
    }
#endif
    (void)isa;
    pack_b_portable(transposed, b, ldb, kc, nc, nr, dst);
}
