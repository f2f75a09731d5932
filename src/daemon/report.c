/*
 * report.c - the evidence report an auditor pulls (DESIGN: what was checked,
 * when, under which rule version, and what became of every alert): for a
 * period, the rule sets that judged it, the events checked per tenant and type,
 * each alert raised with its lifecycle history, and the evidence log's head.
 * Built once as JSON; CSV and HTML are renderings of that JSON, so the three
 * formats cannot disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/evidence.h"
#include "complyd/store.h"
#include "complyd/when.h"
#include "http_int.h"

/* Alerts in one report at most (as GET /v1/alerts); past it "truncated". */
#define REPORT_ALERTS_MAX	100000

static void
add_instant(cJSON *o, const char *name, int64_t ms)
{
	char	 ts[32];

	if (ms == INSTANT_MIN || ms == INSTANT_MAX)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, when_fmt_instant(ms, ts));
}

struct build {
	struct store			*st;
	const struct report_query	*q;
	cJSON				*rulesets, *events, *alerts;
	int64_t				 nevents;
	long				 nalerts;
	int				 truncated;
};

static void
ruleset_one(void *arg, const char *hash, int nrules, int64_t loaded_ms)
{
	struct build	*x = arg;
	cJSON		*last = cJSON_GetArrayItem(x->rulesets,
			    cJSON_GetArraySize(x->rulesets) - 1), *o;
	const char	*prev;

	/* A restart loads the same set again: one row per set in force. */
	prev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last,
	    "rules_sha256"));
	if (prev != NULL && hash != NULL && strcmp(prev, hash) == 0)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "rules_sha256", hash ? hash : "");
	cJSON_AddNumberToObject(o, "rules", nrules);
	add_instant(o, "loaded_at", loaded_ms);
	cJSON_AddItemToArray(x->rulesets, o);
}

static void
events_one(void *arg, const char *tenant, const char *type, int64_t n)
{
	struct build	*x = arg;
	cJSON		*o;

	if (tenant == NULL || !may_see(x->q->who, tenant))
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "tenant", tenant);
	cJSON_AddStringToObject(o, "type", type ? type : "");
	cJSON_AddNumberToObject(o, "count", (double)n);
	cJSON_AddItemToArray(x->events, o);
	x->nevents += n;
}

static int
alert_one(void *arg, const char *id, const char *tenant, const char *body)
{
	struct build	*x = arg;
	cJSON		*o;

	if (!may_see(x->q->who, tenant))
		return 0;
	if (x->nalerts == REPORT_ALERTS_MAX) {
		x->truncated = 1;
		return -1;
	}
	if ((o = alert_with_history(x->st, id, body)) != NULL) {
		cJSON_AddItemToArray(x->alerts, o);
		x->nalerts++;
	}
	return 0;
}

cJSON *
report_build(struct store *st, const struct report_query *q, int64_t now_ms)
{
	struct build		 x = { st, q, NULL, NULL, NULL, 0, 0, 0 };
	struct alert_query	 aq;
	cJSON			*o = cJSON_CreateObject(), *p, *log;
	char			 head[EVIDENCE_HEX];
	int64_t			 entries;
	int			 rc;

	cJSON_AddStringToObject(o, "report", "evidence");
	add_instant(o, "generated_at", now_ms);
	p = cJSON_AddObjectToObject(o, "period");
	add_instant(p, "from", q->from_ms);
	add_instant(p, "to", q->to_ms);
	if (q->tenant)
		cJSON_AddStringToObject(o, "tenant", q->tenant);
	else
		cJSON_AddNullToObject(o, "tenant");
	x.rulesets = cJSON_AddArrayToObject(o, "rulesets");
	x.events = cJSON_AddArrayToObject(o, "events");
	x.alerts = cJSON_AddArrayToObject(o, "alerts");
	memset(&aq, 0, sizeof(aq));
	aq.tenant = q->tenant;
	aq.since_ms = q->from_ms;
	aq.until_ms = q->to_ms;
	/*
	 * Events are judged when they arrive (and again by each reload's
	 * replay): the sets that judged the period's events are the one in
	 * force at its start and every one loaded since, up to now.
	 */
	rc = store_rulesets_each(st, q->from_ms, now_ms + 1, ruleset_one, &x);
	if (rc == 0)
		rc = store_event_counts(st, q->from_ms, q->to_ms, q->tenant,
		    events_one, &x);
	if (rc == 0)
		rc = store_alerts_each(st, &aq, alert_one, &x);
	if (rc == 0)
		rc = store_evidence_head(st, &entries, head, sizeof(head));
	if (rc == -1) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddNumberToObject(o, "events_total", (double)x.nevents);
	cJSON_AddNumberToObject(o, "alerts_total", (double)x.nalerts);
	cJSON_AddBoolToObject(o, "truncated", x.truncated);
	log = cJSON_AddObjectToObject(o, "evidence_log");
	cJSON_AddNumberToObject(log, "entries", (double)entries);
	cJSON_AddStringToObject(log, "head", head);
	return o;
}

