/*
 * http.c - the HTTP API on libevent's evhttp: one table of routes (method,
 * path, roles, handler) and one dispatcher that authenticates, checks the
 * role and answers errors as {"error": {"code", "message"}}. Listeners are
 * TCP (HOST:PORT) or unix sockets, where a peer with uid 0 or the daemon's
 * uid acts as admin.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "complyd/daemon.h"
#include "complyd/kind.h"
#include "complyd/log.h"
#include "complyd/sock.h"
#include "complyd/util.h"
#include "http_int.h"

#define R(x)	(1u << (x))
#define HTTP_MAX_HEADERS	(16 * 1024)
#define HTTP_BODY_SLACK		(64L * 1024 * 1024)

typedef void (*route_fn)(struct reqctx *);

static void route_events(struct reqctx *);
static void route_deadlines(struct reqctx *);
static void route_reload(struct reqctx *);
static void route_rules(struct reqctx *);
static void route_healthz(struct reqctx *);
static void route_readyz(struct reqctx *);
static void route_metrics(struct reqctx *);

/* roles == 0: open (health and metrics, served on loopback and local sockets). */
static const struct route {
	enum evhttp_cmd_type	 method;
	const char		*path;
	unsigned		 roles;
	route_fn		 fn;
} routes[] = {
	{ EVHTTP_REQ_POST, "/v1/events",	R(ROLE_INGEST),			route_events },
	{ EVHTTP_REQ_GET,  "/v1/alerts",	R(ROLE_MANAGER) | R(ROLE_AUDITOR), route_alerts },
	{ EVHTTP_REQ_POST, "/v1/alerts/*/ack",	R(ROLE_MANAGER),		route_alert_ack },
	{ EVHTTP_REQ_POST, "/v1/alerts/*/resolve", R(ROLE_MANAGER),		route_alert_resolve },
	{ EVHTTP_REQ_GET,  "/v1/deadlines",	R(ROLE_MANAGER) | R(ROLE_AUDITOR), route_deadlines },
	{ EVHTTP_REQ_GET,  "/v1/reports/evidence", R(ROLE_AUDITOR),		route_report },
	{ EVHTTP_REQ_GET,  "/v1/evidence/verify", R(ROLE_AUDITOR),		route_evidence_verify },
	{ EVHTTP_REQ_GET,  "/v1/evidence/export", R(ROLE_AUDITOR),		route_evidence_export },
	{ EVHTTP_REQ_POST, "/v1/rules/reload",	R(ROLE_OPERATOR),		route_reload },
	{ EVHTTP_REQ_POST, "/v1/rules/backtest", R(ROLE_OPERATOR),		route_backtest },
	{ EVHTTP_REQ_GET,  "/v1/rules",		R(ROLE_OPERATOR),		route_rules },
	{ EVHTTP_REQ_GET,  "/healthz",		0,				route_healthz },
	{ EVHTTP_REQ_GET,  "/readyz",		0,				route_readyz },
	{ EVHTTP_REQ_GET,  "/metrics",		0,				route_metrics },
};

static const struct principal local_admin = { "local-admin", ROLE_ADMIN, NULL };

/* DESIGN: `- { type: http }` turns on POST /v1/events on the API listeners. */
static int
http_ingest_on(const struct config *cf)
{
	int	 i;

	for (i = 0; i < cf->ninputs; i++)
		if (cf->inputs[i].type == IN_HTTP)
			return 1;
	return 0;
}

void
reply_json(struct evhttp_request *req, int code, cJSON *body)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s = cJSON_PrintUnformatted(body);

	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evhttp_send_reply(req, code, NULL, b);
	evbuffer_free(b);
	free(s);
	cJSON_Delete(body);
}

void
reply_error(struct evhttp_request *req, int code, const char *what,
    const char *msg)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");

	cJSON_AddStringToObject(e, "code", what);
	cJSON_AddStringToObject(e, "message", msg);
	reply_json(req, code, o);
}

/* The socket of req's connection, or -1. */
static evutil_socket_t
request_fd(struct evhttp_request *req)
{
	struct evhttp_connection	*c = evhttp_request_get_connection(req);
	struct bufferevent		*bev;

	if (c == NULL || (bev = evhttp_connection_get_bufferevent(c)) == NULL)
		return -1;
	return bufferevent_getfd(bev);
}

