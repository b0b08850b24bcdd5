// Counts the jobs a Swift program hands to the cooperative pool (the global executor), and records the stack of
// every Nth, to find what still leaves an event loop per request. Works on a build that links the Swift runtime
// dynamically (`swift build -c release`; the static build keeps the hook inside the executable, out of reach):
//
//   clang -shared -fPIC -O1 -o /tmp/pool_wakeups.so bench/pool_wakeups.c \
//       -L/opt/swift/usr/lib/swift/linux -lswift_Concurrency
//   POOL_WAKEUPS=/tmp/wakeups.txt POOL_WAKEUPS_EVERY=200 LD_PRELOAD=/tmp/pool_wakeups.so .build/release/parley serve …
//
// The file gets a stack per sampled job ("=== N" then frames, for addr2line and swift-demangle) and, at exit, the
// totals: jobs enqueued now, and jobs enqueued after a delay (sleeps, timeouts).
#include <execinfo.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef void (__attribute__((swiftcall)) *enqueue_t)(void *job);
extern void (__attribute__((swiftcall)) *swift_task_enqueueGlobal_hook)(void *job, enqueue_t original);
typedef void (__attribute__((swiftcall)) *enqueue_delay_t)(unsigned long long delay, void *job);
extern void (__attribute__((swiftcall)) *swift_task_enqueueGlobalWithDelay_hook)(unsigned long long delay, void *job,
                                                                                  enqueue_delay_t original);

static atomic_long enqueued;
static atomic_long delayed;
static int out = -1;
static long every = 100;

static void __attribute__((swiftcall)) count_enqueue(void *job, enqueue_t original) {
    long n = atomic_fetch_add(&enqueued, 1);
    if (out >= 0 && n % every == 0) {
        void *frames[24];
        int depth = backtrace(frames, 24);
        char header[32];
        write(out, header, snprintf(header, sizeof header, "=== %ld\n", n));
        backtrace_symbols_fd(frames, depth, out);
    }
    original(job);
}

static void __attribute__((swiftcall)) count_delayed(unsigned long long delay, void *job, enqueue_delay_t original) {
    atomic_fetch_add(&delayed, 1);
    original(delay, job);
}

static void report(void) {
    char line[96];
    if (out >= 0) write(out, line, snprintf(line, sizeof line, "enqueued: %ld delayed: %ld\n",
                                            atomic_load(&enqueued), atomic_load(&delayed)));
}

__attribute__((constructor)) static void install(void) {
    const char *path = getenv("POOL_WAKEUPS");
    if (path) out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char *sample = getenv("POOL_WAKEUPS_EVERY");
    if (sample && atol(sample) > 0) every = atol(sample);
    swift_task_enqueueGlobal_hook = count_enqueue;
    swift_task_enqueueGlobalWithDelay_hook = count_delayed;
    atexit(report);
}
