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

#ifdef __cplusplus
}
#endif

#include "rk_gemm.h"
#include "rk_pointwise.h"

#endif
