/*
 * metastream.h - reads a metadata file (contracts, datasets, facilities) one
 * record at a time with libyaml's event API, so memory stays flat however many
 * records a file holds; only the record being built is ever in memory.
 */
#ifndef COMPLYD_METASTREAM_H
#define COMPLYD_METASTREAM_H

#include <cjson/cJSON.h>

/*
 * Records are converted like ydoc_to_json (YAML 1.2 core schema for plain
 * scalars; a later duplicate key wins) and checked like registry.c (a mapping
 * with non-empty string "id" and "tenant"); line/col is the record's start.
 * Where streaming differs from the document loader:
 *  - records come in file order, not grouped by kind, and a top-level key
 *    given twice delivers both lists (the loader reads only the first);
 *  - anchors are ignored and every alias is an error ("aliases are not
 *    supported in metadata"); the record holding it is skipped;
 *  - a record nested deeper than 64 containers is an error and skipped;
 *  - after a YAML syntax error reading stops, but the records delivered
 *    before it stay delivered (their count is returned);
 *  - only the first document of the file is read; the rest is not parsed.
 */

/* Record kinds, in the order of registry.h's enum rec_kind. */
#define META_CONTRACT	0
#define META_DATASET	1
#define META_FACILITY	2

/* Called for each record; rec is a cJSON object (ownership passes to the callee). Return 0 to go on, -1 to stop. */
typedef int (*meta_record_fn)(void *arg, int kind /* 0 contracts, 1 datasets, 2 facilities */,
    cJSON *rec, int line, int col);

/* Streams the records of one YAML file. Every problem is printed as "file:line:col: error: ..." on stderr and counted in *nerrors; a bad record is skipped and reading goes on. Returns the number of records delivered, -1 if the file cannot be read. */
int meta_stream_file(const char *path, meta_record_fn fn, void *arg, int *nerrors);

#endif