/* --- renderings --- */

static const char *
str_of(const cJSON *o, const char *name)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
	    name));

	return v ? v : "";
}

/* The alert's evidence event ids, space-separated. */
static void
evidence_ids(struct sbuf *b, const cJSON *alert)
{
	const cJSON	*it;
	int		 n = 0;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(alert, "evidence"))
		if (cJSON_IsString(it))
			sbuf_printf(b, "%s%s", n++ ? " " : "", it->valuestring);
}

/* One history entry as "AT STATE by ACTOR: NOTE". */
static void
history_text(struct sbuf *b, const cJSON *h)
{
	sbuf_printf(b, "%s %s", str_of(h, "at"), str_of(h, "state"));
	if (*str_of(h, "actor"))
		sbuf_printf(b, " by %s", str_of(h, "actor"));
	if (*str_of(h, "note"))
		sbuf_printf(b, ": %s", str_of(h, "note"));
}

/*
 * RFC 4180: a field with a comma, quote or line break is quoted, quotes
 * doubled. A field that a spreadsheet would take for a formula (=, +, -, @,
 * tab, CR first: a contract id from an ingested event, say) gets a leading
 * apostrophe, so opening the report runs nothing (OWASP "CSV injection").
 */
static void
csv_field(struct sbuf *b, const char *v, int last)
{
	const char	*p;

	if (*v != '\0' && strchr("=+-@\t\r", *v) != NULL)
		sbuf_add(b, "'", 1);
	if (strpbrk(v, ",\"\r\n") == NULL)
		sbuf_puts(b, v);
	else {
		sbuf_add(b, "\"", 1);
		for (p = v; *p; p++) {
			if (*p == '"')
				sbuf_add(b, "\"", 1);
			sbuf_add(b, p, 1);
		}
		sbuf_add(b, "\"", 1);
	}
	sbuf_puts(b, last ? "\r\n" : ",");
}

static const char *const alert_columns[] = { "id", "tenant", "time", "rule",
	"obligation", "law", "law_version", "article", "severity", "status",
	"key", NULL };

void
report_csv(struct sbuf *b, const cJSON *rep)
{
	const cJSON	*a, *h;
	struct sbuf	 f;
	int		 i, n;

	for (i = 0; alert_columns[i]; i++)
		csv_field(b, alert_columns[i], 0);
	csv_field(b, "evidence", 0);
	csv_field(b, "state", 0);
	csv_field(b, "history", 1);
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rep, "alerts")) {
		for (i = 0; alert_columns[i]; i++)
			csv_field(b, str_of(a, alert_columns[i]), 0);
		sbuf_init(&f);
		evidence_ids(&f, a);
		csv_field(b, f.s ? f.s : "", 0);
		sbuf_free(&f);
		csv_field(b, str_of(a, "state"), 0);
		sbuf_init(&f);
		n = 0;
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(a, "history")) {
			if (n++)
				sbuf_puts(&f, " | ");
			history_text(&f, h);
		}
		csv_field(b, f.s ? f.s : "", 1);
		sbuf_free(&f);
	}
}

/* Text into HTML: the five characters that could open markup are escaped. */
static void
html_text(struct sbuf *b, const char *v)
{
	for (; *v; v++)
		switch (*v) {
		case '&': sbuf_puts(b, "&amp;"); break;
		case '<': sbuf_puts(b, "&lt;"); break;
		case '>': sbuf_puts(b, "&gt;"); break;
		case '"': sbuf_puts(b, "&quot;"); break;
		case '\'': sbuf_puts(b, "&#39;"); break;
		default: sbuf_add(b, v, 1);
		}
}

/* <tr> of cells, escaped; th: header cells. */
static void
html_row(struct sbuf *b, const char *const *cells, int n, int th)
{
	int	 i;

	sbuf_puts(b, "<tr>");
	for (i = 0; i < n; i++) {
		sbuf_puts(b, th ? "<th>" : "<td>");
		html_text(b, cells[i] ? cells[i] : "");
		sbuf_puts(b, th ? "</th>" : "</td>");
	}
	sbuf_puts(b, "</tr>\n");
}

