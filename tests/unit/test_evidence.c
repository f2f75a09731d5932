/*
 * test_evidence.c - the evidence log (evidence.h) on a real store: entry
 * hashes and the chain recomputed here independently, canonical bodies,
 * decisions appended once however often a replay makes them, state changes
 * with their entry or not at all, and verification that catches a changed
 * body, a changed entry_hash, a deleted row and two rows swapped -- in the
 * database and in a bundle, where another tenant's bodies may be left out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "complyd/evidence.h"
#include "complyd/log.h"
#include "complyd/when.h"
#include "storefix.h"
#include "testutil.h"

#define AT	1795000000000LL		/* a recorded_at, whole seconds */

static void
hex_sha256(const void *p, size_t n, char out[65])
{
	unsigned char	 md[32];
	int		 i;

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
unhex(const char *s, unsigned char *out)
{
	int	 i;

	for (i = 0; i < 32; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static struct decision
deadline(const char *tenant, const char *key, enum decision_kind kind,
    instant_t at)
{
	struct decision	 d;

	memset(&d, 0, sizeof(d));
	d.kind = kind;
	d.tenant = tenant;
	d.rule = "subcontract.paid-by-due-date";
	d.obligation = "SUBCON-PAY-BY-DUE";
	d.law_version = "toritekiho-2026";
	d.key = key;
	d.at = at;
	d.due = when_date_of(at) + 59;
	d.in_time = 1;
	d.evidence = "evt-1";
	return d;
}

/* Five entries: a rule-set load, then decisions of tenants a and b. */
static void
fill(struct store *st)
{
	struct decision	 d;

	assert_int_equal(evidence_ruleset_loaded(st, "abc123", 42, AT), 0);
	d = deadline("a", "C-1", DECISION_OPENED, I("2026-05-01T10:00:00+09:00"));
	assert_int_equal(evidence_decision(st, &d, AT), 1);
	d = deadline("b", "C-2", DECISION_OPENED, I("2026-05-02T10:00:00+09:00"));
	assert_int_equal(evidence_decision(st, &d, AT + 1000), 1);
	d = deadline("a", "C-1", DECISION_CLOSED, I("2026-05-20T10:00:00+09:00"));
	assert_int_equal(evidence_decision(st, &d, AT + 2000), 1);
	d = deadline("b", "C-2", DECISION_CLOSED, I("2026-08-20T10:00:00+09:00"));
	d.in_time = 0;
	assert_int_equal(evidence_decision(st, &d, AT + 3000), 1);
}

static void
verify_ok(struct store *st, int64_t entries)
{
	struct evidence_verdict	 v;

	assert_int_equal(evidence_verify(st, &v), 0);
	if (!v.ok)
		fail_msg("entry %lld: %s", (long long)v.first_bad_seq, v.reason);
	assert_int_equal(v.entries, entries);
}

static void
verify_bad(struct store *st, int64_t seq, const char *why)
{
	struct evidence_verdict	 v;

	assert_int_equal(evidence_verify(st, &v), 0);
	assert_false(v.ok);
	assert_int_equal(v.first_bad_seq, seq);
	if (strstr(v.reason, why) == NULL)
		fail_msg("reason \"%s\" does not say \"%s\"", v.reason, why);
}

static void
raw_exec(const struct fixture *f, const char *sql)
{
	sqlite3	*db = raw_open(f);

	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* entry_hash = SHA-256(body), chain = SHA-256(prev || entry_hash), prev of the first 0. */
static void
test_chain_computed(void **state)
{
	struct fixture		*f = *state;
	struct store		*st = open_ok(f);
	struct evidence_verdict	 v;
	sqlite3			*db;
	sqlite3_stmt		*s;
	unsigned char		 buf[64];
	char			 hex[65], chain[65] = "";
	int64_t			 n = 0;

	fill(st);
	db = raw_open(f);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, body, entry_hash, "
	    "chain FROM evidence ORDER BY seq", -1, &s, NULL), SQLITE_OK);
	memset(buf, 0, sizeof(buf));
	while (sqlite3_step(s) == SQLITE_ROW) {
		assert_int_equal(sqlite3_column_int64(s, 0), ++n);
		hex_sha256(sqlite3_column_text(s, 1), (size_t)sqlite3_column_bytes(s,
		    1), hex);
		assert_string_equal(hex, (const char *)sqlite3_column_text(s, 2));
		unhex(hex, buf + 32);
		hex_sha256(buf, 64, chain);
		assert_string_equal(chain, (const char *)sqlite3_column_text(s, 3));
		unhex(chain, buf);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	assert_int_equal(n, 5);
	assert_int_equal(evidence_verify(st, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.entries, 5);
	assert_string_equal(v.head, chain);
	store_close(st);
}

/* Keys sorted at every depth, no whitespace, the entry's own fields in. */
static void
test_canonical_body(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);
	sqlite3		*db;
	sqlite3_stmt	*s;
	char		 ts[32], want[512];

	assert_int_equal(evidence_ruleset_loaded(st, "abc123", 42, AT), 0);
	store_close(st);
	snprintf(want, sizeof(want), "{\"kind\":\"ruleset.loaded\",\"recorded_at\":"
	    "\"%s\",\"rules\":42,\"rules_sha256\":\"abc123\",\"seq\":1,"
	    "\"tenant\":null}", when_fmt_instant(AT, ts));
	db = raw_open(f);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT body, tenant FROM evidence",
	    -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), want);
	assert_int_equal(sqlite3_column_type(s, 1), SQLITE_NULL);
	sqlite3_finalize(s);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM rulesets"), 1);
	sqlite3_close(db);
}

/* A replay makes the same decisions again: each is chained once. */
static void
test_decision_idempotent(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);
	struct decision	 d = deadline("a", "C-1", DECISION_OPENED,
			    I("2026-05-01T10:00:00+09:00"));
	sqlite3		*db;

	assert_int_equal(evidence_decision(st, &d, AT), 1);
	assert_int_equal(evidence_decision(st, &d, AT + 5000), 0);
	store_close(st);
	st = open_ok(f);
	assert_int_equal(evidence_decision(st, &d, AT + 9000), 0);
	/* Another tenant's same key, another time, a scope: other decisions. */
	d.tenant = "b";
	assert_int_equal(evidence_decision(st, &d, AT), 1);
	d.at += 1000;
	assert_int_equal(evidence_decision(st, &d, AT), 1);
	d.scope = "F-1";
	assert_int_equal(evidence_decision(st, &d, AT), 1);
	d.kind = DECISION_CLOSED;
	assert_int_equal(evidence_decision(st, &d, AT), 1);
	assert_int_equal(evidence_decision(st, &d, AT), 0);
	/* Rules reloaded with another term: the due moved, a new decision. */
	d.kind = DECISION_OPENED;
	d.due += 30;
	assert_int_equal(evidence_decision(st, &d, AT), 1);
	/* And under another law version. */
	d.law_version = "shitauke";
	assert_int_equal(evidence_decision(st, &d, AT), 1);
	assert_int_equal(evidence_decision(st, &d, AT), 0);
	verify_ok(st, 7);
	store_close(st);
	db = raw_open(f);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM evidence WHERE kind = "
	    "'deadline.met' AND body LIKE '%\"scope\":\"F-1\"%'"), 1);
	sqlite3_close(db);
}

