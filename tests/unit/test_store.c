/*
 * test_store.c - the SQLite state store (store.h) on real files in a fresh
 * temporary directory per test: event dedupe by (tenant, id) across reopen,
 * journal order, batches, alerts with their outboxes and history, offsets,
 * schema migrations, and crash safety (a child that _exits with or without
 * committing).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <cjson/cJSON.h>

#include "complyd/alert.h"
#include "complyd/event.h"
#include "complyd/store.h"
#include "complyd/util.h"
#include "storefix.h"

/* Journals {"id":id,"tenant":tenant,"time":time,...}; returns store_put_event. */
static int
put_event(struct store *st, const char *tenant, const char *id,
    const char *time)
{
	struct soc_event	 ev;
	char		 json[512], err[128];
	int		 rv;

	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"time\":\"%s\","
	    "\"tenant\":\"%s\",\"type\":\"test.event\"}", id, time, tenant);
	if (event_decode(json, strlen(json), &ev, err, sizeof(err)) == -1)
		fail_msg("event_decode %s: %s", json, err);
	rv = store_put_event(st, &ev, json, strlen(json));
	event_dispose(&ev);
	return rv;
}

static int
put_alert(struct store *st, const char *id, const char *key, int noutputs)
{
	struct alert	 a;
	int		 rv;

	make_alert(&a, id, "acme", key, 1782658800000LL);
	rv = store_put_alert(st, &a, noutputs);
	cJSON_Delete(a.json);
	return rv;
}

/* Collects journal ids in visiting order. */
struct visit {
	char	 ids[16][32];
	int64_t	 seqs[16];
	int	 n, stop_after;
};

static int
visit_fn(void *arg, const char *json, size_t len, int64_t seq)
{
	struct visit	*v = arg;
	cJSON		*o;

	o = cJSON_ParseWithLength(json, len);
	assert_non_null(o);
	assert_true(v->n < 16);
	snprintf(v->ids[v->n], sizeof(v->ids[0]), "%s",
	    cJSON_GetObjectItem(o, "id")->valuestring);
	v->seqs[v->n] = seq;
	cJSON_Delete(o);
	v->n++;
	return v->stop_after != 0 && v->n == v->stop_after ? 7 : 0;
}

