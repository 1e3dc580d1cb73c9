#ifndef SHOAL_CSTOREBASELINE_H
#define SHOAL_CSTOREBASELINE_H

/// The baseline the journal is measured against: plain SQLite in C, a WAL
/// database at `path` (synchronous=NORMAL) with the journal's table shape,
/// `rows` rows appended in offset order by one prepared INSERT, `batch` rows
/// per transaction, each with a `value_size`-byte event. Returns the seconds
/// the inserts took, or a negative value on error.
double shoal_baseline_sqlite_append(const char *path, long rows, long batch, long value_size);

#endif
