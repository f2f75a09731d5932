/*
 * store.c - the daemon's durable state in SQLite (store.h).
 *
 * One connection, WAL journal, synchronous FULL by default (a committed batch
 * survives kill -9 and power loss; NORMAL survives kill -9 only). The schema is
 * versioned with PRAGMA user_version: migrations[i] takes the database from
 * version i to i + 1 and runs in its own transaction together with the version
 * bump, so a crash mid-migration leaves the previous version intact. Every
 * runtime statement is prepared once at open (SQLITE_PREPARE_PERSISTENT) and
 * reset after use. SQLite errors never abort: they are logged with
 * sqlite3_errmsg and returned as -1.
 *
 * Multi-statement operations (an alert with its outbox and history rows, a
 * transition with its history row) are atomic: their own transaction on their
 * own, a SAVEPOINT inside a caller's store_begin/store_commit batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <cjson/cJSON.h>

#include "complyd/jsonw.h"
#include "complyd/log.h"
#include "complyd/store.h"
#include "complyd/util.h"

/* Ordered migrations: index i upgrades schema version i to i + 1. Never edit a
 * released entry; append a new one. */
static const char *const migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE events ("
	"  seq INTEGER PRIMARY KEY,"
	"  tenant TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  time_ms INTEGER NOT NULL,"
	"  body TEXT NOT NULL,"
	"  received_ms INTEGER NOT NULL,"
	"  UNIQUE (tenant, id));"
	"CREATE INDEX events_time ON events (time_ms, seq);"
	"CREATE TABLE alerts ("
	"  id TEXT PRIMARY KEY,"
	"  tenant TEXT NOT NULL,"
	"  obligation TEXT,"
	"  rule TEXT,"
	"  key TEXT,"
	"  status TEXT,"
	"  state TEXT NOT NULL,"
	"  time_ms INTEGER NOT NULL,"
	"  body TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE INDEX alerts_tenant_time ON alerts (tenant, time_ms);"
	"CREATE TABLE alert_history ("
	"  alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,"
	"  at_ms INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  actor TEXT,"
	"  note TEXT);"
	"CREATE INDEX alert_history_alert ON alert_history (alert_id, at_ms);"
	"CREATE TABLE outbox ("
	"  output INTEGER NOT NULL,"
	"  alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (output, alert_id));"
	"CREATE INDEX outbox_due ON outbox (output, next_ms);"
	"CREATE INDEX outbox_alert ON outbox (alert_id);"
	"CREATE TABLE offsets ("
	"  path TEXT PRIMARY KEY,"
	"  inode INTEGER NOT NULL,"
	"  offset INTEGER NOT NULL);"
	"CREATE TABLE rulesets ("
	"  hash TEXT NOT NULL,"
	"  nrules INTEGER NOT NULL,"
	"  loaded_ms INTEGER NOT NULL);",
	/*
	 * 2: outputs keep their outbox rows by what they are (type and
	 * target), not by their place in the config: removing one output must
	 * not hand its queue to the next.
	 */
	"CREATE TABLE output_slots ("
	"  spec TEXT PRIMARY KEY,"
	"  slot INTEGER NOT NULL UNIQUE);",
	/* 3: is there a later event of this tenant (late record changes)? */
	"CREATE INDEX events_tenant_time ON events (tenant, time_ms);",
	/*
	 * 4: the evidence log (evidence.c): a hash chain of decisions. nkey is
	 * the natural key of a decision a replay makes again (NULL for one made
	 * once, e.g. an acknowledgement): a repeat is not chained twice.
	 */
	"CREATE TABLE evidence ("
	"  seq INTEGER PRIMARY KEY,"
	"  recorded_ms INTEGER NOT NULL,"
	"  tenant TEXT,"
	"  kind TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  entry_hash TEXT NOT NULL,"
	"  chain TEXT NOT NULL,"
	"  nkey TEXT UNIQUE);"
	"CREATE INDEX rulesets_loaded ON rulesets (loaded_ms);",
};
#define NMIGRATIONS	((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_EVENT_PUT,
	S_EVENT_EACH,
	S_EVENT_COUNT,
	S_ALERT_PUT,
	S_ALERT_BODY,
	S_ALERT_UPDATE,
	S_HISTORY_PUT,
	S_OUTBOX_PUT,
	S_OUTBOX_DUE,
	S_OUTBOX_DONE,
	S_OUTBOX_RETRY,
	S_OUTBOX_PENDING,
	S_OFFSET_GET,
	S_OFFSET_SET,
	S_RULESET_PUT,
	S_ALERT_OPEN_SINCE,
	S_ALERT_SAID_SINCE,
	S_EVENTS_AFTER,
	S_SLOT_GET,
	S_SLOT_COUNT,
	S_SLOT_NEXT,
	S_SLOT_PUT,
	S_FIRST_LOAD,
	S_ALERT_QUERY,
	S_ALERT_STATE,
	S_HISTORY_OF,
	S_EVIDENCE_HAS,
	S_EVIDENCE_HEAD,
	S_EVIDENCE_PUT,
	S_EVIDENCE_EACH,
	S_RULESETS_IN,
	S_EVENT_COUNTS,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT store_op",
	[S_RELEASE] = "RELEASE store_op",
	[S_ROLLBACK_TO] = "ROLLBACK TO store_op",
	[S_EVENT_PUT] = "INSERT OR IGNORE INTO events"
	    " (tenant, id, time_ms, body, received_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_EVENT_EACH] = "SELECT seq, body FROM events ORDER BY time_ms, seq",
	[S_EVENT_COUNT] = "SELECT count(*) FROM events",
	[S_ALERT_PUT] = "INSERT OR IGNORE INTO alerts (id, tenant, obligation,"
	    " rule, key, status, state, time_ms, body, created_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_ALERT_BODY] = "SELECT body FROM alerts WHERE id = ?1",
	[S_ALERT_UPDATE] = "UPDATE alerts SET state = ?2, body = ?3 WHERE id = ?1",
	[S_HISTORY_PUT] = "INSERT INTO alert_history (alert_id, at_ms, state,"
	    " actor, note) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_OUTBOX_PUT] = "INSERT OR IGNORE INTO outbox (output, alert_id,"
	    " attempts, next_ms) VALUES (?1, ?2, 0, 0)",
	[S_OUTBOX_DUE] = "SELECT o.alert_id, a.body, o.attempts FROM outbox o"
	    " JOIN alerts a ON a.id = o.alert_id"
	    " WHERE o.output = ?1 AND o.next_ms <= ?2"
	    " ORDER BY o.next_ms, o.rowid LIMIT ?3",
	/*
	 * Only if the record sent is still the alert's: a retraction queued
	 * while the open record was in flight (a webhook) keeps its entry.
	 */
	[S_OUTBOX_DONE] = "DELETE FROM outbox WHERE output = ?1 AND alert_id = ?2"
	    " AND (?3 IS NULL OR ?3 = (SELECT body FROM alerts WHERE id = ?2))",
	[S_OUTBOX_RETRY] = "UPDATE outbox SET attempts = attempts + 1,"
	    " next_ms = ?3 WHERE output = ?1 AND alert_id = ?2",
	[S_OUTBOX_PENDING] = "SELECT count(*) FROM outbox WHERE output = ?1",
	[S_OFFSET_GET] = "SELECT inode, offset FROM offsets WHERE path = ?1",
	[S_OFFSET_SET] = "INSERT INTO offsets (path, inode, offset)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (path) DO UPDATE"
	    " SET inode = excluded.inode, offset = excluded.offset",
	[S_RULESET_PUT] = "INSERT INTO rulesets (hash, nrules, loaded_ms)"
	    " VALUES (?1, ?2, ?3)",
	/* Standing: not retracted; an acknowledged or resolved alert can be wrong too. */
	[S_ALERT_OPEN_SINCE] = "SELECT id, rule, created_ms FROM alerts WHERE"
	    " state <> 'retracted' AND time_ms > ?1 AND tenant = ?2",
	[S_ALERT_SAID_SINCE] = "SELECT id, rule, created_ms FROM alerts"
	    " WHERE time_ms > ?1 AND tenant = ?2",
	[S_FIRST_LOAD] = "SELECT min(loaded_ms) FROM rulesets",
	/* Filters left NULL match everything; the order is complyctl replay's. */
	[S_ALERT_QUERY] = "SELECT id, tenant, body FROM alerts WHERE"
	    " (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR state = ?2) AND"
	    " (?3 IS NULL OR tenant = ?3) AND (?4 IS NULL OR obligation = ?4) AND"
	    " time_ms >= ?5 AND time_ms < ?6"
	    " ORDER BY time_ms, obligation, tenant, key, status",
	[S_ALERT_STATE] = "SELECT tenant, state FROM alerts WHERE id = ?1",
	[S_HISTORY_OF] = "SELECT at_ms, state, actor, note FROM alert_history"
	    " WHERE alert_id = ?1 ORDER BY at_ms, rowid",
	[S_EVENTS_AFTER] = "SELECT 1 FROM events WHERE tenant = ?1 AND time_ms > ?2"
	    " AND seq < ?3 LIMIT 1",
	[S_SLOT_GET] = "SELECT slot FROM output_slots WHERE spec = ?1",
	[S_SLOT_COUNT] = "SELECT count(*) FROM output_slots",
	[S_SLOT_NEXT] = "SELECT max(coalesce((SELECT max(slot) FROM output_slots), -1),"
	    " coalesce((SELECT max(output) FROM outbox), -1)) + 1",
	[S_SLOT_PUT] = "INSERT INTO output_slots (spec, slot) VALUES (?1, ?2)",
	[S_EVIDENCE_HAS] = "SELECT 1 FROM evidence WHERE nkey = ?1",
	[S_EVIDENCE_HEAD] = "SELECT seq, chain FROM evidence ORDER BY seq DESC LIMIT 1",
	[S_EVIDENCE_PUT] = "INSERT INTO evidence (seq, recorded_ms, tenant, kind,"
	    " body, entry_hash, chain, nkey) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_EVIDENCE_EACH] = "SELECT seq, recorded_ms, tenant, kind, body,"
	    " entry_hash, chain FROM evidence WHERE seq > ?1 ORDER BY seq",
	/* The loads in [from, to) and the one in force at from. */
	[S_RULESETS_IN] = "SELECT hash, nrules, loaded_ms FROM rulesets"
	    " WHERE loaded_ms >= coalesce((SELECT max(loaded_ms) FROM rulesets"
	    " WHERE loaded_ms <= ?1), ?1) AND loaded_ms < ?2 ORDER BY loaded_ms, rowid",
	[S_EVENT_COUNTS] = "SELECT tenant, coalesce(json_extract(body, '$.type'), ''),"
	    " count(*) FROM events WHERE time_ms >= ?1 AND time_ms < ?2"
	    " AND (?3 IS NULL OR tenant = ?3) GROUP BY 1, 2 ORDER BY 1, 2",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S_COUNT];
	int		 iterating;	/* inside store_each_event */
	int		*slots;		/* outbox slot of the output at each position */
	int		 nslots;
	int		 slots_by_position; /* first mapping: slots are positions */
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Logs the connection's last error and returns -1. */
static int
store_fail(struct store *st, const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

/* Resets a statement after use and drops its bindings (no dangling text). */
static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Runs a statement that returns no rows; 0 or -1 (logged). */
static int
run(struct store *st, enum stmt_id id)
{
	sqlite3_stmt	*s = st->stmt[id];
	int		 rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, stmt_sql[id]);
		done(s);
		return -1;
	}
	done(s);
	return 0;
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Runs `SELECT count(*)`-like statement with optional int parameter; -1 on error. */
static int64_t
scalar(struct store *st, enum stmt_id id)
{
	sqlite3_stmt	*s = st->stmt[id];
	int64_t		 v;

	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, stmt_sql[id]);
		done(s);
		return -1;
	}
	v = sqlite3_column_int64(s, 0);
	done(s);
	return v;
}