static void
test_open_missing_dir(void **state)
{
	struct fixture	*f = *state;
	char		 path[200], err[256] = "";

	snprintf(path, sizeof(path), "%s/missing/state.db", f->dir);
	assert_null(store_open(path, "full", err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file or directory"));
	/* Not created behind our back either. */
	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(access(path, F_OK), -1);

	err[0] = '\0';
	assert_null(store_open(f->path, "sometimes", err, sizeof(err)));
	assert_non_null(strstr(err, "synchronous"));
}

static void
test_open_modes(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	sqlite3		*db;
	char		 err[256];
	static const char *const modes[] = { "full", "extra", "normal", "FULL",
	    "" };
	size_t		 i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		st = store_open(f->path, modes[i], err, sizeof(err));
		assert_non_null(st);
		store_close(st);
	}
	db = raw_open(f);
	{
		sqlite3_stmt	*s;

		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode",
		    -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(s, 0),
		    "wal");
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
}

static void
test_events_dedupe(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;

	st = open_ok(f);
	assert_int_equal(store_event_count(st), 0);
	assert_int_equal(put_event(st, "t1", "e1", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t1", "e1", "2026-01-01T00:00:00+09:00"), 0);
	/* Same (tenant, id) with another time is still a duplicate. */
	assert_int_equal(put_event(st, "t1", "e1", "2026-02-01T00:00:00+09:00"), 0);
	assert_int_equal(store_event_count(st), 1);
	store_close(st);

	st = open_ok(f);
	assert_int_equal(store_event_count(st), 1);
	assert_int_equal(put_event(st, "t1", "e1", "2026-01-01T00:00:00+09:00"), 0);
	/* The same id in another tenant is another event. */
	assert_int_equal(put_event(st, "t2", "e1", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t1", "e2", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(store_event_count(st), 3);
	store_close(st);
}

static void
test_each_event_order(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	struct visit	 v;

	st = open_ok(f);
	assert_int_equal(put_event(st, "t", "late", "2026-01-03T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t", "mid-1", "2026-01-02T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t", "mid-2", "2026-01-02T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t", "early", "2026-01-01T00:00:00+09:00"), 1);
	/* Same instant written with another offset: arrival breaks the tie. */
	assert_int_equal(put_event(st, "t", "mid-3", "2026-01-01T15:00:00Z"), 1);

	memset(&v, 0, sizeof(v));
	assert_int_equal(store_each_event(st, visit_fn, &v), 0);
	assert_int_equal(v.n, 5);
	assert_string_equal(v.ids[0], "early");
	assert_string_equal(v.ids[1], "mid-1");
	assert_string_equal(v.ids[2], "mid-2");
	assert_string_equal(v.ids[3], "mid-3");
	assert_string_equal(v.ids[4], "late");
	assert_true(v.seqs[1] < v.seqs[2] && v.seqs[2] < v.seqs[3]);
	assert_true(v.seqs[4] < v.seqs[0]);	/* arrival order is the seq */

	/* fn stops the walk with its own value. */
	memset(&v, 0, sizeof(v));
	v.stop_after = 2;
	assert_int_equal(store_each_event(st, visit_fn, &v), 7);
	assert_int_equal(v.n, 2);
	/* ...and the statement is reusable afterwards. */
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_each_event(st, visit_fn, &v), 0);
	assert_int_equal(v.n, 5);
	store_close(st);
}

/* Replaying the journal on start re-emits alerts into the store mid-walk. */
struct replay_arg {
	struct store	*st;
	int		 n, news;
};

static int
replay_fn(void *arg, const char *json, size_t len, int64_t seq)
{
	struct replay_arg *r = arg;
	char		 id[32];

	(void)json;
	(void)len;
	(void)seq;
	snprintf(id, sizeof(id), "a-%d", r->n % 2);
	r->news += put_alert(r->st, id, "K", 2);
	r->n++;
	return 0;
}

static void
test_each_event_writes(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	struct replay_arg r = { 0 };

	st = open_ok(f);
	assert_int_equal(put_event(st, "t", "e1", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t", "e2", "2026-01-02T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t", "e3", "2026-01-03T00:00:00+09:00"), 1);
	r.st = st;
	assert_int_equal(store_each_event(st, replay_fn, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.news, 2);
	assert_int_equal(store_outbox_pending(st, 0), 2);

	/* The same inside a batch. */
	r.n = r.news = 0;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_each_event(st, replay_fn, &r), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(r.news, 0);
	store_close(st);
}

static void
test_rollback(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;

	st = open_ok(f);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(put_event(st, "t", "e1", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(put_event(st, "t", "e2", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(put_alert(st, "a-1", "K", 1), 1);
	assert_int_equal(store_event_count(st), 2);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_event_count(st), 0);
	assert_int_equal(store_outbox_pending(st, 0), 0);
	/* Rolling back with nothing open is harmless. */
	assert_int_equal(store_rollback(st), 0);

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(put_event(st, "t", "e1", "2026-01-01T00:00:00+09:00"), 1);
	/* A duplicate within the batch. */
	assert_int_equal(put_event(st, "t", "e1", "2026-01-01T00:00:00+09:00"), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);

	st = open_ok(f);
	assert_int_equal(store_event_count(st), 1);
	/* A commit without begin is an error, not an abort. */
	assert_int_equal(store_commit(st), -1);
	store_close(st);
}

static void
test_alerts_outbox_rows(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	sqlite3		*db;

	st = open_ok(f);
	assert_int_equal(put_alert(st, "a-1", "C-1", 3), 1);
	assert_int_equal(put_alert(st, "a-1", "C-1", 3), 0);
	assert_int_equal(put_alert(st, "a-2", "C-2", 0), 1);
	assert_int_equal(store_outbox_pending(st, 0), 1);
	assert_int_equal(store_outbox_pending(st, 1), 1);
	assert_int_equal(store_outbox_pending(st, 2), 1);
	assert_int_equal(store_outbox_pending(st, 3), 0);
	store_close(st);

	st = open_ok(f);
	assert_int_equal(put_alert(st, "a-1", "C-1", 3), 0);
	store_close(st);

	db = raw_open(f);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM alerts"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM alert_history"
	    " WHERE alert_id = 'a-1' AND state = 'open' AND actor = 'complyd'"),
	    1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM alerts WHERE"
	    " id = 'a-1' AND tenant = 'acme' AND rule ="
	    " 'subcontract.paid-by-due-date' AND obligation = 'SUBCON-PAY-BY-DUE'"
	    " AND key = 'C-1' AND status = 'violation' AND state = 'open'"
	    " AND time_ms = 1782658800000"), 1);
	sqlite3_close(db);
}

static void
test_outbox(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	struct outbox_item items[4];
	cJSON		*o;
	int		 n;

	st = open_ok(f);
	assert_int_equal(put_alert(st, "a-1", "C-1", 2), 1);
	assert_int_equal(put_alert(st, "a-2", "C-2", 2), 1);
	assert_int_equal(put_alert(st, "a-3", "C-3", 2), 1);

	n = store_outbox_due(st, 0, 0, items, 4);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].alert_id, "a-1");
	assert_string_equal(items[1].alert_id, "a-2");
	assert_string_equal(items[2].alert_id, "a-3");
	assert_int_equal(items[0].attempts, 0);
	o = cJSON_Parse(items[0].json);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "a-1");
	assert_string_equal(cJSON_GetObjectItem(o, "key")->valuestring, "C-1");
	cJSON_Delete(o);
	store_outbox_items_free(items, n);

	/* max limits. */
	n = store_outbox_due(st, 0, 0, items, 1);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].alert_id, "a-1");
	store_outbox_items_free(items, n);

	/* a-1 fails and is rescheduled at 1000. */
	assert_int_equal(store_outbox_retry(st, 0, "a-1", 1000), 0);
	n = store_outbox_due(st, 0, 999, items, 4);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].alert_id, "a-2");
	assert_string_equal(items[1].alert_id, "a-3");
	store_outbox_items_free(items, n);
	n = store_outbox_due(st, 0, 1000, items, 4);
	assert_int_equal(n, 3);
	assert_string_equal(items[2].alert_id, "a-1");
	assert_int_equal(items[2].attempts, 1);
	store_outbox_items_free(items, n);

	/* Delivered: gone from output 0 only. */
	assert_int_equal(store_outbox_done(st, 0, "a-2", NULL), 0);
	assert_int_equal(store_outbox_done(st, 0, "a-2", NULL), 0);
	assert_int_equal(store_outbox_pending(st, 0), 2);
	assert_int_equal(store_outbox_pending(st, 1), 3);

	/*
	 * Output 1 sends a-3 as open (a webhook: in flight); meanwhile it is
	 * retracted and queued again. The open record's delivery must not
	 * take the retraction off the queue; the retraction's does.
	 */
	n = store_outbox_due(st, 1, 0, items, 4);
	assert_int_equal(n, 3);
	assert_string_equal(items[2].alert_id, "a-3");
	assert_int_equal(store_alert_transition(st, "a-3", "retracted", "complyd",
	    "late event", 10), 0);
	assert_int_equal(store_alert_requeue(st, "a-3", 2), 0);
	assert_int_equal(store_outbox_done(st, 1, "a-3", items[2].json), 0);
	assert_int_equal(store_outbox_pending(st, 1), 3);
	store_outbox_items_free(items, n);
	n = store_outbox_due(st, 1, 0, items, 4);
	assert_int_equal(n, 3);
	assert_non_null(strstr(items[2].json, "\"state\":\"retracted\""));
	assert_int_equal(store_outbox_done(st, 1, "a-3", items[2].json), 0);
	assert_int_equal(store_outbox_pending(st, 1), 2);
	store_outbox_items_free(items, n);
	store_close(st);

	/* Survives a restart. */
	st = open_ok(f);
	n = store_outbox_due(st, 0, 5000, items, 4);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].alert_id, "a-3");
	assert_string_equal(items[1].alert_id, "a-1");
	assert_int_equal(items[1].attempts, 1);
	store_outbox_items_free(items, n);
	n = store_outbox_due(st, 1, 0, items, 4);
	assert_int_equal(n, 2);
	store_outbox_items_free(items, n);
	assert_int_equal(store_outbox_due(st, 7, 0, items, 4), 0);
	store_close(st);
}

