/*
 * http_backtest.c - POST /v1/rules/backtest (operator): what a candidate
 * rule set would have raised on the journaled events, beside what the rules
 * in force raise; backtest.c does the work. Roles are checked by http.c's
 * dispatcher; tenants here, through the query's may_see.
 *
 * The body is {"files": {"NAME.yaml": "<yaml text>", ...}, "from": T,
 * "to": T, "tenant": T}; files are the whole candidate set, from and to are
 * read as GET /v1/alerts reads since and until (the alerts' window, to
 * exclusive). The daemon takes files only, never a directory the client
 * names: it would read its own file system with its own rights on the
 * client's word. `complyctl backtest DIR` sends a directory's files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "complyd/backtest.h"
#include "complyd/log.h"
#include "complyd/util.h"
#include "http_int.h"

#define BACKTEST_MAX_BODY	(4L << 20)
#define BACKTEST_MAX_ALERTS	10000	/* in each list of the answer */

struct bt_request {
	struct backtest_file	 files[BACKTEST_MAX_FILES];
	struct backtest_query	 q;
	char			 msg[256];	/* the message of a 400 */
};

static int
see(void *arg, const char *tenant)
{
	const struct reqctx *c = arg;

	return may_see(c->who, tenant);
}

/* Takes the files of object `files` into r; NULL, or the message of a 400. */
static const char *
read_files(const cJSON *files, struct bt_request *r)
{
	const cJSON	*f;

	if (!cJSON_IsObject(files))
		return "files must be an object {\"NAME.yaml\": \"<yaml text>\", ...}";
	cJSON_ArrayForEach(f, files) {
		if (!backtest_name_ok(f->string)) {
			snprintf(r->msg, sizeof(r->msg), "\"%.60s\": a file name is "
			    "NAME.yaml of letters, digits, '.', '_' and '-', not "
			    "starting with '.' (no paths)", f->string);
			return r->msg;
		}
		if (!cJSON_IsString(f))
			return "each file's value must be its YAML text, a string";
		if (r->q.nfiles == BACKTEST_MAX_FILES)
			return "at most 64 files";
		r->files[r->q.nfiles].name = f->string;
		r->files[r->q.nfiles++].text = f->valuestring;
	}
	if (r->q.nfiles == 0)
		return "files must give at least one rule file";
	return NULL;
}

/* Reads body o into r (which borrows from it); NULL, or the message of a 400. */
static const char *
read_request(const cJSON *o, struct bt_request *r)
{
	static const char *const keys[] = { "files", "from", "to", "tenant", NULL };
	const cJSON	*it;
	const char	*bad;
	unsigned	 seen = 0;
	int		 k;

	r->q.files = r->files;
	r->q.from = INSTANT_MIN;
	r->q.to = INSTANT_MAX;
	if (!cJSON_IsObject(o))
		return "the body must be a JSON object {\"files\": {...}}";
	cJSON_ArrayForEach(it, o) {
		for (k = 0; keys[k] && strcmp(keys[k], it->string) != 0; k++)
			;
		if (keys[k] == NULL)
			return "unknown key: the body takes files, from, to and tenant "
			    "(a directory cannot be named: send its files)";
		if (seen & (1u << k)) {
			snprintf(r->msg, sizeof(r->msg), "%s is given twice", keys[k]);
			return r->msg;
		}
		seen |= 1u << k;
		if (k == 0 && (bad = read_files(it, r)) != NULL)
			return bad;
		if (k == 1 && (!cJSON_IsString(it) ||
		    when_parse_bound(it->valuestring, 0, &r->q.from) == -1))
			return "from must be RFC 3339 with an offset, or YYYY-MM-DD";
		if (k == 2 && (!cJSON_IsString(it) ||
		    when_parse_bound(it->valuestring, 0, &r->q.to) == -1))
			return "to must be RFC 3339 with an offset, or YYYY-MM-DD";
		if (k == 3 && (!cJSON_IsString(it) || *it->valuestring == '\0'))
			return "tenant must be a tenant's name";
		if (k == 3)
			r->q.tenant = it->valuestring;
	}
	if (!(seen & 1u))
		return "files is required: {\"files\": {\"NAME.yaml\": \"<yaml text>\"}}";
	if (r->q.from >= r->q.to)
		return "from must be before to";
	return NULL;
}

static void
reply_rules_invalid(struct evhttp_request *req, const struct backtest *bt)
{
	cJSON	*o = cJSON_CreateObject(), *e, *list;
	char	 msg[128];
	int	 i;

	snprintf(msg, sizeof(msg), "the candidate rule set has %d error(s); "
	    "nothing was replayed", bt->nerrors);
	e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", "rules_invalid");
	cJSON_AddStringToObject(e, "message", msg);
	list = cJSON_AddArrayToObject(e, "errors");
	for (i = 0; i < bt->nerrors; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(bt->errors[i]));
	reply_json(req, 400, o);
}