/* Open-time helpers: work on a bare connection and report into err. */

static int
exec_err(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Runs a one-row pragma and copies its first column as text (or "" for no row). */
static int
pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen, char *err,
    size_t errlen)
{
	sqlite3_stmt	*s;
	const unsigned char *t;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	out[0] = '\0';
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(s, 0);
		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static int
user_version(sqlite3 *db, int *v, char *err, size_t errlen)
{
	char	 buf[32];

	if (pragma_text(db, "PRAGMA user_version", buf, sizeof(buf), err,
	    errlen) == -1)
		return -1;
	*v = atoi(buf);
	return 0;
}

/* Applies the migrations the database has not seen, one transaction each. */
static int
migrate(sqlite3 *db, char *err, size_t errlen)
{
	char	 sql[64], msg[256];
	int	 v;

	for (;;) {
		if (exec_err(db, "BEGIN IMMEDIATE", err, errlen) == -1)
			return -1;
		/* Read inside the write lock: another process may have migrated. */
		if (user_version(db, &v, err, errlen) == -1)
			goto fail;
		if (v > NMIGRATIONS) {
			snprintf(err, errlen, "schema version %d is newer than this "
			    "complyd knows (%d)", v, NMIGRATIONS);
			goto fail;
		}
		if (v == NMIGRATIONS)
			return exec_err(db, "COMMIT", err, errlen);
		if (exec_err(db, migrations[v], msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "migration %d: %s", v + 1, msg);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec_err(db, sql, err, errlen) == -1 ||
		    exec_err(db, "COMMIT", err, errlen) == -1)
			goto fail;
	}
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static const char *
sync_mode(const char *s)
{
	if (s == NULL || *s == '\0' || strcasecmp(s, "full") == 0)
		return "FULL";
	if (strcasecmp(s, "extra") == 0)
		return "EXTRA";
	if (strcasecmp(s, "normal") == 0)
		return "NORMAL";
	return NULL;
}

struct store *
store_open(const char *path, const char *synchronous, char *err, size_t errlen)
{
	struct store	*st;
	const char	*mode;
	char		 sql[64], buf[32];
	int		 fd, i;

	if ((mode = sync_mode(synchronous)) == NULL) {
		snprintf(err, errlen, "synchronous: \"%s\" is not full, extra or "
		    "normal", synchronous);
		return NULL;
	}
	/*
	 * Create the file ourselves, owner-only (SQLite gives the -wal and -shm
	 * files the same mode). The parent directory must exist: it is the
	 * configured state_dir, and a typo there should not silently create a
	 * fresh, empty database somewhere else.
	 */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		close(fd);
	}
	st = xcalloc(1, sizeof(*st));
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if (pragma_text(st->db, "PRAGMA journal_mode = WAL", buf, sizeof(buf),
	    err, errlen) == -1)
		goto fail;
	if (strcasecmp(buf, "wal") != 0 && strcasecmp(buf, "memory") != 0) {
		snprintf(err, errlen, "%s: cannot use WAL (journal mode %s)", path,
		    buf);
		goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", mode);
	if (exec_err(st->db, sql, err, errlen) == -1 ||
	    exec_err(st->db, "PRAGMA foreign_keys = ON", err, errlen) == -1)
		goto fail;
	if (migrate(st->db, err, errlen) == -1)
		goto fail;
	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", stmt_sql[i],
			    sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	int	 i;

	if (st == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("store: close: %s", sqlite3_errmsg(st->db));
	free(st->slots);
	free(st);
}

int
store_begin(struct store *st)
{
	return run(st, S_BEGIN);
}

/*
 * On failure (e.g. SQLITE_BUSY past the timeout, disk full) the batch is not
 * durable and must not be acknowledged; it is rolled back here so that the
 * next store_begin starts clean (a later store_rollback is harmless).
 */
int
store_commit(struct store *st)
{
	if (run(st, S_COMMIT) == 0)
		return 0;
	if (!sqlite3_get_autocommit(st->db))
		run(st, S_ROLLBACK);
	return -1;
}

int
store_rollback(struct store *st)
{
	/* Some errors (I/O, full disk) already rolled the transaction back. */
	if (sqlite3_get_autocommit(st->db))
		return 0;
	return run(st, S_ROLLBACK);
}

/*
 * Starts an atomic multi-statement operation: its own write transaction when
 * none is open (BEGIN IMMEDIATE, so the busy timeout applies to taking the
 * write lock), else a savepoint inside the caller's batch. 0 or -1.
 */
static int
op_start(struct store *st, int *own)
{
	*own = sqlite3_get_autocommit(st->db) != 0;
	return run(st, *own ? S_BEGIN : S_SAVEPOINT);
}

/* Ends the operation: kept on success, undone on failure; returns rv or -1. */
static int
op_end(struct store *st, int own, int rv)
{
	if (rv < 0) {
		if (!sqlite3_get_autocommit(st->db)) {
			if (own)
				run(st, S_ROLLBACK);
			else if (run(st, S_ROLLBACK_TO) == 0)
				run(st, S_RELEASE);
		}
		return rv;
	}
	if (run(st, own ? S_COMMIT : S_RELEASE) == -1) {
		if (own && !sqlite3_get_autocommit(st->db))
			run(st, S_ROLLBACK);
		return -1;
	}
	return rv;
}

int
store_op_begin(struct store *st, int *own)
{
	return op_start(st, own);
}

int
store_op_end(struct store *st, int own, int rv)
{
	return op_end(st, own, rv);
}

int
store_put_event(struct store *st, const struct soc_event *ev, const char *json,
    size_t len)
{
	sqlite3_stmt	*s = st->stmt[S_EVENT_PUT];
	int		 rc;

	if (len > (size_t)EVENT_MAX_LINE) {
		log_warnx("store: event %s/%s: %zu bytes, too long", ev->tenant,
		    ev->id, len);
		return -1;
	}
	bind_text(s, 1, ev->tenant);
	bind_text(s, 2, ev->id);
	sqlite3_bind_int64(s, 3, ev->time);
	sqlite3_bind_text(s, 4, json, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now_ms());
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "put event");
		done(s);
		return -1;
	}
	done(s);
	return sqlite3_changes(st->db) == 1 ? 1 : 0;
}

int64_t
store_last_seq(const struct store *st)
{
	return (int64_t)sqlite3_last_insert_rowid(st->db);
}

/*
 * Streams the journal; the JSON passed to fn is valid only during the call.
 * fn may write to the store (e.g. alerts) but not iterate again. Returns 0
 * when all were visited, fn's non-zero value if it stopped, -1 on error.
 */
int
store_each_event(struct store *st, int (*fn)(void *, const char *json,
    size_t len, int64_t seq), void *arg)
{
	sqlite3_stmt	*s = st->stmt[S_EVENT_EACH];
	const char	*body;
	int		 rc, r = 0;

	if (st->iterating) {
		log_warnx("store: each event: nested iteration");
		return -1;
	}
	st->iterating = 1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		body = (const char *)sqlite3_column_text(s, 1);
		if (body == NULL)
			body = "";
		r = fn(arg, body, (size_t)sqlite3_column_bytes(s, 1),
		    sqlite3_column_int64(s, 0));
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(st, "each event");
	done(s);
	st->iterating = 0;
	return r;
}

int64_t
store_event_count(struct store *st)
{
	return scalar(st, S_EVENT_COUNT);
}

static const char *
json_str(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
history_put(struct store *st, const char *id, int64_t at_ms, const char *state,
    const char *actor, const char *note)
{
	sqlite3_stmt	*s = st->stmt[S_HISTORY_PUT];

	bind_text(s, 1, id);
	sqlite3_bind_int64(s, 2, at_ms);
	bind_text(s, 3, state);
	bind_text(s, 4, actor);
	bind_text(s, 5, note);
	return run(st, S_HISTORY_PUT);
}

static int
put_alert(struct store *st, const struct alert *a, const char *body,
    int noutputs)
{
	sqlite3_stmt	*s = st->stmt[S_ALERT_PUT];
	const char	*state;
	int64_t		 now = now_ms();
	int		 i;

	state = json_str(a->json, "state");
	if (state == NULL)
		state = "open";
	bind_text(s, 1, a->id);
	bind_text(s, 2, a->tenant);
	bind_text(s, 3, a->obligation);
	bind_text(s, 4, json_str(a->json, "rule"));
	bind_text(s, 5, a->key);
	bind_text(s, 6, a->status);
	bind_text(s, 7, state);
	sqlite3_bind_int64(s, 8, a->time);
	bind_text(s, 9, body);
	sqlite3_bind_int64(s, 10, now);
	if (run(st, S_ALERT_PUT) == -1)
		return -1;
	if (sqlite3_changes(st->db) != 1)
		return 0;
	s = st->stmt[S_OUTBOX_PUT];
	for (i = 0; i < noutputs; i++) {
		sqlite3_bind_int(s, 1, store_slot(st, i));
		bind_text(s, 2, a->id);
		if (run(st, S_OUTBOX_PUT) == -1)
			return -1;
	}
	if (history_put(st, a->id, now, state, "complyd", NULL) == -1)
		return -1;
	return 1;
}

int
store_put_alert(struct store *st, const struct alert *a, int noutputs)
{
	struct sbuf	 body;
	int		 rv, own;

	if (a->id == NULL || a->tenant == NULL || a->json == NULL) {
		log_warnx("store: put alert: no id or tenant");
		return -1;
	}
	if (op_start(st, &own) == -1)
		return -1;
	sbuf_init(&body);
	jsonw_value(&body, a->json);
	rv = op_end(st, own, put_alert(st, a, body.s, noutputs));
	sbuf_free(&body);
	return rv;
}

/* o (consumed) printed with its "state" set to state; NULL if it cannot be. */
static char *
print_with_state(cJSON *o, const char *state)
{
	char	*body;

	if (cJSON_GetObjectItemCaseSensitive(o, "state") != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(o, "state",
		    cJSON_CreateString(state));
	else
		cJSON_AddStringToObject(o, "state", state);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return body;
}

/* Stores alert id's new body and state, and the change in its history. */
static int
update_alert(struct store *st, const char *id, const char *state,
    const char *body, int64_t at_ms, const char *actor, const char *note)
{
	sqlite3_stmt	*s = st->stmt[S_ALERT_UPDATE];

	bind_text(s, 1, id);
	bind_text(s, 2, state);
	bind_text(s, 3, body);
	if (run(st, S_ALERT_UPDATE) == -1)
		return -1;
	return history_put(st, id, at_ms, state, actor, note);
}

static int
transition(struct store *st, const char *id, const char *state,
    const char *actor, const char *note, int64_t at_ms)
{
	sqlite3_stmt	*s = st->stmt[S_ALERT_BODY];
	cJSON		*o;
	char		*body;
	int		 rc;

	bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		done(s);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		store_fail(st, "alert body");
		done(s);
		return -1;
	}
	o = cJSON_ParseWithLength((const char *)sqlite3_column_text(s, 0),
	    (size_t)sqlite3_column_bytes(s, 0));
	done(s);
	if (!cJSON_IsObject(o)) {
		log_warnx("store: alert %s: stored body is not a JSON object", id);
		cJSON_Delete(o);
		return -1;
	}
	if ((body = print_with_state(o, state)) == NULL) {
		log_warnx("store: alert %s: cannot print JSON", id);
		return -1;
	}
	rc = update_alert(st, id, state, body, at_ms, actor, note);
	cJSON_free(body);
	return rc;
}

int
store_alert_transition(struct store *st, const char *id, const char *state,
    const char *actor, const char *note, int64_t at_ms)
{
	int	 own;

	if (id == NULL || state == NULL) {
		log_warnx("store: alert transition: no id or state");
		return -1;
	}
	if (op_start(st, &own) == -1)
		return -1;
	return op_end(st, own, transition(st, id, state, actor, note, at_ms));
}

/*
 * The stored record of alert a's id, as a would store it: a's fields with
 * the stored lifecycle state, or "open" again for a retracted one. NULL if
 * there is no such alert (or on error); *state gets the stored state.
 */
static char *
refreshed_body(struct store *st, const struct alert *a, char **stored,
    char *state, size_t statelen)
{
	sqlite3_stmt	*s = st->stmt[S_ALERT_BODY];
	cJSON		*old;
	const char	*was;

	*stored = NULL;
	bind_text(s, 1, a->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		done(s);
		return NULL;
	}
	*stored = xstrdup((const char *)sqlite3_column_text(s, 0));
	done(s);
	old = cJSON_Parse(*stored);
	was = json_str(old, "state");
	snprintf(state, statelen, "%s", was && strcmp(was, "retracted") != 0 ?
	    was : "open");
	cJSON_Delete(old);
	return print_with_state(cJSON_Duplicate(a->json, 1), state);
}

static int
refresh(struct store *st, const struct alert *a, const char *note,
    int64_t at_ms, int noutputs)
{
	char		*stored, *body, state[32];
	int		 rc;

	if ((body = refreshed_body(st, a, &stored, state, sizeof(state))) == NULL ||
	    strcmp(body, stored) == 0) {
		cJSON_free(body);
		free(stored);
		return 0;
	}
	free(stored);
	rc = update_alert(st, a->id, state, body, at_ms, "complyd", note);
	cJSON_free(body);
	if (rc == -1 || store_alert_requeue(st, a->id, noutputs) == -1)
		return -1;
	return 1;
}

int
store_alert_refresh(struct store *st, const struct alert *a, const char *note,
    int64_t at_ms, int noutputs)
{
	int	 own;

	if (a->id == NULL || a->json == NULL)
		return -1;
	if (op_start(st, &own) == -1)
		return -1;
	return op_end(st, own, refresh(st, a, note, at_ms, noutputs));
}

/* Returns the number of items filled (0..max), or -1. */
int
store_outbox_due(struct store *st, int out, int64_t now, struct outbox_item *items,
    int max)
{
	sqlite3_stmt	*s = st->stmt[S_OUTBOX_DUE];
	const char	*t;
	int		 n = 0, rc = SQLITE_DONE;

	if (max <= 0)
		return 0;
	sqlite3_bind_int(s, 1, out);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(s, 0);
		items[n].alert_id = xstrdup(t ? t : "");
		t = (const char *)sqlite3_column_text(s, 1);
		items[n].json = xstrdup(t ? t : "");
		items[n].attempts = sqlite3_column_int(s, 2);
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		store_fail(st, "outbox due");
		done(s);
		store_outbox_items_free(items, n);
		return -1;
	}
	done(s);
	return n;
}

void
store_outbox_items_free(struct outbox_item *items, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		free(items[i].alert_id);
		free(items[i].json);
		items[i].alert_id = items[i].json = NULL;
	}
}

