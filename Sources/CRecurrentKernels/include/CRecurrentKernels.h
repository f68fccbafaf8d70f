#ifndef C_RECURRENT_KERNELS_H
#define C_RECURRENT_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction sets the kernels are compiled for. Each kernel has one variant per ISA,
/// compiled with __attribute__((target(...))), and dispatches on rk_active_isa().
typedef enum {
    RK_ISA_PORTABLE = 0,
    RK_ISA_AVX2 = 1,   /* AVX2 + FMA */
    RK_ISA_AVX512 = 2, /* AVX-512F + FMA */
    RK_ISA_NEON = 3
} rk_isa;

/// Whether the running CPU can execute kernels compiled for `isa`.
int rk_isa_supported(rk_isa isa);
/// The best ISA the running CPU supports.
rk_isa rk_best_isa(void);
/// The ISA the kernels use now (the best one unless rk_set_isa chose another).
rk_isa rk_active_isa(void);
/// Forces the kernels onto `isa`. Returns 0 on success, -1 when the CPU does not support it.
int rk_set_isa(rk_isa isa);

/// The sum of w[0..<n] read with the widest loads of the active ISA (recurrent-bench floor:
/// the time to stream a weight matrix from cache, without any kernel of ours).
float rk_floor_stream(const float *w, size_t n);
/// `iterations` rounds of independent multiply-adds on the widest vectors of the active ISA
/// (enough chains to fill every FMA port); sets *flops to the floating-point operations done and
/// returns a value that depends on all of them.
double rk_floor_fma(size_t iterations, size_t *flops);

#ifdef __cplusplus
}
#endif

#include "rk_gemm.h"
#include "rk_pointwise.h"

#endif
