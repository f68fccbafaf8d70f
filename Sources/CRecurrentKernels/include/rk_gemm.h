#ifndef RK_GEMM_H
#define RK_GEMM_H
/* GEMM micro-kernels: declarations added by the GEMM work. */
#endif