/* The peer's uid on a unix socket, or -1 (TCP). */
static long
peer_uid(struct evhttp_request *req)
{
	struct sockaddr_storage		 ss;
	socklen_t			 sl = sizeof(ss);
	struct ucred			 cr;
	socklen_t			 cl = sizeof(cr);
	evutil_socket_t			 fd = request_fd(req);

	if (fd == -1 || getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    ss.ss_family != AF_UNIX ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == -1)
		return -1;
	return (long)cr.uid;
}

/*
 * Whether the peer is on this host: a unix socket, 127.0.0.0/8 or ::1 (also
 * as ::ffff:127.x). The open routes (health, metrics) are served to those
 * only; from elsewhere they need a token, as everything else does.
 */
static int
peer_local(struct evhttp_request *req)
{
	struct sockaddr_storage		 ss;
	socklen_t			 sl = sizeof(ss);
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)&ss;
	const unsigned char		*a6 = s6->sin6_addr.s6_addr;
	static const unsigned char	 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	evutil_socket_t			 fd = request_fd(req);

	if (fd == -1 || getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	switch (ss.ss_family) {
	case AF_UNIX:
		return 1;
	case AF_INET:
		return (ntohl(((const struct sockaddr_in *)&ss)->sin_addr.s_addr)
		    >> 24) == 127;
	case AF_INET6:
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    (memcmp(a6, v4mapped, 12) == 0 && a6[12] == 127);
	}
	return 0;
}

static const struct principal *
authenticate(struct daemon *d, struct evhttp_request *req)
{
	const char	*h;
	long		 uid = peer_uid(req);

	if (uid == 0 || (uid >= 0 && (uid_t)uid == d->uid))
		return &local_admin;
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	return tokens_find(d->tokens, h + 7);
}

static int
allowed(const struct principal *p, unsigned roles)
{
	return roles == 0 || (p && (p->role == ROLE_ADMIN || (roles & R(p->role))));
}

int
may_see(const struct principal *p, const char *tenant)
{
	return p == &local_admin || principal_may_see(p, tenant);
}

/*
 * Whether path is pattern, where a '*' stands for one non-empty path
 * segment (an alert id), copied into param.
 */
static int
path_match(const char *pattern, const char *path, char *param, size_t len)
{
	const char	*star = strchr(pattern, '*'), *end;
	size_t		 pre;

	if (star == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(star - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return 0;
	path += pre;
	if ((end = strchr(path, '/')) == NULL)
		end = path + strlen(path);
	if (end == path || (size_t)(end - path) >= len || strcmp(star + 1, end) != 0)
		return 0;
	memcpy(param, path, (size_t)(end - path));
	param[end - path] = '\0';
	return 1;
}

/* 405 names the methods the path takes (RFC 9110 15.5.6). */
static void
add_allow(struct evhttp_request *req, const char *path)
{
	char	 param[128], allow[64] = "";
	size_t	 i, n = 0;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (path_match(routes[i].path, path, param, sizeof(param)) &&
		    n < sizeof(allow))
			n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s",
			    n ? ", " : "",
			    routes[i].method == EVHTTP_REQ_GET ? "GET" : "POST");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct daemon		*d = arg;
	struct reqctx		 c = { d, req, NULL, "" };
	const char		*uri = evhttp_request_get_uri(req);
	struct evhttp_uri	*u = evhttp_uri_parse(uri);
	const char		*path = u ? evhttp_uri_get_path(u) : NULL;
	size_t			 i;
	int			 path_known = 0;

	if (u == NULL) {
		reply_error(req, 400, "bad_request", "the request target is not a "
		    "valid URI (a stray '%'?)");
		return;
	}
	for (i = 0; path && i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_match(routes[i].path, path, c.param, sizeof(c.param)))
			continue;
		path_known = 1;
		if (routes[i].method != evhttp_request_get_command(req))
			continue;
		c.who = authenticate(d, req);
		if ((routes[i].roles || !peer_local(req)) && c.who == NULL)
			reply_error(req, 401, "unauthorized", evhttp_find_header(
			    evhttp_request_get_input_headers(req), "Authorization") ?
			    "the token is not valid (Authorization: Bearer TOKEN)" :
			    "a bearer token is required");
		else if (!allowed(c.who, routes[i].roles))
			reply_error(req, 403, "forbidden", "the token's role may not do this");
		else
			routes[i].fn(&c);
		evhttp_uri_free(u);
		return;
	}
	if (path_known) {
		add_allow(req, path);
		reply_error(req, 405, "method_not_allowed", "method not allowed here");
	} else
		reply_error(req, 404, "not_found", "no such route");
	if (u)
		evhttp_uri_free(u);
}