static void
test_transition(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	struct outbox_item items[2];
	sqlite3		*db;
	sqlite3_stmt	*s;
	cJSON		*o;

	st = open_ok(f);
	assert_int_equal(put_alert(st, "a-1", "C-1", 1), 1);
	assert_int_equal(store_alert_transition(st, "a-1", "acknowledged",
	    "alice", "seen, calling the buyer", 1782700000000LL), 0);
	assert_int_equal(store_alert_transition(st, "a-404", "resolved",
	    "alice", NULL, 1782700000000LL), 1);
	/* Inside a batch too. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_alert_transition(st, "a-1", "resolved", "bob",
	    NULL, 1782800000000LL), 0);
	assert_int_equal(store_alert_transition(st, "a-404", "resolved",
	    "bob", NULL, 1782800000000LL), 1);
	assert_int_equal(store_commit(st), 0);

	assert_int_equal(store_outbox_due(st, 0, 0, items, 2), 1);
	o = cJSON_Parse(items[0].json);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring,
	    "resolved");
	assert_string_equal(cJSON_GetObjectItem(o, "key")->valuestring, "C-1");
	cJSON_Delete(o);
	store_outbox_items_free(items, 1);
	store_close(st);

	db = raw_open(f);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM alerts WHERE"
	    " id = 'a-1' AND state = 'resolved'"), 1);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT state, actor, note,"
	    " at_ms FROM alert_history WHERE alert_id = 'a-1' ORDER BY rowid",
	    -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "open");
	assert_string_equal((const char *)sqlite3_column_text(s, 1), "complyd");
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0),
	    "acknowledged");
	assert_string_equal((const char *)sqlite3_column_text(s, 1), "alice");
	assert_string_equal((const char *)sqlite3_column_text(s, 2),
	    "seen, calling the buyer");
	assert_int_equal(sqlite3_column_int64(s, 3), 1782700000000LL);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "resolved");
	assert_string_equal((const char *)sqlite3_column_text(s, 1), "bob");
	assert_int_equal(sqlite3_column_type(s, 2), SQLITE_NULL);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM alert_history"
	    " WHERE alert_id = 'a-404'"), 0);
	sqlite3_close(db);
}

static void
test_offsets(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	uint64_t	 ino = 0, off = 0;

	st = open_ok(f);
	assert_int_equal(store_offset_get(st, "/var/in/a.jsonl", &ino, &off), 1);
	assert_int_equal(store_offset_set(st, "/var/in/a.jsonl", 1234, 5678), 0);
	assert_int_equal(store_offset_set(st, "/var/in/b.jsonl", UINT64_MAX,
	    (uint64_t)1 << 63), 0);
	assert_int_equal(store_offset_get(st, "/var/in/a.jsonl", &ino, &off), 0);
	assert_int_equal(ino, 1234);
	assert_int_equal(off, 5678);
	assert_int_equal(store_offset_set(st, "/var/in/a.jsonl", 1234, 9999), 0);
	store_close(st);

	st = open_ok(f);
	assert_int_equal(store_offset_get(st, "/var/in/a.jsonl", &ino, &off), 0);
	assert_int_equal(ino, 1234);
	assert_int_equal(off, 9999);
	assert_int_equal(store_offset_get(st, "/var/in/b.jsonl", &ino, &off), 0);
	assert_true(ino == UINT64_MAX);
	assert_true(off == (uint64_t)1 << 63);
	store_close(st);
}

static void
test_reopen_no_remigration(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	sqlite3		*db;
	int64_t		 ver, nobj;
	char		 err[256] = "";

	st = open_ok(f);
	assert_int_equal(put_event(st, "t", "e1", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(store_ruleset_loaded(st, "sha256:abcd", 42,
	    1782700000000LL), 0);
	store_close(st);

	db = raw_open(f);
	ver = raw_int(db, "PRAGMA user_version");
	nobj = raw_int(db, "SELECT count(*) FROM sqlite_master");
	assert_true(ver >= 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM rulesets WHERE"
	    " hash = 'sha256:abcd' AND nrules = 42"), 1);
	/* A marker a re-run migration (CREATE TABLE ...) would trip over. */
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE marker (x)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);

	st = open_ok(f);
	assert_int_equal(store_event_count(st), 1);
	assert_int_equal(put_event(st, "t", "e1", "2026-01-01T00:00:00+09:00"), 0);
	store_close(st);

	db = raw_open(f);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), ver);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master"),
	    nobj + 1);
	/* A database from a newer complyd is refused, not clobbered. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 9999", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	db = raw_open(f);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 9999);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM events"), 1);
	sqlite3_close(db);
}

/*
 * Outputs keep their outbox slot by what they are: the first mapping (a new
 * database, or one whose rows were numbered by position) keeps positions;
 * later, a removed output leaves its slot and a new one gets a fresh slot.
 */