/* What identifies an alert in the diff, with its id and obligation. */
static cJSON *
alert_brief(const struct alert *a)
{
	static const char *const keys[] = { "id", "rule", "obligation", "tenant",
		"key", "status", "time", NULL };
	const cJSON	*v;
	cJSON		*o = cJSON_CreateObject();
	int		 i;

	for (i = 0; keys[i] != NULL; i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(a->json, keys[i])) != NULL)
			cJSON_AddItemToObject(o, keys[i], cJSON_Duplicate(v, 1));
	return o;
}

struct diff_ctx {
	cJSON	*added, *removed;
	int	 nadded, nremoved;
	int	 truncated;
};

static void
diff_one(void *arg, const struct alert *a, int added)
{
	struct diff_ctx	*x = arg;
	int		*n = added ? &x->nadded : &x->nremoved;

	if (*n == BACKTEST_MAX_ALERTS) {
		x->truncated = 1;
		return;
	}
	(*n)++;
	cJSON_AddItemToArray(added ? x->added : x->removed, alert_brief(a));
}

/* The 200 answer; the candidate's alert trees move into it. */
static cJSON *
answer(struct backtest *bt)
{
	cJSON		*o = cJSON_CreateObject(), *list, *diff;
	struct diff_ctx	 x = { NULL, NULL, 0, 0, 0 };
	size_t		 i;

	cJSON_AddNumberToObject(o, "rules", bt->nrules);
	cJSON_AddNumberToObject(o, "events", (double)bt->events);
	list = cJSON_AddArrayToObject(o, "alerts");
	diff = cJSON_AddObjectToObject(o, "diff");
	x.added = cJSON_AddArrayToObject(diff, "added");
	x.removed = cJSON_AddArrayToObject(diff, "removed");
	backtest_diff(&bt->cand, &bt->live, diff_one, &x);
	for (i = 0; i < bt->cand.n && i < BACKTEST_MAX_ALERTS; i++) {
		cJSON_AddItemToArray(list, bt->cand.v[i].json);
		bt->cand.v[i].json = NULL;
	}
	cJSON_AddBoolToObject(o, "truncated", x.truncated ||
	    bt->cand.n > BACKTEST_MAX_ALERTS);
	return o;
}

static void
reply_backtest(struct evhttp_request *req, struct backtest *bt)
{
	char	 msg[400];

	switch (bt->status) {
	case BT_OK:
		reply_json(req, 200, answer(bt));
		break;
	case BT_BAD_FILE:
		reply_error(req, 400, "bad_request", bt->why);
		break;
	case BT_RULES_INVALID:
		reply_rules_invalid(req, bt);
		break;
	case BT_TOO_MANY_EVENTS:
		snprintf(msg, sizeof(msg), "%s; give an earlier \"to\" or a "
		    "\"tenant\"", bt->why);
		reply_error(req, 422, "too_many_events", msg);
		break;
	case BT_TOO_MANY_ALERTS:
		snprintf(msg, sizeof(msg), "%s; narrow the window or the "
		    "tenant, or the candidate", bt->why);
		reply_error(req, 422, "too_many_alerts", msg);
		break;
	case BT_FAILED:
		reply_error(req, 500, "internal", bt->why);
		break;
	}
}

void
route_backtest(struct reqctx *c)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(c->req);
	size_t			 len = evbuffer_get_length(in);
	struct bt_request	*r;
	struct backtest		 bt;
	const char		*bad;
	cJSON			*o;

	if (len > (size_t)BACKTEST_MAX_BODY) {
		reply_error(c->req, 413, "payload_too_large", "the candidate is "
		    "over 4 MiB");
		return;
	}
	o = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1), len);
	if (o == NULL) {
		reply_error(c->req, 400, "bad_json", "the body is not JSON");
		return;
	}
	r = xcalloc(1, sizeof(*r));
	if ((bad = read_request(o, r)) != NULL) {
		reply_error(c->req, 400, "bad_request", bad);
	} else {
		r->q.may_see = see;
		r->q.arg = c;
		backtest_run(c->d, &r->q, &bt);
		log_info("backtest by %s: %d file(s), %zu event(s), %zu alert(s) "
		    "against %zu", c->who->name, r->q.nfiles, bt.events, bt.cand.n,
		    bt.live.n);
		reply_backtest(c->req, &bt);
		backtest_free(&bt);
	}
	free(r);
	cJSON_Delete(o);
}