/* --- POST /v1/events --- */

static int
allow_tenant(void *arg, const char *tenant)
{
	const struct reqctx *c = arg;

	return may_see(c->who, tenant);
}

/* Splits a JSON array body into items (index as the line). */
static int
items_from_array(const char *body, size_t len, struct ingest_item **items,
    size_t *n, char ***texts, size_t *trailing)
{
	const char	*end = NULL;
	cJSON		*arr = cJSON_ParseWithLengthOpts(body, len, &end, 0), *it;
	size_t		 i = 0, cnt;

	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		return -1;
	}
	/*
	 * cJSON stops after the array: what follows (a second array, JSON lines)
	 * would be dropped without a word. The batch is refused whole instead,
	 * so that nothing of it is accepted and the sender knows.
	 */
	end += str_blank_len(end, (size_t)(body + len - end));
	if (end < body + len) {
		*trailing = (size_t)(end - body) + 1;
		cJSON_Delete(arr);
		return -1;
	}
	cnt = cJSON_GetArraySize(arr);
	*items = xcalloc(cnt + 1, sizeof(**items));
	*texts = xcalloc(cnt + 1, sizeof(char *));
	cJSON_ArrayForEach(it, arr) {
		(*texts)[i] = cJSON_PrintUnformatted(it);
		(*items)[i].text = (*texts)[i];
		(*items)[i].len = strlen((*texts)[i]);
		(*items)[i].line = (long)i;
		i++;
	}
	*n = i;
	cJSON_Delete(arr);
	return 0;
}

static void
items_from_lines(const char *body, size_t len, struct ingest_item **items,
    size_t *n)
{
	const char	*p = body, *end = body + len, *nl;
	long		 line = 0;
	size_t		 cap = 16;

	*items = xcalloc(cap, sizeof(**items));
	*n = 0;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (nl == NULL)
			nl = end;
		line++;
		/* As in replayed files: a blank line (spaces, CR) is no event. */
		if (str_blank(p, (size_t)(nl - p)))
			continue;
		if (*n == cap)
			*items = xrealloc(*items, (cap *= 2) * sizeof(**items));
		(*items)[*n].text = p;
		(*items)[*n].len = nl - p;
		(*items)[(*n)++].line = line;
	}
}

static void
route_events(struct reqctx *c)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(c->req);
	size_t			 len = evbuffer_get_length(in), n = 0, i;
	const char		*body;
	struct ingest_item	*items = NULL;
	struct ingest_result	 res;
	char			**texts = NULL;
	cJSON			*o, *rej;
	size_t			 trailing = 0;
	int			 array = 0;

	if (!http_ingest_on(&c->d->cf)) {
		reply_error(c->req, 404, "not_found", "HTTP ingestion is off: the "
		    "config's inputs have no { type: http }");
		return;
	}
	if (len > (size_t)c->d->cf.max_body) {
		reply_error(c->req, 413, "payload_too_large", "the body is over "
		    "max_body; send the events in smaller batches");
		return;
	}
	body = (const char *)evbuffer_pullup(in, -1);
	for (i = 0; i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\t' ||
	    body[i] == '\r'); i++)
		;
	if (i < len && body[i] == '[') {
		array = 1;
		if (items_from_array(body, len, &items, &n, &texts, &trailing) == -1) {
			if (trailing) {
				char msg[160];

				snprintf(msg, sizeof(msg), "data after the JSON array at "
				    "byte %zu: send one array or JSON lines; nothing of "
				    "this batch was accepted", trailing);
				reply_error(c->req, 400, "bad_json", msg);
			} else
				reply_error(c->req, 400, "bad_json", "the body is not a "
				    "JSON array nor JSON lines");
			return;
		}
	} else
		items_from_lines(body ? body : "", len, &items, &n);
	daemon_ingest(c->d, items, n, c->who == &local_admin ? NULL : allow_tenant,
	    c, &res);
	if (res.failed) {
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Retry-After", "1");
		reply_error(c->req, 503, "unavailable", "the journal could not commit; "
		    "nothing of this batch was accepted, retry");
	} else {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "accepted", (double)res.accepted);
		cJSON_AddNumberToObject(o, "duplicates", (double)res.duplicates);
		cJSON_AddNumberToObject(o, "rejected_total", (double)res.nbad);
		rej = cJSON_AddArrayToObject(o, "rejected");
		for (i = 0; i < (size_t)res.nrejects; i++) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddNumberToObject(r, array ? "index" : "line",
			    (double)res.rejects[i].line);
			cJSON_AddStringToObject(r, "error", res.rejects[i].error);
			cJSON_AddItemToArray(rej, r);
		}
		reply_json(c->req, 202, o);
	}
	ingest_result_free(&res);
	for (i = 0; texts && i < n; i++)
		free(texts[i]);
	free(texts);
	free(items);
}

