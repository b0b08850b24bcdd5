#include "global_jobs.h"

#include <stdatomic.h>
#include <stddef.h>

// The Swift runtime's hook for its global executor (swift/Runtime/Concurrency.h): when set, every job enqueued on
// the global executor is passed to it, with the runtime's own enqueue as `original`. Declared here rather than
// looked up with dlsym so that it also links in a build with the Swift runtime linked statically, where the symbol
// is not exported from the executable.
typedef void (__attribute__((swiftcall)) *parley_original_enqueue)(void *job);
extern void (__attribute__((swiftcall)) *_Atomic swift_task_enqueueGlobal_hook)(void *job, parley_original_enqueue original);

static parley_job_sink _Atomic routed_sink;

static void __attribute__((swiftcall)) route_job(void *job, parley_original_enqueue original) {
    (void)original;
    atomic_load_explicit(&routed_sink, memory_order_relaxed)(job);
}

bool parley_route_global_jobs(parley_job_sink sink) {
    parley_job_sink none = NULL;
    if (!atomic_compare_exchange_strong(&routed_sink, &none, sink)) return false;
    void (__attribute__((swiftcall)) *unset)(void *, parley_original_enqueue) = NULL;
    if (!atomic_compare_exchange_strong(&swift_task_enqueueGlobal_hook, &unset, route_job)) {
        atomic_store(&routed_sink, NULL);
        return false;
    }
    return true;
}
