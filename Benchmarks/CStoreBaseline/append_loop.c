#include "CStoreBaseline.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double shoal_baseline_sqlite_append(const char *path, long rows, long batch, long value_size) {
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) return -1;
    const char *setup =
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
        "CREATE TABLE journal (offset INTEGER PRIMARY KEY, entity TEXT NOT NULL, key TEXT NOT NULL,"
        " event BLOB, event_time INTEGER);";
    if (sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK) { sqlite3_close(db); return -1; }
    sqlite3_stmt *insert = NULL;
    const char *sql = "INSERT INTO journal (offset, entity, key, event, event_time) VALUES (?, ?, ?, ?, ?)";
    if (sqlite3_prepare_v2(db, sql, -1, &insert, NULL) != SQLITE_OK) { sqlite3_close(db); return -1; }
    char *value = malloc((size_t)value_size);
    memset(value, 'v', (size_t)value_size);
    char key[32];
    double start = now_seconds();
    for (long offset = 0; offset < rows; offset++) {
        if (offset % batch == 0) sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        snprintf(key, sizeof key, "key-%ld", offset % 10000);
        sqlite3_bind_int64(insert, 1, offset);
        sqlite3_bind_text(insert, 2, "Counter", -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 3, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(insert, 4, value, (int)value_size, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 5, 1700000000000 + offset);
        if (sqlite3_step(insert) != SQLITE_DONE) { free(value); sqlite3_finalize(insert); sqlite3_close(db); return -1; }
        sqlite3_reset(insert);
        if (offset % batch == batch - 1 || offset == rows - 1) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double elapsed = now_seconds() - start;
    free(value);
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return elapsed;
}
