// A small C face over MPI for Swift: Open MPI's MPI_COMM_WORLD, MPI_FLOAT and MPI_SUM are cast
// macros that Swift cannot import, so these functions name them. Each returns MPI's error code.
#ifndef RK_MPI_H
#define RK_MPI_H

#include <stddef.h>

/// MPI_Init_thread asking for MPI_THREAD_MULTIPLE (reductions run on a background thread).
int rk_mpi_init(void);
/// Whether the library granted MPI_THREAD_MULTIPLE.
int rk_mpi_thread_multiple(void);
int rk_mpi_finalize(void);
int rk_mpi_initialized(void);
int rk_mpi_rank(void);
int rk_mpi_size(void);
/// In place: every rank's `buffer` becomes the element-wise sum over ranks.
int rk_mpi_allreduce_sum(float *buffer, size_t count);
/// In place: every rank's `buffer` becomes rank `root`'s.
int rk_mpi_broadcast(float *buffer, size_t count, int root);
int rk_mpi_broadcast_bytes(unsigned char *buffer, size_t count, int root);
/// Ends every rank of the job (after printing nothing: the caller prints first).
void rk_mpi_abort(int code);
double rk_mpi_wtime(void);

#endif
