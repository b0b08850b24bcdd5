#ifndef PARLEY_SQLITE_H
#define PARLEY_SQLITE_H

// SQLite's C API, for Swift code that calls it directly (``SQLiteColumns``).
#include <sqlite3.h>

/// Turns off SQLite's memory statistics for the whole process (`SQLITE_CONFIG_MEMSTATUS`): with them on, every
/// allocation SQLite makes takes a process-wide mutex to count it, about 200 allocations per chat turn. Parley reads
/// none of those statistics. Takes effect only before SQLite is first used; returns an SQLite result code
/// (`SQLITE_MISUSE` when called too late, and nothing changes). `sqlite3_config` takes variable arguments, which Swift
/// cannot pass: hence this function.
int parley_sqlite_turn_off_memory_statistics(void);

/// Whether SQLite counts its allocations (1) or not (0).
int parley_sqlite_counts_memory(void);

#endif
