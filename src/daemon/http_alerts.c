/*
 * http_alerts.c - the alert routes of the HTTP API: GET /v1/alerts lists
 * stored alerts with their lifecycle state and history; POST
 * /v1/alerts/{id}/ack and /resolve move one on, the actor being the token's
 * name. Roles are checked by http.c's dispatcher; tenants here.
 *
 * Lifecycle (DESIGN "The alert record"): open -> acknowledged -> resolved,
 * or open -> resolved. A retracted alert was withdrawn by complyd and is
 * moved by nobody; an alert already in the asked state is a conflict rather
 * than a second history entry.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "complyd/evidence.h"
#include "complyd/log.h"
#include "complyd/store.h"
#include "complyd/util.h"
#include "complyd/when.h"
#include "http_int.h"

#define ALERTS_LIMIT_DEFAULT	10000
#define ALERTS_LIMIT_MAX	100000
#define NOTE_MAX		2000	/* bytes of an ack or resolve note */

static const char *const statuses[] = { "violation", "warning", "review", NULL };
static const char *const states[] = { "open", "acknowledged", "resolved",
    "retracted", NULL };

static int
one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return 1;
	return 0;
}

static void
history_row(void *arg, int64_t at_ms, const char *state, const char *actor,
    const char *note)
{
	cJSON	*h = cJSON_CreateObject();
	char	 ts[32];

	cJSON_AddStringToObject(h, "at", when_fmt_instant(at_ms, ts));
	cJSON_AddStringToObject(h, "state", state ? state : "");
	if (actor)
		cJSON_AddStringToObject(h, "actor", actor);
	else
		cJSON_AddNullToObject(h, "actor");
	if (note)
		cJSON_AddStringToObject(h, "note", note);
	else
		cJSON_AddNullToObject(h, "note");
	cJSON_AddItemToArray(arg, h);
}

cJSON *
alert_with_history(struct store *st, const char *id, const char *body)
{
	cJSON *o = cJSON_Parse(body), *h;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	h = cJSON_AddArrayToObject(o, "history");
	store_alert_history(st, id, history_row, h);
	return o;
}

struct list_ctx {
	struct reqctx	*c;
	cJSON		*list;
	long		 n, limit;
	int		 truncated;
};

static int
list_one(void *arg, const char *id, const char *tenant, const char *body)
{
	struct list_ctx	*x = arg;
	cJSON		*o;

	if (!may_see(x->c->who, tenant))
		return 0;
	if (x->n == x->limit) {
		x->truncated = 1;
		return -1;
	}
	if ((o = alert_with_history(x->c->d->store, id, body)) != NULL) {
		cJSON_AddItemToArray(x->list, o);
		x->n++;
	}
	return 0;
}

/* Fills q and *limit from the query string; NULL, or the message of a 400. */
static const char *
alert_query(struct evkeyvalq *kv, struct alert_query *q, long *limit)
{
	struct evkeyval	*p;
	char		*end;

	memset(q, 0, sizeof(*q));
	q->since_ms = INSTANT_MIN;
	q->until_ms = INSTANT_MAX;
	*limit = ALERTS_LIMIT_DEFAULT;
	TAILQ_FOREACH(p, kv, next) {
		if (strcmp(p->key, "status") == 0) {
			if (!one_of(p->value, statuses))
				return "status must be violation, warning or review";
			q->status = p->value;
		} else if (strcmp(p->key, "state") == 0) {
			if (!one_of(p->value, states))
				return "state must be open, acknowledged, resolved or retracted";
			q->state = p->value;
		} else if (strcmp(p->key, "tenant") == 0)
			q->tenant = p->value;
		else if (strcmp(p->key, "obligation") == 0)
			q->obligation = p->value;
		else if (strcmp(p->key, "since") == 0) {
			if (when_parse_bound(p->value, 0, &q->since_ms) == -1)
				return "since must be RFC 3339 with an offset, or YYYY-MM-DD";
		} else if (strcmp(p->key, "until") == 0) {
			if (when_parse_bound(p->value, 0, &q->until_ms) == -1)
				return "until must be RFC 3339 with an offset, or YYYY-MM-DD";
		} else if (strcmp(p->key, "limit") == 0) {
			*limit = strtol(p->value, &end, 10);
			if (*p->value == '\0' || *end != '\0' || *limit < 1 ||
			    *limit > ALERTS_LIMIT_MAX)
				return "limit must be a whole number from 1 to 100000";
		} else
			return "unknown parameter (status, state, tenant, obligation, "
			    "since, until, limit)";
	}
	return NULL;
}