/* An alert is raised with its entry once; moved with an entry, or not at all. */
static void
test_alert_entries(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);
	struct alert	 a;
	sqlite3		*db;

	make_alert(&a, "a-1", "acme", "C-1", I("2026-06-29T00:00:00+09:00"));
	assert_int_equal(evidence_put_alert(st, &a, 1, AT), 1);
	assert_int_equal(evidence_put_alert(st, &a, 1, AT + 1000), 0);
	assert_int_equal(evidence_alert_transition(st, "a-1", "acknowledged",
	    "mgr", "on it", AT + 2000), 0);
	assert_int_equal(evidence_alert_transition(st, "a-nope", "acknowledged",
	    "mgr", NULL, AT + 2000), 1);
	/* The same record raised again changes nothing: no entry either. */
	assert_int_equal(evidence_alert_refresh(st, &a, "replayed", AT + 3000, 1), 0);
	cJSON_ReplaceItemInObject(a.json, "key", cJSON_CreateString("C-1b"));
	a.key = cJSON_GetObjectItem(a.json, "key")->valuestring;
	assert_int_equal(evidence_alert_refresh(st, &a, "replayed", AT + 3000, 1), 1);
	cJSON_Delete(a.json);
	verify_ok(st, 3);
	store_close(st);
	db = raw_open(f);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM evidence WHERE kind = "
	    "'alert.raised' AND tenant = 'acme' AND body LIKE '%\"alert\":\"a-1\"%'"
	    " AND body LIKE '%\"obligation\":\"SUBCON-PAY-BY-DUE\"%'"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM evidence WHERE kind = "
	    "'alert.state' AND body LIKE '%\"actor\":\"mgr\"%' AND body LIKE "
	    "'%\"note\":\"on it\"%' AND body LIKE '%\"previous\":\"open\"%' AND "
	    "body LIKE '%\"state\":\"acknowledged\"%'"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM evidence WHERE kind = "
	    "'alert.state' AND body LIKE '%\"actor\":\"complyd\"%' AND body LIKE "
	    "'%\"previous\":\"acknowledged\"%'"), 1);
	sqlite3_close(db);
}

