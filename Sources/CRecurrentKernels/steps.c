/* Per-part progress counters of a stepped loop, one cache line each (see rk_steps.h). */
#include "CRecurrentKernels.h"

#include <stdatomic.h>
#include <stdlib.h>

enum { LINE = 64 };

typedef struct {
    _Alignas(LINE) atomic_long value;
} line_counter;

struct rk_step_lines {
    int parts;
    line_counter *claimed;
    line_counter *done;
};

rk_step_lines *rk_step_lines_create(int parts) {
    rk_step_lines *lines = malloc(sizeof *lines);
    if (!lines) return NULL;
    lines->parts = parts;
    lines->claimed = aligned_alloc(LINE, (size_t)parts * sizeof(line_counter));
    lines->done = aligned_alloc(LINE, (size_t)parts * sizeof(line_counter));
    if (!lines->claimed || !lines->done) {
        rk_step_lines_destroy(lines);
        return NULL;
    }
    for (int p = 0; p < parts; p++) {
        atomic_init(&lines->claimed[p].value, 0);
        atomic_init(&lines->done[p].value, 0);
    }
    return lines;
}

void rk_step_lines_destroy(rk_step_lines *lines) {
    if (!lines) return;
    free(lines->claimed);
    free(lines->done);
    free(lines);
}

int rk_step_claim(rk_step_lines *lines, int part, long step) {
    long expected = step;
    return atomic_compare_exchange_strong_explicit(&lines->claimed[part].value, &expected, step + 1,
                                                   memory_order_acq_rel, memory_order_relaxed);
}

long rk_step_claimed(const rk_step_lines *lines, int part) {
    return atomic_load_explicit(&lines->claimed[part].value, memory_order_relaxed);
}

void rk_step_finish(rk_step_lines *lines, int part, long steps) {
    atomic_store_explicit(&lines->done[part].value, steps, memory_order_release);
}

long rk_step_done(const rk_step_lines *lines, int part) {
    return atomic_load_explicit(&lines->done[part].value, memory_order_acquire);
}