/* 0 (also when the entry was already gone) or -1. */
int
store_outbox_done(struct store *st, int out, const char *alert_id,
    const char *sent)
{
	sqlite3_stmt	*s = st->stmt[S_OUTBOX_DONE];

	sqlite3_bind_int(s, 1, out);
	bind_text(s, 2, alert_id);
	bind_text(s, 3, sent);
	return run(st, S_OUTBOX_DONE);
}

/* 0 (also when there is no such entry) or -1; counts the attempt. */
int
store_outbox_retry(struct store *st, int out, const char *alert_id,
    int64_t next_ms)
{
	sqlite3_stmt	*s = st->stmt[S_OUTBOX_RETRY];

	sqlite3_bind_int(s, 1, out);
	bind_text(s, 2, alert_id);
	sqlite3_bind_int64(s, 3, next_ms);
	return run(st, S_OUTBOX_RETRY);
}

int64_t
store_outbox_pending(struct store *st, int out)
{
	sqlite3_bind_int(st->stmt[S_OUTBOX_PENDING], 1, out);
	return scalar(st, S_OUTBOX_PENDING);
}

/* SQLite integers are signed: 64-bit values are stored as their bit pattern. */
int
store_offset_get(struct store *st, const char *path, uint64_t *inode,
    uint64_t *offset)
{
	sqlite3_stmt	*s = st->stmt[S_OFFSET_GET];
	int		 rc;

	bind_text(s, 1, path);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		done(s);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		store_fail(st, "offset get");
		done(s);
		return -1;
	}
	*inode = (uint64_t)sqlite3_column_int64(s, 0);
	*offset = (uint64_t)sqlite3_column_int64(s, 1);
	done(s);
	return 0;
}

