#include "parley_sqlite.h"

int parley_sqlite_turn_off_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int parley_sqlite_counts_memory(void) {
    // sqlite3_memory_used() reads the statistics: without them it stays at zero, even with memory held.
    void *held = sqlite3_malloc(64);
    const int counts = sqlite3_memory_used() > 0;
    sqlite3_free(held);
    return counts;
}
