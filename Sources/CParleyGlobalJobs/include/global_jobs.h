#ifndef PARLEY_GLOBAL_JOBS_H
#define PARLEY_GLOBAL_JOBS_H

#include <stdbool.h>

/// Receives each job Swift would hand to its global executor (the cooperative pool).
typedef void (*parley_job_sink)(void *_Nonnull job);

/// Routes the jobs of Swift's global executor to `sink` from now on. False, and nothing changed, when another
/// component already installed a hook.
bool parley_route_global_jobs(parley_job_sink _Nonnull sink);

#endif
