/*
 * storefix.h - what the unit tests of the SQLite store and of the evidence
 * log share: a fresh temporary directory per test (cmocka setup and
 * teardown), the store opened in it, an engine-shaped alert and a second,
 * raw connection to look behind the store's back. Include after <cmocka.h>.
 */
#ifndef COMPLYD_STOREFIX_H
#define COMPLYD_STOREFIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <cjson/cJSON.h>

#include "complyd/alert.h"
#include "complyd/store.h"
#include "complyd/util.h"

struct fixture {
	char	 dir[64];
	char	 path[128];
};

static inline int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/complyd-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	*state = f;
	return 0;
}

static inline int
teardown(void **state)
{
	struct fixture	*f = *state;
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char		 p[160];
	size_t		 i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static inline struct store *
open_ok(const struct fixture *f)
{
	struct store	*st;
	char		 err[256] = "";

	st = store_open(f->path, NULL, err, sizeof(err));
	if (st == NULL)
		fail_msg("store_open %s: %s", f->path, err);
	return st;
}

/* An engine-shaped alert record; free with cJSON_Delete(a->json). */
static inline void
make_alert(struct alert *a, const char *id, const char *tenant,
    const char *key, instant_t t)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "tenant", tenant);
	cJSON_AddStringToObject(o, "rule", "subcontract.paid-by-due-date");
	cJSON_AddStringToObject(o, "obligation", "SUBCON-PAY-BY-DUE");
	cJSON_AddStringToObject(o, "status", "violation");
	cJSON_AddStringToObject(o, "state", "open");
	cJSON_AddStringToObject(o, "time", "2026-06-29T00:00:00+09:00");
	cJSON_AddStringToObject(o, "key", key);
	memset(a, 0, sizeof(*a));
	a->json = o;
	a->time = t;
	a->id = cJSON_GetObjectItem(o, "id")->valuestring;
	a->tenant = cJSON_GetObjectItem(o, "tenant")->valuestring;
	a->obligation = cJSON_GetObjectItem(o, "obligation")->valuestring;
	a->key = cJSON_GetObjectItem(o, "key")->valuestring;
	a->status = cJSON_GetObjectItem(o, "status")->valuestring;
}

/* A second, raw connection for looking behind the store's back. */
static inline sqlite3 *
raw_open(const struct fixture *f)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	return db;
}

static inline int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*s;
	int64_t		 v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

#endif