static void
test_output_slots(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	sqlite3		*db;

	/* rows of an old database, numbered by position: file 0, webhook 1 */
	st = open_ok(f);
	assert_int_equal(put_alert(st, "a-old", "K1", 2), 1);
	store_close(st);
	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM output_slots", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);

	st = open_ok(f);
	assert_int_equal(store_output_slot(st, "file /v/a.jsonl", 0), 0);
	assert_int_equal(store_output_slot(st, "webhook http://h/x", 1), 1);
	assert_int_equal(store_outbox_pending(st, 1), 1);	/* kept */
	store_close(st);

	/* the file output removed: the webhook, now first, keeps slot 1 */
	st = open_ok(f);
	assert_int_equal(store_output_slot(st, "webhook http://h/x", 0), 1);
	assert_int_equal(store_slot(st, 0), 1);
	assert_int_equal(store_outbox_pending(st, store_slot(st, 0)), 1);
	/* a new output gets a slot no row or mapping uses */
	assert_int_equal(store_output_slot(st, "stdout ", 1), 2);
	assert_int_equal(put_alert(st, "a-new", "K2", 2), 1);
	assert_int_equal(store_outbox_pending(st, 1), 2);
	assert_int_equal(store_outbox_pending(st, 2), 1);
	assert_int_equal(store_outbox_pending(st, 0), 1);	/* the file's old row */
	store_close(st);
}