int
store_offset_set(struct store *st, const char *path, uint64_t inode,
    uint64_t offset)
{
	sqlite3_stmt	*s = st->stmt[S_OFFSET_SET];

	bind_text(s, 1, path);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)inode);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)offset);
	return run(st, S_OFFSET_SET);
}

int
store_ruleset_loaded(struct store *st, const char *hash, int nrules,
    int64_t at_ms)
{
	sqlite3_stmt	*s = st->stmt[S_RULESET_PUT];

	bind_text(s, 1, hash);
	sqlite3_bind_int(s, 2, nrules);
	sqlite3_bind_int64(s, 3, at_ms);
	return run(st, S_RULESET_PUT);
}

int
store_open_alerts_since(struct store *st, const char *tenant, int64_t since_ms,
    int retracted_too, char ***ids, char ***rules, int64_t **created, int *n)
{
	sqlite3_stmt	*s = st->stmt[retracted_too ? S_ALERT_SAID_SINCE :
			    S_ALERT_OPEN_SINCE];
	const char	*rule;
	int		 rc;

	*ids = *rules = NULL;
	if (created != NULL)
		*created = NULL;
	*n = 0;
	sqlite3_bind_int64(s, 1, since_ms);
	bind_text(s, 2, tenant);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof(char *));
		*rules = xrealloc(*rules, (*n + 1) * sizeof(char *));
		if (created != NULL) {
			*created = xrealloc(*created, (*n + 1) * sizeof(int64_t));
			(*created)[*n] = sqlite3_column_int64(s, 2);
		}
		rule = (const char *)sqlite3_column_text(s, 1);
		(*ids)[*n] = xstrdup((const char *)sqlite3_column_text(s, 0));
		(*rules)[(*n)++] = xstrdup(rule ? rule : "");
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "open alerts");
	done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_alert_requeue(struct store *st, const char *id, int noutputs)
{
	sqlite3_stmt	*s = st->stmt[S_OUTBOX_PUT];
	int		 i;

	for (i = 0; i < noutputs; i++) {
		sqlite3_bind_int(s, 1, store_slot(st, i));
		bind_text(s, 2, id);
		if (run(st, S_OUTBOX_PUT) == -1)
			return -1;
	}
	return 0;
}

