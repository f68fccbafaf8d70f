#ifndef RK_STEPS_H
#define RK_STEPS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The progress of one stepped loop (`GEMMThreads.runSteps`): for every part, how many of its
/// steps have been claimed and how many are done. Each counter has a cache line of its own,
/// so a thread's claim of its own part stays in its core's cache and a step's hand-over
/// between cores costs one line transfer per part.
typedef struct rk_step_lines rk_step_lines;

/// Counters for `parts` parts, all zero; NULL when memory is exhausted.
rk_step_lines *rk_step_lines_create(int parts);
void rk_step_lines_destroy(rk_step_lines *lines);

/// Claims step `step` of `part`; 1 when this caller got it, 0 when another thread has it
/// (the part's steps are claimed in order).
int rk_step_claim(rk_step_lines *lines, int part, long step);
/// Steps of `part` claimed so far (relaxed read).
long rk_step_claimed(const rk_step_lines *lines, int part);
/// Marks `steps` steps of `part` done (release).
void rk_step_finish(rk_step_lines *lines, int part, long steps);
/// Steps of `part` done so far (acquire).
long rk_step_done(const rk_step_lines *lines, int part);

#ifdef __cplusplus
}
#endif
#endif