/* A child journals events in a batch and dies without closing the store. */
static void
crash_child(const struct fixture *f, int commit)
{
	struct store	*st;
	char		 err[256];
	pid_t		 pid;
	int		 status;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		st = store_open(f->path, "full", err, sizeof(err));
		if (st == NULL || store_begin(st) != 0 ||
		    put_event(st, "t", commit ? "c1" : "u1",
		    "2026-01-01T00:00:00+09:00") != 1 ||
		    put_event(st, "t", commit ? "c2" : "u2",
		    "2026-01-02T00:00:00+09:00") != 1 ||
		    put_alert(st, commit ? "a-c" : "a-u", "K", 1) != 1)
			_exit(1);
		if (commit && store_commit(st) != 0)
			_exit(1);
		_exit(0);	/* no store_close, no checkpoint */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_crash_committed(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	struct visit	 v;

	crash_child(f, 1);
	st = open_ok(f);
	assert_int_equal(store_event_count(st), 2);
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_each_event(st, visit_fn, &v), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.ids[0], "c1");
	assert_string_equal(v.ids[1], "c2");
	assert_int_equal(store_outbox_pending(st, 0), 1);
	/* Redelivery after the crash is recognized as a duplicate. */
	assert_int_equal(put_event(st, "t", "c1", "2026-01-01T00:00:00+09:00"), 0);
	store_close(st);

	/* An uncommitted batch on top of a committed one leaves the latter. */
	crash_child(f, 0);
	st = open_ok(f);
	assert_int_equal(store_event_count(st), 2);
	assert_int_equal(store_outbox_pending(st, 0), 1);
	store_close(st);
}

static void
test_crash_uncommitted(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;

	crash_child(f, 0);
	st = open_ok(f);
	assert_int_equal(store_event_count(st), 0);
	assert_int_equal(store_outbox_pending(st, 0), 0);
	/* The store is usable and the lost batch can be resent. */
	assert_int_equal(put_event(st, "t", "u1", "2026-01-01T00:00:00+09:00"), 1);
	assert_int_equal(store_event_count(st), 1);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_missing_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_dedupe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_each_event_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_each_event_writes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts_outbox_rows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_no_remigration,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_committed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_uncommitted, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
