#ifndef RK_POINTWISE_H
#define RK_POINTWISE_H
/* Fused pointwise nonlinearities: declarations added by the pointwise work. */
#endif