/* --- GET /v1/deadlines --- */

struct dl_ctx {
	struct reqctx	*c;
	cJSON		*list;
	date_t		 before;
};

static void
deadline_one(void *arg, struct slot *s)
{
	struct dl_ctx		*x = arg;
	const struct rule		*r = s->rule;
	const struct law_version	*v;
	const char			*scope = deadline_slot_scope(r, s);
	cJSON				*o, *ev;
	char				 buf[32];

	if ((r->kind != RK_DEADLINE && r->kind != RK_PERIODIC) ||
	    !(s->flags & SLOT_OPEN) || (s->flags & (SLOT_CLOSED | SLOT_VIOLATED)) ||
	    s->due == DATE_NONE || (x->before != DATE_NONE && s->due >= x->before) ||
	    !may_see(x->c->who, s->tenant))
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "tenant", s->tenant);
	cJSON_AddStringToObject(o, "obligation", r->obligation);
	cJSON_AddStringToObject(o, "rule", r->id);
	/* A scoped key is "key\x1fscope": the API shows the key, and the scope. */
	cJSON_AddItemToObject(o, "key", cJSON_CreateString(s->key));
	if (scope) {
		cJSON_GetObjectItem(o, "key")->valuestring[scope - 1 - s->key] = '\0';
		cJSON_AddStringToObject(o, "scope", scope);
	}
	cJSON_AddStringToObject(o, "due", when_fmt_date(s->due, buf));
	cJSON_AddStringToObject(o, "opened_at", when_fmt_instant(
	    r->kind == RK_PERIODIC ? when_day_start(s->baseline) : s->opened, buf));
	/* Periodic slots keep no version: the one in force on the due day. */
	v = s->version >= 0 ? &r->law->versions[s->version] :
	    law_version_at(r->law, s->due);
	if (v)
		cJSON_AddStringToObject(o, "law_version", v->id);
	else
		cJSON_AddNullToObject(o, "law_version");
	ev = cJSON_AddArrayToObject(o, "evidence");
	if (s->evidence)
		cJSON_AddItemToArray(ev, cJSON_CreateString(s->evidence));
	cJSON_AddItemToArray(x->list, o);
}

/* The fields a deadline is listed by: due day first, the soonest at the top. */
static int
deadline_cmp(const void *pa, const void *pb)
{
	static const char *const by[] = { "due", "tenant", "obligation", "rule",
	    "key", "scope" };
	const cJSON	*a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
	const char	*x, *y;
	size_t		 i;
	int		 d;

	for (i = 0; i < sizeof(by) / sizeof(by[0]); i++) {
		x = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, by[i]));
		y = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, by[i]));
		if ((d = strcmp(x ? x : "", y ? y : "")) != 0)
			return d;
	}
	return 0;
}

/*
 * The state hands its slots out in the order of its hash table, which says
 * nothing to a reader and changes with the table: the list is sorted.
 */
