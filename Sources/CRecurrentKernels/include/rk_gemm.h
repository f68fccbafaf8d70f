#ifndef RK_GEMM_H
#define RK_GEMM_H
/*
 * SGEMM / SGEMV kernels (row-major). The Swift driver (Sources/Recurrent/Kernels/GEMM.swift)
 * does the cache blocking, packing and threading; these functions do the arithmetic.
 *
 * Packed layouts (all indices row-major, "mr" and "nr" are rk_gemm_mr / rk_gemm_nr of the ISA):
 *   A block (m x kc): micro-panels of mr rows; panel r starts at float offset r*mr*kc and holds
 *     rows i0 = r*mr ..< i0 + rm, rm = min(mr, m - i0), as kc groups of rm floats:
 *     element (i0 + i, p) is at r*mr*kc + p*rm + i. (The last panel is packed tight, not padded.)
 *   B block (kc x n): micro-panels of nr columns; panel q starts at q*b_panel_stride and holds
 *     columns q*nr ..< q*nr + nr as kc rows of nr floats: element (p, q*nr + j) is at
 *     q*b_panel_stride + p*nr + j. Columns past n must be finite (zero). Panels 64-byte aligned
 *     for speed (not for correctness).
 */
#include "CRecurrentKernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Rows of the micro-kernel's register tile for `isa`.
int rk_gemm_mr(rk_isa isa);
/// Columns of the micro-kernel's register tile for `isa`.
int rk_gemm_nr(rk_isa isa);

/// C[0..<m, 0..<n] = alpha * Ap * Bp + beta * C over one packed A block (m x kc) and one packed
/// B block (kc x n). When beta == 0, C is not read. kc >= 1. `isa` must be supported and be the
/// ISA the blocks were packed for (mr / nr).
void rk_sgemm_packed(rk_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t kc, float alpha,
                     const float *ap, const float *bp, ptrdiff_t b_panel_stride,
                     float beta, float *c, ptrdiff_t ldc);

/// y[j] = alpha * sum_p x[p] * B[p*ldb + j] + beta * y[j],  j < n, p < k  (x·B, B is k x n).
/// When beta == 0, y is not read.
void rk_sgemv_n(rk_isa isa, ptrdiff_t k, ptrdiff_t n, float alpha, const float *x,
                const float *b, ptrdiff_t ldb, float beta, float *y);

/// y[j] = alpha * sum_p B[j*ldb + p] * x[p] + beta * y[j],  j < n, p < k  (B·x, B is n x k).
/// When beta == 0, y is not read.
void rk_sgemv_t(rk_isa isa, ptrdiff_t n, ptrdiff_t k, float alpha, const float *b, ptrdiff_t ldb,
                const float *x, float beta, float *y);

/// y[0..<n] = alpha * x·B + beta * y with B (k x n) packed as a whole matrix: k blocks of depth
/// kc (the last may be shorter), block p0 holding its panels of nr columns, each depth x nr, one
/// after another (Recurrent's PackedMatrix layout). When beta == 0, y is not read.
void rk_sgemv_packed(rk_isa isa, ptrdiff_t k, ptrdiff_t n, ptrdiff_t kc, ptrdiff_t nr, const float *x,
                     const float *b, float alpha, float beta, float *y);

/// Packs the mc x kc block of op(A) at `a` into the A block layout with panels of `mr` rows:
/// op(A)(i, p) = a[i*lda + p], or a[p*lda + i] when `transposed`. Reads nothing outside the block.
void rk_pack_a(rk_isa isa, int transposed, const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc,
               ptrdiff_t mr, float *dst);

/// Packs the kc x nc block of op(B) at `b` into the B block layout with panels of `nr` columns,
/// `kc * nr` floats apart, zero past nc: op(B)(p, j) = b[p*ldb + j], or b[j*ldb + p] when
/// `transposed`. Reads nothing outside the block.
void rk_pack_b(rk_isa isa, int transposed, const float *b, ptrdiff_t ldb, ptrdiff_t kc, ptrdiff_t nc,
               ptrdiff_t nr, float *dst);

/// A spin-wait hint for the GEMM helper threads (x86 `pause`, arm64 `yield`).
void rk_spin_pause(void);

#ifdef __cplusplus
}
#endif
#endif
