#ifndef PARLEY_FULL_TEXT_H
#define PARLEY_FULL_TEXT_H

#include <sqlite3.h>

/// Registers `parley_bm25` on the connection `db`: SQLite's FTS5 `bm25` ranking, with each phrase's passage count
/// given by the caller instead of counted by walking the phrase's whole posting list for every query.
///
/// `parley_bm25(table, counts, weight…)`: `counts` is a text of comma-separated counts, one per phrase of the
/// MATCH expression in the order the phrases appear in it; the weights are per column, as `bm25`'s. With each
/// phrase's true count the result is `bm25`'s, to the last bit. Returns an SQLite result code.
int parley_register_bm25(sqlite3 *db);

#endif