static void
sort_deadlines(cJSON *list)
{
	int	 i, n = cJSON_GetArraySize(list);
	cJSON	**v;

	if (n < 2)
		return;
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = cJSON_DetachItemFromArray(list, 0);
	qsort(v, n, sizeof(*v), deadline_cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(list, v[i]);
	free(v);
}

static void
route_deadlines(struct reqctx *c)
{
	struct evkeyvalq	 q;
	struct dl_ctx		 x = { c, NULL, DATE_NONE };
	const char		*before;
	cJSON			*o;

	evhttp_parse_query(evhttp_request_get_uri(c->req), &q);
	before = evhttp_find_header(&q, "due_before");
	if (before && when_parse_date(before, &x.before) == -1) {
		evhttp_clear_headers(&q);
		reply_error(c->req, 400, "bad_request", "due_before must be YYYY-MM-DD");
		return;
	}
	evhttp_clear_headers(&q);
	o = cJSON_CreateObject();
	x.list = cJSON_AddArrayToObject(o, "deadlines");
	c->d->st->ops->each(c->d->st, deadline_one, &x);
	sort_deadlines(x.list);
	reply_json(c->req, 200, o);
}

/* --- the rest --- */

/* The loaded rule set: each rule with the hash of its text and its hit count. */
static void
route_rules(struct reqctx *c)
{
	const struct ruleset	*rs = c->d->rs;
	const struct rule	*r;
	cJSON			*o = cJSON_CreateObject(), *list, *it;
	int			 i;

	cJSON_AddStringToObject(o, "rules_sha256", rs->hash);
	list = cJSON_AddArrayToObject(o, "rules");
	for (i = 0; i < rs->nrules; i++) {
		r = rs->rules[i];
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "id", r->id);
		cJSON_AddStringToObject(it, "obligation", r->obligation);
		cJSON_AddStringToObject(it, "law", r->law->id);
		cJSON_AddStringToObject(it, "kind", rule_kinds[r->kind]->name);
		cJSON_AddStringToObject(it, "severity", r->severity ? r->severity : "medium");
		cJSON_AddStringToObject(it, "file", r->file);
		cJSON_AddNumberToObject(it, "line", r->line);
		cJSON_AddStringToObject(it, "hash", r->hash);
		cJSON_AddNumberToObject(it, "hits", (double)r->hits);
		cJSON_AddItemToArray(list, it);
	}
	reply_json(c->req, 200, o);
}

/*
 * Runs a reload with the loaders' messages (`file:line:col: error: ...`)
 * caught as text, into *text (malloc'd, NULL if there were none), and
 * passed on to the daemon's own log as well. -1 if the reload was refused.
 */
static int
reload_telling(struct daemon *d, char **text)
{
	FILE	*mem, *prev;
	size_t	 len = 0;
	int	 rc;

	*text = NULL;
	if ((mem = open_memstream(text, &len)) == NULL)
		return daemon_reload(d);
	prev = log_diag_capture(mem);
	rc = daemon_reload(d);
	log_diag_capture(prev);
	fclose(mem);
	if (*text != NULL && len > 0)
		fputs(*text, log_diag());
	return rc;
}

/* {"error": {"code", "message", "errors": [one per line of text]}}. */
static void
reply_reload_refused(struct evhttp_request *req, const char *text)
{
	cJSON		*o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	cJSON		*list;
	const char	*p, *nl;

	cJSON_AddStringToObject(e, "code", "invalid_rules");
	cJSON_AddStringToObject(e, "message", "the config or the new rule set has "
	    "errors; the running ones stay in force");
	list = cJSON_AddArrayToObject(e, "errors");
	for (p = text; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
		char *line;

		nl = strchr(p, '\n');
		line = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		if (*line != '\0' && cJSON_GetArraySize(list) < 100)
			cJSON_AddItemToArray(list, cJSON_CreateString(line));
		free(line);
	}
	reply_json(req, 422, o);
}

static void
route_reload(struct reqctx *c)
{
	cJSON	*o;
	char	*text;

	if (reload_telling(c->d, &text) == -1) {
		reply_reload_refused(c->req, text);
		free(text);
		return;
	}
	free(text);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "rules_sha256", c->d->rs->hash);
	cJSON_AddNumberToObject(o, "rules", c->d->rs->nrules);
	reply_json(c->req, 200, o);
}

static void
route_healthz(struct reqctx *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	reply_json(c->req, 200, o);
}

static void
route_readyz(struct reqctx *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "ready", c->d->ready);
	reply_json(c->req, c->d->ready ? 200 : 503, o);
}