/* No state change stands without its entry: a failed append undoes it. */
static void
test_no_change_without_evidence(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);
	struct alert	 a;
	char		*tenant, st8[32];

	make_alert(&a, "a-1", "acme", "C-1", I("2026-06-29T00:00:00+09:00"));
	assert_int_equal(evidence_put_alert(st, &a, 1, AT), 1);
	/* A head that is not a hash: nothing can be chained onto it. */
	raw_exec(f, "UPDATE evidence SET chain = 'garbage'");
	assert_int_equal(evidence_alert_transition(st, "a-1", "acknowledged",
	    "mgr", NULL, AT), -1);
	assert_int_equal(store_alert_state(st, "a-1", &tenant, st8, sizeof(st8)), 1);
	assert_string_equal(st8, "open");
	free(tenant);
	cJSON_Delete(a.json);
	make_alert(&a, "a-2", "acme", "C-2", I("2026-06-29T00:00:00+09:00"));
	assert_int_equal(evidence_put_alert(st, &a, 1, AT), -1);
	assert_null(store_alert_body(st, "a-2"));
	cJSON_Delete(a.json);
	store_close(st);
}

static void
test_verify_body_changed(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);

	fill(st);
	raw_exec(f, "UPDATE evidence SET body = replace(body, 'C-2', 'C-9') WHERE seq = 3");
	verify_bad(st, 3, "body does not hash");
	store_close(st);
}

/* A body rewritten with its entry_hash to match: the chain gives it away. */
static void
test_verify_entry_hash_changed(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);
	sqlite3		*db;
	sqlite3_stmt	*s;
	char		 body[1024], hex[65], sql[1200];

	fill(st);
	db = raw_open(f);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT replace(body, 'C-1', 'C-7') "
	    "FROM evidence WHERE seq = 4", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(body, sizeof(body), "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	hex_sha256(body, strlen(body), hex);
	sqlite3_close(db);
	snprintf(sql, sizeof(sql), "UPDATE evidence SET body = replace(body, 'C-1', "
	    "'C-7'), entry_hash = '%s' WHERE seq = 4", hex);
	raw_exec(f, sql);
	verify_bad(st, 4, "chain does not follow");
	store_close(st);
}

static void
test_verify_row_deleted(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);

	fill(st);
	raw_exec(f, "DELETE FROM evidence WHERE seq = 2");
	verify_bad(st, 2, "missing or out of place");
	store_close(st);
}

/* Two rows swapped, seq and all: the chain breaks at the first. */
static void
test_verify_rows_swapped(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = open_ok(f);

	fill(st);
	raw_exec(f, "UPDATE evidence SET seq = -2 WHERE seq = 2;"
	    "UPDATE evidence SET seq = 2 WHERE seq = 3;"
	    "UPDATE evidence SET seq = 3 WHERE seq = -2;");
	verify_bad(st, 2, "seq, kind, tenant");
	/* Their bodies renumbered too: still the chain. */
	raw_exec(f, "UPDATE evidence SET body = replace(body, '\"seq\":3', '\"seq\":2')"
	    " WHERE seq = 2");
	verify_bad(st, 2, "body does not hash");
	store_close(st);
}

/* --- bundles --- */

struct bundle_ctx {
	FILE		*f;
	const char	*hide;		/* a tenant whose bodies are left out */
};

static int
bundle_row(void *arg, const struct evidence_row *r)
{
	struct bundle_ctx	*x = arg;
	struct sbuf		 b;

	sbuf_init(&b);
	evidence_bundle_line(&b, r, x->hide && r->tenant &&
	    strcmp(r->tenant, x->hide) == 0);
	fputs(b.s, x->f);
	sbuf_free(&b);
	return 0;
}