static void
html_alert(struct sbuf *b, const cJSON *a)
{
	const char	*cells[13];
	const cJSON	*h;
	struct sbuf	 f;
	int		 i;

	sbuf_init(&f);
	evidence_ids(&f, a);
	for (i = 0; alert_columns[i]; i++)
		cells[i] = str_of(a, alert_columns[i]);
	cells[i++] = f.s;
	cells[i++] = str_of(a, "state");
	html_row(b, cells, i, 0);
	sbuf_free(&f);
	/* The history under its alert, one line per change. */
	sbuf_printf(b, "<tr class=\"history\"><td colspan=\"%d\"><ul>", i);
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(a, "history")) {
		sbuf_init(&f);
		history_text(&f, h);
		sbuf_puts(b, "<li>");
		html_text(b, f.s ? f.s : "");
		sbuf_puts(b, "</li>");
		sbuf_free(&f);
	}
	sbuf_puts(b, "</ul></td></tr>\n");
}

/* The field as text: a string as it is, a number in decimal, else "". */
static const char *
cell_text(const cJSON *o, const char *name, char buf[32])
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsNumber(v)) {
		snprintf(buf, 32, "%.0f", v->valuedouble);
		return buf;
	}
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* A table of the objects of array, one column per name. */
static void
html_table(struct sbuf *b, const cJSON *array, const char *const *cols, int n)
{
	const char	*cells[4];
	const cJSON	*it;
	char		 bufs[4][32];
	int		 i;

	sbuf_puts(b, "<table>\n");
	html_row(b, cols, n, 1);
	cJSON_ArrayForEach(it, array) {
		for (i = 0; i < n; i++)
			cells[i] = cell_text(it, cols[i], bufs[i]);
		html_row(b, cells, n, 0);
	}
	sbuf_puts(b, "</table>\n");
}

void
report_html(struct sbuf *b, const cJSON *rep)
{
	static const char *const rs_cols[] = { "rules_sha256", "rules", "loaded_at" };
	static const char *const ev_cols[] = { "tenant", "type", "count" };
	const char	*cells[13];
	const cJSON	*it, *p = cJSON_GetObjectItemCaseSensitive(rep, "period");
	const cJSON	*log = cJSON_GetObjectItemCaseSensitive(rep, "evidence_log");
	char		 n[32];
	int		 i;

	sbuf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>complyd evidence report</title><style>"
	    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
	    "margin-bottom:2em}th,td{border:1px solid #999;padding:2px 6px;"
	    "text-align:left;vertical-align:top}tr.history td{border-top:none;"
	    "font-size:90%;color:#333}</style></head><body>\n"
	    "<h1>Evidence report</h1>\n<p>Period: ");
	html_text(b, *str_of(p, "from") ? str_of(p, "from") : "the beginning");
	sbuf_puts(b, " to ");
	html_text(b, *str_of(p, "to") ? str_of(p, "to") : "now");
	sbuf_puts(b, "; tenant: ");
	html_text(b, *str_of(rep, "tenant") ? str_of(rep, "tenant") : "all visible");
	sbuf_puts(b, "; generated at ");
	html_text(b, str_of(rep, "generated_at"));
	sbuf_puts(b, ".</p>\n<h2>Rule sets that judged the period</h2>\n");
	html_table(b, cJSON_GetObjectItemCaseSensitive(rep, "rulesets"), rs_cols, 3);
	sbuf_puts(b, "<h2>Events checked</h2>\n");
	html_table(b, cJSON_GetObjectItemCaseSensitive(rep, "events"), ev_cols, 3);
	sbuf_puts(b, "<h2>Alerts raised</h2>\n<table>\n");
	for (i = 0; alert_columns[i]; i++)
		cells[i] = alert_columns[i];
	cells[i++] = "evidence";
	cells[i++] = "state";
	html_row(b, cells, i, 1);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "alerts"))
		html_alert(b, it);
	sbuf_puts(b, "</table>\n");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "truncated")))
		sbuf_puts(b, "<p><strong>Truncated: narrow the period to see every "
		    "alert.</strong></p>\n");
	sbuf_puts(b, "<h2>Evidence log</h2>\n<p>Entries: ");
	html_text(b, cell_text(log, "entries", n));
	sbuf_puts(b, "; head (the last chain hash): <code>");
	html_text(b, str_of(log, "head"));
	sbuf_puts(b, "</code></p>\n</body></html>\n");
}