void
route_alerts(struct reqctx *c)
{
	struct evkeyvalq	 kv;
	struct alert_query	 q;
	struct list_ctx		 x = { c, NULL, 0, 0, 0 };
	const char		*bad;
	cJSON			*o;

	if (evhttp_parse_query(evhttp_request_get_uri(c->req), &kv) == -1) {
		reply_error(c->req, 400, "bad_request", "the query string is malformed");
		return;
	}
	if ((bad = alert_query(&kv, &q, &x.limit)) != NULL) {
		reply_error(c->req, 400, "bad_request", bad);
		evhttp_clear_headers(&kv);
		return;
	}
	o = cJSON_CreateObject();
	x.list = cJSON_AddArrayToObject(o, "alerts");
	if (store_alerts_each(c->d->store, &q, list_one, &x) == -1) {
		cJSON_Delete(o);
		evhttp_clear_headers(&kv);
		reply_error(c->req, 500, "internal", "the alerts could not be read");
		return;
	}
	evhttp_clear_headers(&kv);
	cJSON_AddBoolToObject(o, "truncated", x.truncated);
	reply_json(c->req, 200, o);
}

/* The body's "note": 0 with *note NULL or a copy, or -1 with the message of a 400. */
static int
read_note(struct evhttp_request *req, char **note, const char **bad)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);
	const char	*body;
	cJSON		*o, *n;

	*note = NULL;
	if (len == 0)
		return 0;
	body = (const char *)evbuffer_pullup(in, -1);
	if ((o = cJSON_ParseWithLength(body, len)) == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		*bad = "the body must be a JSON object, e.g. {\"note\": \"...\"}";
		return -1;
	}
	n = cJSON_GetObjectItemCaseSensitive(o, "note");
	if (n != NULL && !cJSON_IsNull(n) && (!cJSON_IsString(n) ||
	    strlen(n->valuestring) > NOTE_MAX)) {
		cJSON_Delete(o);
		*bad = "note must be a string of at most 2000 bytes";
		return -1;
	}
	if (cJSON_IsString(n))
		*note = xstrdup(n->valuestring);
	cJSON_Delete(o);
	return 0;
}

/* Moves alert c->param to state `to` if it stands in one of `from`. */
static void
move_alert(struct reqctx *c, const char *to, const char *const *from)
{
	char		 state[32], msg[128], *tenant, *note, *body;
	const char	*bad = NULL;
	int		 rc, seen;
	cJSON		*o;

	if ((rc = store_alert_state(c->d->store, c->param, &tenant, state,
	    sizeof(state))) == -1) {
		reply_error(c->req, 500, "internal", "the alert could not be read");
		return;
	}
	seen = rc == 1 && may_see(c->who, tenant);
	free(tenant);
	/* Another tenant's alert is not there at all for this token. */
	if (!seen) {
		reply_error(c->req, 404, "not_found", "no such alert");
		return;
	}
	if (!one_of(state, from)) {
		snprintf(msg, sizeof(msg), "the alert is %s; it cannot become %s",
		    state, to);
		reply_error(c->req, 409, "conflict", msg);
		return;
	}
	if (read_note(c->req, &note, &bad) == -1) {
		reply_error(c->req, 400, "bad_json", bad);
		return;
	}
	rc = evidence_alert_transition(c->d->store, c->param, to, c->who->name,
	    note, daemon_now());
	free(note);
	if (rc == 1) {
		reply_error(c->req, 404, "not_found", "no such alert");
		return;
	}
	if (rc != 0) {
		reply_error(c->req, 503, "unavailable", "the change could not be "
		    "committed; retry");
		return;
	}
	log_info("alert %s %s by %s", c->param, to, c->who->name);
	if ((body = store_alert_body(c->d->store, c->param)) == NULL ||
	    (o = alert_with_history(c->d->store, c->param, body)) == NULL) {
		free(body);
		reply_error(c->req, 500, "internal", "the alert could not be read");
		return;
	}
	free(body);
	reply_json(c->req, 200, o);
}

void
route_alert_ack(struct reqctx *c)
{
	static const char *const from[] = { "open", NULL };

	move_alert(c, "acknowledged", from);
}

void
route_alert_resolve(struct reqctx *c)
{
	static const char *const from[] = { "open", "acknowledged", NULL };

	move_alert(c, "resolved", from);
}
