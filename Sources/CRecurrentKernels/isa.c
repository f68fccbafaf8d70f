#include "CRecurrentKernels.h"

static int active_isa = -1;

int rk_isa_supported(rk_isa isa) {
    switch (isa) {
    case RK_ISA_PORTABLE:
        return 1;
#if defined(__x86_64__) || defined(__i386__)
    case RK_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case RK_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case RK_ISA_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

rk_isa rk_best_isa(void) {
    if (rk_isa_supported(RK_ISA_AVX512)) return RK_ISA_AVX512;
    if (rk_isa_supported(RK_ISA_AVX2)) return RK_ISA_AVX2;
    if (rk_isa_supported(RK_ISA_NEON)) return RK_ISA_NEON;
    return RK_ISA_PORTABLE;
}

rk_isa rk_active_isa(void) {
    int isa = __atomic_load_n(&active_isa, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = (int)rk_best_isa();
        __atomic_store_n(&active_isa, isa, __ATOMIC_RELAXED);
    }
    return (rk_isa)isa;
}

int rk_set_isa(rk_isa isa) {
    if (!rk_isa_supported(isa)) return -1;
    __atomic_store_n(&active_isa, (int)isa, __ATOMIC_RELAXED);
    return 0;
}
