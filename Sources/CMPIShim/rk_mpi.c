#include "rk_mpi.h"

// Without the MPI trait SwiftPM still compiles this target, without MPI's headers: it is empty then.
#if __has_include(<mpi.h>)
#include <limits.h>
#include <mpi.h>

static int provided = MPI_THREAD_SINGLE;

int rk_mpi_init(void) {
    int done = 0;
    MPI_Initialized(&done);
    if (done) {
        MPI_Query_thread(&provided);
        return MPI_SUCCESS;
    }
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided);
}

int rk_mpi_thread_multiple(void) { return provided == MPI_THREAD_MULTIPLE; }

int rk_mpi_finalize(void) {
    int done = 0;
    MPI_Finalized(&done);
    return done ? MPI_SUCCESS : MPI_Finalize();
}

int rk_mpi_initialized(void) {
    int done = 0;
    MPI_Initialized(&done);
    return done;
}

int rk_mpi_rank(void) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

int rk_mpi_size(void) {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

// MPI counts are ints: larger buffers go in pieces.
static const size_t piece = INT_MAX / 2;

int rk_mpi_allreduce_sum(float *buffer, size_t count) {
    for (size_t start = 0; start < count; start += piece) {
        size_t n = count - start < piece ? count - start : piece;
        int status = MPI_Allreduce(MPI_IN_PLACE, buffer + start, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (status != MPI_SUCCESS) return status;
    }
    return MPI_SUCCESS;
}

int rk_mpi_broadcast(float *buffer, size_t count, int root) {
    for (size_t start = 0; start < count; start += piece) {
        size_t n = count - start < piece ? count - start : piece;
        int status = MPI_Bcast(buffer + start, (int)n, MPI_FLOAT, root, MPI_COMM_WORLD);
        if (status != MPI_SUCCESS) return status;
    }
    return MPI_SUCCESS;
}

int rk_mpi_broadcast_bytes(unsigned char *buffer, size_t count, int root) {
    for (size_t start = 0; start < count; start += piece) {
        size_t n = count - start < piece ? count - start : piece;
        int status = MPI_Bcast(buffer + start, (int)n, MPI_BYTE, root, MPI_COMM_WORLD);
        if (status != MPI_SUCCESS) return status;
    }
    return MPI_SUCCESS;
}

void rk_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

double rk_mpi_wtime(void) { return MPI_Wtime(); }

#endif
