// FTS5's bm25 (fts5_aux.c in SQLite) weighs each phrase of a query by its inverse document frequency, which it
// finds by walking the phrase's whole posting list once per query: in a base of a million passages, every word in
// tens of thousands of them, that walk was most of a query's ranking. Parley already knows how many passages each
// word is in (it counts them to plan the query), so this is the same formula with the counts passed in.
#include "parley_full_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { most_phrases = 64 };

// Parses "12,3,1000" into `counts`; returns how many, or -1 when the text is not such a list or has too many.
static int parse_counts(const unsigned char *text, double *counts) {
    if (text == NULL) return -1;
    int found = 0;
    const char *at = (const char *)text;
    while (*at != '\0') {
        if (found == most_phrases || *at < '0' || *at > '9') return -1;
        char *end = NULL;
        counts[found++] = (double)strtoll(at, &end, 10);
        at = end;
        if (*at == ',') at++;
        else if (*at != '\0') return -1;
    }
    return found;
}

static void bm25_with_counts(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *context, int argc,
                             sqlite3_value **argv) {
    const double k1 = 1.2, b = 0.75;
    double counts[most_phrases], frequency[most_phrases];
    const int phrases = api->xPhraseCount(fts);
    const int given = argc > 0 ? parse_counts(sqlite3_value_text(argv[0]), counts) : -1;
    if (given != phrases) {
        sqlite3_result_error(context, "parley_bm25: one count per phrase of the query is needed", -1);
        return;
    }
    sqlite3_int64 rows = 0, tokens = 0;
    int rc = api->xRowCount(fts, &rows);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &tokens);
    int instances = 0, length = 0;
    if (rc == SQLITE_OK) rc = api->xInstCount(fts, &instances);
    for (int i = 0; i < phrases; i++) frequency[i] = 0;
    for (int i = 0; rc == SQLITE_OK && i < instances; i++) {
        int phrase = 0, column = 0, offset = 0;
        rc = api->xInst(fts, i, &phrase, &column, &offset);
        // Column weights follow the counts, as they follow the table in bm25's arguments.
        if (rc == SQLITE_OK) frequency[phrase] += argc - 1 > column ? sqlite3_value_double(argv[1 + column]) : 1.0;
    }
    if (rc == SQLITE_OK) rc = api->xColumnSize(fts, -1, &length);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(context, rc);
        return;
    }
    const double average = rows > 0 ? (double)tokens / (double)rows : 1.0;
    double score = 0;
    for (int i = 0; i < phrases; i++) {
        double idf = log(((double)rows - counts[i] + 0.5) / (counts[i] + 0.5));
        if (idf <= 0.0) idf = 1e-6;
        score += idf * ((frequency[i] * (k1 + 1.0)) / (frequency[i] + k1 * (1 - b + b * (double)length / average)));
    }
    sqlite3_result_double(context, -1.0 * score);
}

// The documented way to reach FTS5's API from a connection (https://sqlite.org/fts5.html, "Extending FTS5").
static fts5_api *fts5_api_of(sqlite3 *db) {
    fts5_api *api = NULL;
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &statement, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(statement, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(statement);
    }
    sqlite3_finalize(statement);
    return api;
}

int parley_register_bm25(sqlite3 *db) {
    fts5_api *api = fts5_api_of(db);
    if (api == NULL || api->iVersion < 2) return SQLITE_ERROR;
    return api->xCreateFunction(api, "parley_bm25", NULL, bm25_with_counts, NULL);
}
