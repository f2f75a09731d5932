/*
 * test_metastream.c - the streaming metadata reader (metastream.h). Each
 * case writes one file to a mkdtemp directory, streams it with stderr
 * captured and compares, as text, every record delivered ("KIND LINE:COL
 * JSON") and every error printed ("F:LINE:COL: error: ...", F the file), the
 * error count and the return value. Then: the callback stopping early, a
 * missing file, and 200,000 records streamed with flat peak memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "complyd/metastream.h"
#include "complyd/util.h"


/* ---- a temp file, streamed with stderr captured ---- */

struct tfile {
	char	dir[64];
	char	path[128];
};

static void
tfile_write(struct tfile *t, const char *text)
{
	FILE *f;

	snprintf(t->dir, sizeof(t->dir), "/tmp/test_metastream.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/meta.yaml", t->dir);
	assert_non_null(f = fopen(t->path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
tfile_remove(struct tfile *t)
{
	assert_int_equal(unlink(t->path), 0);
	assert_int_equal(rmdir(t->dir), 0);
}

/* What the callback saw: one "KIND LINE:COL JSON" line per record. */
struct seen {
	struct sbuf	out;
	int		n;
	int		stop_after;	/* > 0: return -1 at that record */
};

static int
collect(void *arg, int kind, cJSON *rec, int line, int col)
{
	struct seen	*s = arg;
	char		*js = cJSON_PrintUnformatted(rec);

	sbuf_printf(&s->out, "%d %d:%d %s\n", kind, line, col, js);
	free(js);
	cJSON_Delete(rec);
	s->n++;
	return s->stop_after > 0 && s->n == s->stop_after ? -1 : 0;
}

/* Replaces every occurrence of path in s with "F", in place. */
static void
shorten(char *s, const char *path)
{
	size_t	 n = strlen(path);
	char	*p;

	while ((p = strstr(s, path)) != NULL) {
		*p = 'F';
		memmove(p + 1, p + n, strlen(p + n) + 1);
	}
}

/* Streams path with stderr sent to a buffer (*err, free it). */
static int
stream_capture(const char *path, struct seen *s, int *nerr, char **err)
{
	FILE	*tmp = tmpfile();
	long	 n;
	int	 saved, rc;

	assert_non_null(tmp);
	*nerr = 0;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	rc = meta_stream_file(path, collect, s, nerr);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = ftell(tmp);
	*err = calloc(1, n + 1);
	rewind(tmp);
	if (n > 0 && fread(*err, 1, n, tmp) != (size_t)n)
		fail();
	fclose(tmp);
	shorten(*err, path);
	return rc;
}

/* ---- the table ---- */

struct scase {
	const char	*name;
	const char	*text;
	int		 ret;		/* records delivered */
	int		 nerrors;
	const char	*recs;		/* "KIND LINE:COL JSON\n" each */
	const char	*err;		/* stderr, the path shown as F */
};

static const struct scase cases[] = {
{ "one record of each kind, nested mappings and lists",
	"contracts:\n"						/* 1 */
	"  - id: c1\n"						/* 2 */
	"    tenant: acme\n"
	"    principal: { name: Acme, country: JP }\n"
	"    entrustee:\n"					/* 5 */
	"      name: Beta\n"
	"      sub:\n"
	"        - { name: Gamma, level: 2 }\n"
	"    purposes: [billing, support]\n"
	"datasets:\n"						/* 10 */
	"  - id: d1\n"
	"    tenant: acme\n"
	"    purposes:\n"
	"      - marketing\n"
	"      - analytics\n"					/* 15 */
	"facilities:\n"
	"  - { id: f1, tenant: acme, site: { city: Osaka } }\n",
	3, 0,
	"0 2:5 {\"id\":\"c1\",\"tenant\":\"acme\",\"principal\":{\"name\":\"Acme\","
	    "\"country\":\"JP\"},\"entrustee\":{\"name\":\"Beta\",\"sub\":"
	    "[{\"name\":\"Gamma\",\"level\":2}]},\"purposes\":[\"billing\","
	    "\"support\"]}\n"
	"1 11:5 {\"id\":\"d1\",\"tenant\":\"acme\",\"purposes\":[\"marketing\","
	    "\"analytics\"]}\n"
	"2 17:5 {\"id\":\"f1\",\"tenant\":\"acme\",\"site\":{\"city\":\"Osaka\"}}\n",
	"" },
{ "scalar typing follows the YAML 1.2 core schema; quoted is a string",
	"contracts:\n"
	"  - id: c1\n"
	"    tenant: acme\n"
	"    quoted: \"2026-04-01\"\n"
	"    plain: 2026-04-01\n"
	"    amount: 300000000\n"
	"    neg: -1.5\n"
	"    on: true\n"
	"    off: FALSE\n"
	"    none: ~\n"
	"    empty:\n"
	"    zeros: \"007\"\n"
	"    hex: 0x1F\n"
	"    inf: .inf\n"
	"    single: 'true'\n"
	"    block: |\n"
	"      12\n",
	1, 0,
	"0 2:5 {\"id\":\"c1\",\"tenant\":\"acme\",\"quoted\":\"2026-04-01\","
	    "\"plain\":\"2026-04-01\",\"amount\":300000000,\"neg\":-1.5,"
	    "\"on\":true,\"off\":false,\"none\":null,\"empty\":null,"
	    "\"zeros\":\"007\",\"hex\":\"0x1F\",\"inf\":\".inf\","
	    "\"single\":\"true\",\"block\":\"12\\n\"}\n",
	"" },
{ "a later duplicate key wins",
	"datasets:\n"
	"  - { id: d1, tenant: acme, n: 1, n: 2 }\n",
	1, 0,
	"1 2:5 {\"id\":\"d1\",\"tenant\":\"acme\",\"n\":2}\n",
	"" },
{ "a record missing tenant is skipped, the others delivered",
	"contracts:\n"						/* 1 */
	"  - id: c1\n"
	"    tenant: acme\n"
	"  - id: c2\n"						/* 4 */
	"    principal: { name: X }\n"
	"  - id: c3\n"						/* 6 */
	"    tenant: acme\n",
	2, 1,
	"0 2:5 {\"id\":\"c1\",\"tenant\":\"acme\"}\n"
	"0 6:5 {\"id\":\"c3\",\"tenant\":\"acme\"}\n",
	"F:4:5: error: a contract record needs string \"id\" and \"tenant\"\n" },
{ "id must be a non-empty string",
	"facilities:\n"
	"  - { id: 12, tenant: acme }\n"
	"  - { id: \"\", tenant: acme }\n"
	"  - { id: \"12\", tenant: acme }\n",
	1, 2,
	"2 4:5 {\"id\":\"12\",\"tenant\":\"acme\"}\n",
	"F:2:5: error: a facility record needs string \"id\" and \"tenant\"\n"
	"F:3:5: error: a facility record needs string \"id\" and \"tenant\"\n" },
{ "a list item that is not a mapping",
	"datasets:\n"
	"  - just text\n"
	"  - [a, b]\n"
	"  - { id: d1, tenant: acme }\n",
	1, 2,
	"1 4:5 {\"id\":\"d1\",\"tenant\":\"acme\"}\n",
	"F:2:5: error: a dataset record must be a mapping\n"
	"F:3:5: error: a dataset record must be a mapping\n" },
{ "unknown top-level keys, at the key; the rest still read",
	"contract:\n"						/* 1 */
	"  - { id: c0, tenant: acme }\n"
	"contracts:\n"
	"  - { id: c1, tenant: acme }\n"			/* 4 */
	"notes: { a: [1, 2] }\n"				/* 5 */
	"facilities:\n"
	"  - { id: f1, tenant: acme }\n",			/* 7 */
	2, 2,
	"0 4:5 {\"id\":\"c1\",\"tenant\":\"acme\"}\n"
	"2 7:5 {\"id\":\"f1\",\"tenant\":\"acme\"}\n",
	"F:1:1: error: unknown key 'contract' in metadata\n"
	"F:5:1: error: unknown key 'notes' in metadata\n" },
{ "a kind that is not a list",
	"contracts: none\n"
	"datasets: { id: d1, tenant: acme }\n"
	"facilities: []\n",
	0, 2, "",
	"F:1:12: error: contracts must be a list of records\n"
	"F:2:11: error: datasets must be a list of records\n" },
{ "a root that is a list",
	"- id: c1\n"
	"  tenant: acme\n",
	0, 1, "",
	"F:1:1: error: metadata is a mapping of contracts, datasets and "
	    "facilities\n" },
{ "a root that is a scalar",
	"--- hello\n",
	0, 1, "",
	"F:1:5: error: metadata is a mapping of contracts, datasets and "
	    "facilities\n" },
{ "a syntax error mid-file stops reading; earlier records stay",
	"contracts:\n"						/* 1 */
	"  - id: c1\n"
	"    tenant: acme\n"
	"  - id: c2\n"						/* 4 */
	"    tenant: [acme\n"					/* 5 */
	"  - id: c3\n"
	"    tenant: acme\n",
	1, 1,
	"0 2:5 {\"id\":\"c1\",\"tenant\":\"acme\"}\n",
	"F:6:7: error: did not find expected ',' or ']' while parsing a flow "
	    "sequence\n" },
{ "a syntax error in a later list",
	"datasets:\n"
	"  - { id: d1, tenant: acme }\n"
	"facilities:\n"
	"  - { id: f1, tenant: acme\n",
	1, 1,
	"1 2:5 {\"id\":\"d1\",\"tenant\":\"acme\"}\n",
	"F:5:1: error: did not find expected ',' or '}' while parsing a flow "
	    "mapping\n" },
{ "an empty file",
	"", 0, 0, "", "" },
{ "a file of comments only",
	"# nothing yet\n\n", 0, 0, "", "" },
{ "an empty document",
	"---\n...\n", 0, 1, "",
	"F:2:1: error: metadata is a mapping of contracts, datasets and "
	    "facilities\n" },
{ "only the first document is read",
	"contracts:\n"
	"  - { id: c1, tenant: acme }\n"
	"---\n"
	"contracts:\n"
	"  - { id: c2, tenant: acme }\n"
	"  - [unclosed\n",
	1, 0,
	"0 2:5 {\"id\":\"c1\",\"tenant\":\"acme\"}\n",
	"" },
{ "anchors are ignored, aliases are errors",
	"contracts:\n"						/* 1 */
	"  - &base { id: c1, tenant: acme }\n"
	"  - *base\n"						/* 3 */
	"  - id: c2\n"						/* 4 */
	"    tenant: acme\n"
	"    principal: *base\n"				/* 6 */
	"  - { id: c3, tenant: acme, p: &p [1] }\n"		/* 7 */
	"datasets: *p\n",					/* 8 */
	2, 3,
	"0 2:5 {\"id\":\"c1\",\"tenant\":\"acme\"}\n"
	"0 7:5 {\"id\":\"c3\",\"tenant\":\"acme\",\"p\":[1]}\n",
	"F:3:5: error: aliases are not supported in metadata\n"
	"F:6:16: error: aliases are not supported in metadata\n"
	"F:8:11: error: aliases are not supported in metadata\n" },
{ "a complex key is named \"\", as the document loader does",
	"facilities:\n"
	"  - { id: f1, tenant: acme, ? [a, b] : 1 }\n",
	1, 0,
	"2 2:5 {\"id\":\"f1\",\"tenant\":\"acme\",\"\":1}\n",
	"" },
};

/* Nesting: 64 containers in a record are fine, 65 are not. */
static char *
nested_text(void)
{
	struct sbuf	b;
	int		i;

	sbuf_init(&b);
	sbuf_puts(&b, "contracts:\n  - { id: c1, tenant: acme, deep: ");
	for (i = 0; i < 63; i++)		/* the record itself is the 64th */
		sbuf_puts(&b, "[");
	for (i = 0; i < 63; i++)
		sbuf_puts(&b, "]");
	sbuf_puts(&b, " }\n  - { id: c2, tenant: acme, deep: ");
	for (i = 0; i < 64; i++)
		sbuf_puts(&b, "[");
	for (i = 0; i < 64; i++)
		sbuf_puts(&b, "]");
	sbuf_puts(&b, " }\n  - { id: c3, tenant: acme }\n");
	return b.s;
}

static void
run_case(const struct scase *c)
{
	struct tfile	t;
	struct seen	s;
	char		*err;
	int		 nerr, rc;

	memset(&s, 0, sizeof(s));
	sbuf_init(&s.out);
	tfile_write(&t, c->text);
	rc = stream_capture(t.path, &s, &nerr, &err);
	if (strcmp(s.out.s, c->recs) != 0 || strcmp(err, c->err) != 0 ||
	    rc != c->ret || nerr != c->nerrors)
		print_error("case: %s\nrecords:\n%sstderr:\n%s", c->name,
		    s.out.s, err);
	assert_string_equal(s.out.s, c->recs);
	assert_string_equal(err, c->err);
	assert_int_equal(rc, c->ret);
	assert_int_equal(nerr, c->nerrors);
	assert_int_equal(s.n, c->ret);
	free(err);
	sbuf_free(&s.out);
	tfile_remove(&t);
}

static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		run_case(&cases[i]);
}

static void
test_depth(void **state)
{
	char		*text = nested_text();
	struct scase	 c;
	char		 recs[512], deep[256];
	int		 i;

	(void)state;
	for (i = 0; i < 63; i++)
		deep[i] = '[';
	for (; i < 126; i++)
		deep[i] = ']';
	deep[i] = '\0';
	snprintf(recs, sizeof(recs),
	    "0 2:5 {\"id\":\"c1\",\"tenant\":\"acme\",\"deep\":%s}\n"
	    "0 4:5 {\"id\":\"c3\",\"tenant\":\"acme\"}\n", deep);
	c.name = "nesting deeper than 64";
	c.text = text;
	c.ret = 2;
	c.nerrors = 1;
	c.recs = recs;
	c.err = "F:3:98: error: metadata nested deeper than 64 levels\n";
	run_case(&c);
	free(text);
}

static void
test_stop(void **state)
{
	struct tfile	t;
	struct seen	s;
	char		*err;
	int		 nerr;

	(void)state;
	memset(&s, 0, sizeof(s));
	sbuf_init(&s.out);
	s.stop_after = 2;
	tfile_write(&t, "datasets:\n"
	    "  - { id: d1, tenant: a }\n"
	    "  - { id: d2, tenant: a }\n"
	    "  - { id: d3, tenant: a }\n"
	    "  - oops\n");
	assert_int_equal(stream_capture(t.path, &s, &nerr, &err), 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(nerr, 0);
	assert_string_equal(err, "");
	free(err);
	sbuf_free(&s.out);
	tfile_remove(&t);
}

static void
test_missing(void **state)
{
	struct seen	s;
	char		*err;
	int		 nerr;

	(void)state;
	memset(&s, 0, sizeof(s));
	sbuf_init(&s.out);
	assert_int_equal(stream_capture("/nonexistent/meta.yaml", &s, &nerr,
	    &err), -1);
	assert_int_equal(nerr, 1);
	assert_string_equal(err, "F: error: No such file or directory\n");
	assert_int_equal(s.n, 0);
	free(err);
	sbuf_free(&s.out);
}

/* ---- 200,000 records with flat memory ---- */

#define BIG_N	200000

struct count {
	int	n[3];
	int	last_line;
};

static int
count_rec(void *arg, int kind, cJSON *rec, int line, int col)
{
	struct count *c = arg;

	(void)col;
	c->n[kind]++;
	c->last_line = line;
	cJSON_Delete(rec);
	return 0;
}

static void
write_big(const char *path)
{
	FILE	*f = fopen(path, "w");
	int	 i;

	assert_non_null(f);
	fputs("contracts:\n", f);
	for (i = 0; i < BIG_N; i++)
		fprintf(f, "  - id: c%06d\n"
		    "    tenant: t%d\n"
		    "    principal: { name: \"Principal %d\", country: JP }\n"
		    "    purposes: [billing, support]\n"
		    "    amount: %d\n", i, i % 50, i, i * 3);
	assert_int_equal(fclose(f), 0);
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

static void
test_big(void **state)
{
	struct tfile	t;
	struct count	c;
	long		before, after;
	int		nerr = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	tfile_write(&t, "");
	write_big(t.path);
	before = maxrss_kib();
	assert_int_equal(meta_stream_file(t.path, count_rec, &c, &nerr), BIG_N);
	after = maxrss_kib();
	assert_int_equal(nerr, 0);
	assert_int_equal(c.n[0], BIG_N);
	assert_int_equal(c.last_line, 2 + 5 * (BIG_N - 1));
	fprintf(stderr, "test_big: %d records, peak RSS %ld KiB -> %ld KiB "
	    "(+%ld KiB)\n", BIG_N, before, after, after - before);
#ifndef __SANITIZE_ADDRESS__
	/* ASan's quarantine holds freed blocks, so only a plain build measures. */
	assert_true(after - before < 20 * 1024);
#endif
	tfile_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