/* The bundle of st, bodies of tenant hide left out, in a temporary file. */
static FILE *
bundle(struct store *st, const char *hide)
{
	struct bundle_ctx	 x = { tmpfile(), hide };
	struct sbuf		 b;
	char			 head[65];
	char			*visible[] = { "a", NULL };
	int64_t			 n;

	assert_non_null(x.f);
	assert_int_equal(store_evidence_head(st, &n, head, sizeof(head)), 0);
	sbuf_init(&b);
	/* Hiding b's bodies is the export for a token of tenant a. */
	evidence_bundle_header(&b, n, head, hide ? visible : NULL, AT);
	fputs(b.s, x.f);
	sbuf_free(&b);
	assert_int_equal(store_evidence_each(st, 0, bundle_row, &x), 0);
	rewind(x.f);
	return x.f;
}

/* The bundle f with line `line` (1: the header) edited by fn. */
static FILE *
edit(FILE *f, int line, void (*fn)(char *))
{
	FILE	*out = tmpfile();
	char	 buf[8192];
	int	 n = 0;

	while (fgets(buf, sizeof(buf), f) != NULL)
		if (++n != line || fn != NULL) {
			if (n == line)
				fn(buf);
			fputs(buf, out);
		}
	fclose(f);
	rewind(out);
	return out;
}

static void
body_tamper(char *line)
{
	char	*p = strstr(line, "C-1");

	assert_non_null(p);
	p[2] = '8';
}

static void
bundle_check(FILE *f, int ok, int64_t seq, const char *why)
{
	struct evidence_verdict	 v;

	assert_int_equal(evidence_bundle_verify(f, &v), 0);
	fclose(f);
	if (ok && !v.ok)
		fail_msg("entry %lld: %s", (long long)v.first_bad_seq, v.reason);
	assert_int_equal(v.ok, ok);
	if (!ok) {
		assert_int_equal(v.first_bad_seq, seq);
		if (strstr(v.reason, why) == NULL)
			fail_msg("reason \"%s\" does not say \"%s\"", v.reason, why);
	}
}

/* The header as if exported for every tenant (then nothing may be redacted). */
static void
header_all(char *line)
{
	char	*p = strstr(line, "\"tenants\":[\"a\"]");

	assert_non_null(p);
	/* "tenants":["a"] (15 bytes) becomes "tenants":null (14). */
	memmove(p + 14, p + 15, strlen(p + 15) + 1);
	memcpy(p, "\"tenants\":null", 14);
}

/* A redacted line that drops "redacted": true. */
static void
unmark(char *line)
{
	char	*p = strstr(line, ",\"redacted\":true");

	assert_non_null(p);
	memmove(p, p + 16, strlen(p + 16) + 1);
}

/* Whether f holds text s anywhere (f is rewound). */
static int
holds(FILE *f, const char *s)
{
	char	 buf[8192];
	int	 found = 0;

	while (!found && fgets(buf, sizeof(buf), f) != NULL)
		found = strstr(buf, s) != NULL;
	rewind(f);
	return found;
}

static void
test_bundle(void **state)
{
	struct fixture		*f = *state;
	struct store		*st = open_ok(f);
	struct evidence_verdict	 v;
	FILE			*b;

	fill(st);
	assert_int_equal(evidence_verify(st, &v), 0);
	bundle_check(bundle(st, NULL), 1, 0, NULL);
	/* b's bodies left out: the chain still holds on their entry hashes. */
	bundle_check(bundle(st, "b"), 1, 0, NULL);
	/* Entry 2 (line 3) is a's: its body changed. */
	bundle_check(edit(bundle(st, "b"), 3, body_tamper), 0, 2, "body does not hash");
	/* A line dropped in the middle, or at the end. */
	bundle_check(edit(bundle(st, NULL), 4, NULL), 0, 3, "missing or out of place");
	bundle_check(edit(bundle(st, NULL), 6, NULL), 0, 5, "header says 5");
	bundle_check(edit(bundle(st, NULL), 1, NULL), 0, 0, "not a complyd evidence");
	/* A redacted line names neither the other tenant nor what happened. */
	b = bundle(st, "b");
	assert_true(holds(b, "\"redacted\":true"));
	assert_false(holds(b, "\"tenant\":\"b\""));
	fclose(b);
	/* Redaction only where the header's tenants leave some out, and said. */
	bundle_check(edit(bundle(st, "b"), 1, header_all), 0, 3, "exported for every tenant");
	bundle_check(edit(bundle(st, "b"), 4, unmark), 0, 3, "line 4 is not an evidence entry");
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_computed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canonical_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decision_idempotent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_alert_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_change_without_evidence,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_body_changed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_entry_hash_changed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_row_deleted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_rows_swapped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bundle, setup, teardown),
	};

	log_init("test_evidence", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
