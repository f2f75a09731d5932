/*
 * http_evidence.c - the auditor's routes: GET /v1/evidence/verify recomputes
 * the evidence log's chain; GET /v1/evidence/export hands out a bundle to
 * verify offline (`complyctl verify --bundle`), other tenants' bodies left
 * out for a tenant-scoped token; GET /v1/reports/evidence is the evidence
 * report as JSON, CSV or HTML. Roles are checked by http.c's dispatcher;
 * tenants here.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "complyd/evidence.h"
#include "complyd/log.h"
#include "complyd/when.h"
#include "http_int.h"

/* Bundle lines are written out to the spool file in pieces of this size. */
#define SPOOL_CHUNK	(1 << 20)

void
route_evidence_verify(struct reqctx *c)
{
	struct evidence_verdict	 v;
	cJSON			*o;

	if (evidence_verify(c->d->store, &v) == -1) {
		reply_error(c->req, 500, "internal", "the evidence log could not be read");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", v.ok);
	if (v.ok) {
		cJSON_AddNumberToObject(o, "entries", (double)v.entries);
		cJSON_AddStringToObject(o, "head", v.head);
	} else {
		cJSON_AddNumberToObject(o, "first_bad_seq", (double)v.first_bad_seq);
		cJSON_AddStringToObject(o, "reason", v.reason);
	}
	reply_json(c->req, 200, o);
}

/*
 * The bundle is spooled to an unlinked temporary file and sent from there:
 * a log of years does not have to fit in memory.
 */
struct spool {
	struct reqctx	*c;
	FILE		*f;
	struct sbuf	 b;
	int		 failed;
};

static void
spool_flush(struct spool *s)
{
	if (s->b.len > 0 && fwrite(s->b.s, 1, s->b.len, s->f) != s->b.len)
		s->failed = 1;
	s->b.len = 0;
}

static int
spool_entry(void *arg, const struct evidence_row *r)
{
	struct spool	*s = arg;

	/* Global entries (rule-set loads) belong to every auditor. */
	evidence_bundle_line(&s->b, r, r->tenant != NULL &&
	    !may_see(s->c->who, r->tenant));
	if (s->b.len >= SPOOL_CHUNK)
		spool_flush(s);
	return s->failed ? -1 : 0;
}

void
route_evidence_export(struct reqctx *c)
{
	struct spool	 s = { c, NULL, { NULL, 0, 0 }, 0 };
	struct evbuffer	*out;
	char		 head[EVIDENCE_HEX];
	int64_t		 entries;
	long		 size;
	int		 fd;

	if ((s.f = tmpfile()) == NULL) {
		log_warn("evidence export: tmpfile");
		reply_error(c->req, 503, "unavailable", "no room to spool the bundle; retry");
		return;
	}
	sbuf_init(&s.b);
	if (store_evidence_head(c->d->store, &entries, head, sizeof(head)) == -1)
		s.failed = 1;
	else {
		evidence_bundle_header(&s.b, entries, head,
		    c->who->tenants, daemon_now());
		if (store_evidence_each(c->d->store, 0, spool_entry, &s) != 0)
			s.failed = 1;
		spool_flush(&s);
	}
	sbuf_free(&s.b);
	if (s.failed || fflush(s.f) == EOF || (size = ftell(s.f)) < 0 ||
	    (fd = dup(fileno(s.f))) == -1) {
		fclose(s.f);
		reply_error(c->req, 500, "internal", "the evidence log could not be "
		    "exported");
		return;
	}
	fclose(s.f);
	out = evbuffer_new();
	/* The buffer owns fd now (closed once sent); 0 bytes: nothing to add. */
	if (size > 0 && evbuffer_add_file(out, fd, 0, size) == -1) {
		close(fd);	/* not taken by the buffer when it fails */
		evbuffer_free(out);
		reply_error(c->req, 500, "internal", "the bundle could not be sent");
		return;
	}
	if (size == 0)
		close(fd);
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type",
	    "application/x-ndjson");
	evhttp_send_reply(c->req, 200, NULL, out);
	evbuffer_free(out);
}

/* --- GET /v1/reports/evidence --- */

enum report_format { FMT_JSON, FMT_CSV, FMT_HTML };

/* Fills q and *fmt from the query string; NULL, or the message of a 400. */
static const char *
report_params(struct evkeyvalq *kv, struct report_query *q,
    enum report_format *fmt)
{
	struct evkeyval	*p;

	q->from_ms = INSTANT_MIN;
	q->to_ms = INSTANT_MAX;
	q->tenant = NULL;
	*fmt = FMT_JSON;
	TAILQ_FOREACH(p, kv, next) {
		if (strcmp(p->key, "from") == 0) {
			if (when_parse_bound(p->value, 0, &q->from_ms) == -1)
				return "from must be RFC 3339 with an offset, or YYYY-MM-DD";
		} else if (strcmp(p->key, "to") == 0) {
			if (when_parse_bound(p->value, 0, &q->to_ms) == -1)
				return "to must be RFC 3339 with an offset, or YYYY-MM-DD";
		} else if (strcmp(p->key, "tenant") == 0) {
			if (*p->value == '\0')
				return "tenant must not be empty";
			q->tenant = p->value;
		} else if (strcmp(p->key, "format") == 0) {
			if (strcmp(p->value, "json") == 0)
				*fmt = FMT_JSON;
			else if (strcmp(p->value, "csv") == 0)
				*fmt = FMT_CSV;
			else if (strcmp(p->value, "html") == 0)
				*fmt = FMT_HTML;
			else
				return "format must be json, csv or html";
		} else
			return "unknown parameter (from, to, tenant, format)";
	}
	if (q->from_ms >= q->to_ms)
		return "from must be before to";
	return NULL;
}

static void
reply_text(struct evhttp_request *req, const char *type, struct sbuf *b)
{
	struct evbuffer	*out = evbuffer_new();

	evbuffer_add(out, b->s ? b->s : "", b->len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    type);
	evhttp_send_reply(req, 200, NULL, out);
	evbuffer_free(out);
}

void
route_report(struct reqctx *c)
{
	struct evkeyvalq	 kv;
	struct report_query	 q;
	enum report_format	 fmt;
	const char		*bad;
	struct sbuf		 b;
	cJSON			*rep;

	if (evhttp_parse_query(evhttp_request_get_uri(c->req), &kv) == -1) {
		reply_error(c->req, 400, "bad_request", "the query string is malformed");
		return;
	}
	if ((bad = report_params(&kv, &q, &fmt)) != NULL) {
		reply_error(c->req, 400, "bad_request", bad);
		evhttp_clear_headers(&kv);
		return;
	}
	/* Asked by name, another tenant is refused rather than shown empty. */
	if (q.tenant != NULL && !may_see(c->who, q.tenant)) {
		reply_error(c->req, 403, "forbidden", "the token may not see this tenant");
		evhttp_clear_headers(&kv);
		return;
	}
	q.who = c->who;
	rep = report_build(c->d->store, &q, daemon_now());
	evhttp_clear_headers(&kv);
	if (rep == NULL) {
		reply_error(c->req, 500, "internal", "the report could not be read");
		return;
	}
	if (fmt == FMT_JSON) {
		reply_json(c->req, 200, rep);
		return;
	}
	sbuf_init(&b);
	if (fmt == FMT_CSV) {
		report_csv(&b, rep);
		reply_text(c->req, "text/csv; charset=utf-8; header=present", &b);
	} else {
		report_html(&b, rep);
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
		reply_text(c->req, "text/html; charset=utf-8", &b);
	}
	sbuf_free(&b);
	cJSON_Delete(rep);
}