static void
route_metrics(struct reqctx *c)
{
	const struct daemon_stats	*s = &c->d->stats;
	struct evbuffer			*b = evbuffer_new();
	int				 i;

#define COUNTER(name, v) evbuffer_add_printf(b, "# TYPE complyd_" name " counter\n" \
	"complyd_" name " %llu\n", (unsigned long long)(v))
	COUNTER("events_accepted_total", s->accepted);
	COUNTER("events_rejected_total", s->rejected);
	COUNTER("events_duplicate_total", s->duplicates);
	COUNTER("alerts_total", s->alerts);
	COUNTER("deliveries_total", s->delivered);
	COUNTER("delivery_failures_total", s->delivery_failures);
	COUNTER("reloads_total", s->reloads);
	COUNTER("reload_failures_total", s->reload_failures);
	COUNTER("late_batches_total", s->late);
	COUNTER("alerts_retracted_total", s->retracted);
	COUNTER("alerts_refreshed_total", s->refreshed);
#undef COUNTER
	evbuffer_add_printf(b, "# TYPE complyd_outbox_pending gauge\n");
	for (i = 0; i < c->d->noutputs; i++)
		evbuffer_add_printf(b, "complyd_outbox_pending{output=\"%d\"} %lld\n", i,
		    (long long)store_outbox_pending(c->d->store,
		    store_slot(c->d->store, i)));
	evbuffer_add_printf(b, "# TYPE complyd_ready gauge\ncomplyd_ready %d\n",
	    c->d->ready);
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(c->req, 200, NULL, b);
	evbuffer_free(b);
}

/* --- listeners --- */

static int
listen_unix(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if (sock_unix_addr(&sun, path) == -1) {
		log_warnx("%s: socket path too long", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	unlink(path);
	/*
	 * Anyone who can reach the path may connect (0666), as anyone may reach
	 * the loopback port: who may do what is decided per request, the peer's
	 * uid making root and the daemon's own user admin and everyone else
	 * showing a token (DESIGN). The directory holding the socket is what
	 * keeps others from reaching it, where that is wanted.
	 */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0666) == -1 || listen(fd, 64) == -1) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	return fd;
}

static int
bind_one(struct daemon *d, struct evhttp *http, const char *addr)
{
	struct evhttp_bound_socket *bs;
	char		 host[256];
	const char	*colon, *name = addr;
	int		 fd, port;

	if (strncmp(addr, "unix:", 5) == 0) {
		if ((fd = listen_unix(addr + 5)) == -1)
			return -1;
		if ((bs = evhttp_accept_socket_with_handle(http, fd)) == NULL) {
			close(fd);
			return -1;
		}
		return accept_guard(d->base, evhttp_bound_socket_get_listener(bs),
		    name);
	}
	if (strncmp(addr, "tcp:", 4) == 0)
		addr += 4;
	if ((colon = strrchr(addr, ':')) == NULL ||
	    (size_t)(colon - addr) >= sizeof(host))
		return -1;
	memcpy(host, addr, colon - addr);
	host[colon - addr] = '\0';
	port = atoi(colon + 1);
	if ((bs = evhttp_bind_socket_with_handle(http, host, port)) == NULL) {
		log_warn("listen %s", addr);
		return -1;
	}
	return accept_guard(d->base, evhttp_bound_socket_get_listener(bs), name);
}

void
http_set_limits(struct daemon *d)
{
	if (d->http == NULL)
		return;		/* no api.listen: no API to limit */
	/*
	 * libevent 2.1 answers a body over its limit itself, in HTML. Its limit
	 * is set above ours (max_body + up to 64 MiB) so that an oversized batch
	 * usually reaches route_events and gets our JSON 413; only a far larger
	 * one meets libevent's page.
	 */
	evhttp_set_max_body_size(d->http, d->cf.max_body +
	    (d->cf.max_body < HTTP_BODY_SLACK ? d->cf.max_body : HTTP_BODY_SLACK));
	evhttp_set_max_headers_size(d->http, HTTP_MAX_HEADERS);
}

int
in_http_start(struct daemon *d)
{
	struct evhttp	*http = evhttp_new(d->base);
	int		 i;

	d->http = http;
	http_set_limits(d);
	evhttp_set_timeout(http, 60);
	/* Every method reaches dispatch, which answers 405 in JSON. */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, dispatch, d);
	for (i = 0; i < d->cf.nlisten; i++)
		if (bind_one(d, http, d->cf.listen[i]) == -1) {
			log_warnx("api: cannot listen on %s", d->cf.listen[i]);
			return -1;
		}
	return 0;
}