/* The step's one integer column, or -1. */
static int
int_row(struct store *st, sqlite3_stmt *s, int *out)
{
	int	 rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	done(s);
	(void)st;
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_output_slot(struct store *st, const char *spec, int position)
{
	sqlite3_stmt	*s;
	int		 slot;

	/*
	 * The first time outputs are mapped (a new database, or one from before
	 * slots whose outbox rows are numbered by position), every output takes
	 * its position; after that a new output gets a slot no row uses.
	 */
	if (st->nslots == 0 && int_row(st, st->stmt[S_SLOT_COUNT], &slot) == 0)
		st->slots_by_position = slot == 0;
	s = st->stmt[S_SLOT_GET];
	bind_text(s, 1, spec);
	if (int_row(st, s, &slot) == -1) {
		if (st->slots_by_position)
			slot = position;
		else if (int_row(st, st->stmt[S_SLOT_NEXT], &slot) == -1)
			return -1;
		s = st->stmt[S_SLOT_PUT];
		bind_text(s, 1, spec);
		sqlite3_bind_int(s, 2, slot);
		if (run(st, S_SLOT_PUT) == -1)
			return -1;
	}
	st->slots = xrealloc(st->slots, (st->nslots + 1) * sizeof(int));
	st->slots[st->nslots++] = slot;
	return slot;
}

long
store_orphan_pending(struct store *st)
{
	sqlite3_stmt	*s;
	long		 n = 0;
	int		 i, slot, mapped;

	if (sqlite3_prepare_v2(st->db, "SELECT output, count(*) FROM outbox"
	    " GROUP BY output", -1, &s, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		slot = sqlite3_column_int(s, 0);
		for (i = 0, mapped = 0; i < st->nslots && !mapped; i++)
			mapped = st->slots[i] == slot;
		if (!mapped)
			n += (long)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return n;
}

int
store_slot(const struct store *st, int position)
{
	return position < st->nslots ? st->slots[position] : position;
}

/* Steps bound statement s (a `SELECT 1 ...`): 1 if it has a row, 0 if not, -1 (logged). */
static int
exists(struct store *st, sqlite3_stmt *s, const char *what)
{
	int	 rc = sqlite3_step(s);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(st, what);
	done(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
store_events_after(struct store *st, const char *tenant, int64_t after_ms,
    int64_t before_seq)
{
	sqlite3_stmt	*s = st->stmt[S_EVENTS_AFTER];

	bind_text(s, 1, tenant);
	sqlite3_bind_int64(s, 2, after_ms);
	sqlite3_bind_int64(s, 3, before_seq);
	return exists(st, s, "events after");
}

int
store_first_load(struct store *st, int64_t *ms)
{
	sqlite3_stmt	*s = st->stmt[S_FIRST_LOAD];
	int		 rc, found = 0;

	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*ms = sqlite3_column_int64(s, 0);
		found = 1;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(st, "first load");
	done(s);
	return found ? 0 : 1;
}

int
store_alerts_each(struct store *st, const struct alert_query *q,
    int (*fn)(void *, const char *id, const char *tenant, const char *body),
    void *arg)
{
	sqlite3_stmt	*s = st->stmt[S_ALERT_QUERY];
	int		 rc;

	bind_text(s, 1, q->status);
	bind_text(s, 2, q->state);
	bind_text(s, 3, q->tenant);
	bind_text(s, 4, q->obligation);
	sqlite3_bind_int64(s, 5, q->since_ms);
	sqlite3_bind_int64(s, 6, q->until_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2)) == -1) {
			rc = SQLITE_DONE;
			break;
		}
	if (rc != SQLITE_DONE)
		store_fail(st, "alerts");
	done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_alert_state(struct store *st, const char *id, char **tenant, char *state,
    size_t slen)
{
	sqlite3_stmt	*s = st->stmt[S_ALERT_STATE];
	int		 rc;

	*tenant = NULL;
	bind_text(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		/* Whole, never cut: a tenant wall compares the entire name. */
		*tenant = xstrdup((const char *)sqlite3_column_text(s, 0));
		snprintf(state, slen, "%s", (const char *)sqlite3_column_text(s, 1));
	} else if (rc != SQLITE_DONE)
		store_fail(st, "alert state");
	done(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
store_alert_history(struct store *st, const char *id,
    void (*fn)(void *, int64_t at_ms, const char *state, const char *actor,
    const char *note), void *arg)
{
	sqlite3_stmt	*s = st->stmt[S_HISTORY_OF];
	int		 rc;

	bind_text(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2),
		    (const char *)sqlite3_column_text(s, 3));
	if (rc != SQLITE_DONE)
		store_fail(st, "alert history");
	done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

char *
store_alert_body(struct store *st, const char *id)
{
	sqlite3_stmt	*s = st->stmt[S_ALERT_BODY];
	char		*body = NULL;
	int		 rc;

	bind_text(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		body = xstrdup((const char *)sqlite3_column_text(s, 0));
	else if (rc != SQLITE_DONE)
		store_fail(st, "alert body");
	done(s);
	return body;
}

int
store_evidence_has(struct store *st, const char *nkey)
{
	sqlite3_stmt	*s = st->stmt[S_EVIDENCE_HAS];

	bind_text(s, 1, nkey);
	return exists(st, s, "evidence has");
}

int
store_evidence_head(struct store *st, int64_t *seq, char *chain, size_t len)
{
	sqlite3_stmt	*s = st->stmt[S_EVIDENCE_HEAD];
	const char	*c;
	int		 rc;

	*seq = 0;
	*chain = '\0';
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		c = (const char *)sqlite3_column_text(s, 1);
		snprintf(chain, len, "%s", c ? c : "");
	} else if (rc != SQLITE_DONE)
		store_fail(st, "evidence head");
	done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_evidence_put(struct store *st, const struct evidence_row *r,
    const char *nkey)
{
	sqlite3_stmt	*s = st->stmt[S_EVIDENCE_PUT];

	sqlite3_bind_int64(s, 1, r->seq);
	sqlite3_bind_int64(s, 2, r->recorded_ms);
	bind_text(s, 3, r->tenant);
	bind_text(s, 4, r->kind);
	bind_text(s, 5, r->body);
	bind_text(s, 6, r->entry_hash);
	bind_text(s, 7, r->chain);
	bind_text(s, 8, nkey);
	return run(st, S_EVIDENCE_PUT);
}

/* Text column i as stored (NULL stays NULL). */
static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int
store_evidence_each(struct store *st, int64_t after_seq,
    int (*fn)(void *, const struct evidence_row *), void *arg)
{
	sqlite3_stmt		*s = st->stmt[S_EVIDENCE_EACH];
	struct evidence_row	 r;
	int			 rc, rv = 0;

	sqlite3_bind_int64(s, 1, after_seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.seq = sqlite3_column_int64(s, 0);
		r.recorded_ms = sqlite3_column_int64(s, 1);
		r.tenant = col_text(s, 2);
		r.kind = col_text(s, 3);
		r.body = col_text(s, 4);
		r.entry_hash = col_text(s, 5);
		r.chain = col_text(s, 6);
		if ((rv = fn(arg, &r)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_fail(st, "evidence each");
	done(s);
	return rv;
}

int
store_rulesets_each(struct store *st, int64_t from_ms, int64_t to_ms,
    void (*fn)(void *, const char *hash, int nrules, int64_t loaded_ms),
    void *arg)
{
	sqlite3_stmt	*s = st->stmt[S_RULESETS_IN];
	int		 rc;

	sqlite3_bind_int64(s, 1, from_ms);
	sqlite3_bind_int64(s, 2, to_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, col_text(s, 0), sqlite3_column_int(s, 1),
		    sqlite3_column_int64(s, 2));
	if (rc != SQLITE_DONE)
		store_fail(st, "rulesets");
	done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_event_counts(struct store *st, int64_t from_ms, int64_t to_ms,
    const char *tenant, void (*fn)(void *, const char *tenant,
    const char *type, int64_t n), void *arg)
{
	sqlite3_stmt	*s = st->stmt[S_EVENT_COUNTS];
	int		 rc;

	sqlite3_bind_int64(s, 1, from_ms);
	sqlite3_bind_int64(s, 2, to_ms);
	bind_text(s, 3, tenant);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, col_text(s, 0), col_text(s, 1), sqlite3_column_int64(s, 2));
	if (rc != SQLITE_DONE)
		store_fail(st, "event counts");
	done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}
