/*
 * daemon.c - the daemon's core: ingestion (journal first, engine second),
 * the engine rebuilt from the journal on start and reload, the wall clock,
 * and delivery through the outputs. The event loop's callbacks live in the
 * input/output files; this file holds what they share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "complyd/daemon.h"
#include "complyd/evidence.h"
#include "complyd/rules.h"
#include "complyd/log.h"
#include "complyd/util.h"

int64_t
daemon_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Clock skew we tolerate on event times before calling them bogus. */
#define FUTURE_SLACK_MS	(24LL * 3600 * 1000)

/* The late-event entry of tenant, while reconciling; NULL if none. */
static const struct late_tenant *
late_of(const struct daemon *d, const char *tenant)
{
	int	 i;

	for (i = 0; i < d->nlate; i++)
		if (strcmp(d->late[i].tenant, tenant) == 0)
			return &d->late[i];
	return NULL;
}

/*
 * While reconciling, an alert of a late tenant from its late events' time on
 * that is raised again but stored otherwise -- retracted by an earlier late
 * event, or with other details (a partial payment now counted) -- takes what
 * the replay says: live and replay end with the same alerts.
 */
static void
refresh_alert(struct daemon *d, const struct alert *a)
{
	const struct late_tenant *lt = late_of(d, a->tenant);
	char		 note[300];

	/* As retraction: alerts after the late time (one at it fired before it). */
	if (lt == NULL || a->time <= lt->oldest)
		return;
	snprintf(note, sizeof(note), "replayed in event-time order with the late "
	    "event %s, it is raised again as now stored", lt->why);
	if (evidence_alert_refresh(d->store, a, note, daemon_now(), d->noutputs) == 1)
		d->stats.refreshed++;
}

/*
 * Alerts go to the store (and from its outbox to the outputs) with their
 * evidence entry; ids dedupe.
 */
static void
alert_sink(void *arg, struct alert *a)
{
	struct daemon	*d = arg;
	int		 rv;

	if (d->truth)
		hmap_put(d->truth, a->id, d);
	if ((rv = evidence_put_alert(d->store, a, d->noutputs, daemon_now())) == 1)
		d->stats.alerts++;
	else if (rv == 0 && d->truth)
		refresh_alert(d, a);
	cJSON_Delete(a->json);
}

/*
 * Deadlines opened and met go to the evidence log. The replays at start and
 * reload make them again: the log takes each decision once.
 */
static void
decision_sink(void *arg, const struct decision *dc)
{
	struct daemon	*d = arg;

	if (evidence_decision(d->store, dc, daemon_now()) == -1)
		log_warnx("evidence: %s %s %s: not recorded; the next start "
		    "records it", dc->tenant, dc->rule, dc->key);
}

void
ingest_result_free(struct ingest_result *r)
{
	free(r->rejects);
	memset(r, 0, sizeof(*r));
}

/*
 * The first INGEST_MAX_REJECTS bad lines are reported one by one; beyond
 * that only counted, so a body of garbage costs no more than its size.
 */
static void
reject(struct ingest_result *res, long line, const char *why)
{
	struct ingest_reject *rj;

	res->nbad++;
	if (res->nrejects >= INGEST_MAX_REJECTS)
		return;
	if (res->nrejects == res->caprejects) {
		res->caprejects = res->caprejects ? res->caprejects * 2 : 16;
		res->rejects = xrealloc(res->rejects, res->caprejects * sizeof(*rj));
	}
	rj = &res->rejects[res->nrejects++];
	rj->line = line;
	snprintf(rj->error, sizeof(rj->error), "%s", why);
}

/* Decodes the batch; bad lines and foreign tenants become rejects. */
static struct soc_event *
decode_batch(struct ingest_item *items, size_t n,
    int (*allow)(void *, const char *), void *arg, struct ingest_result *res,
    size_t *nev)
{
	struct soc_event	*evs = xcalloc(n + 1, sizeof(*evs));
	char		 err[200];
	size_t		 i;

	*nev = 0;
	for (i = 0; i < n; i++) {
		if (event_decode(items[i].text, items[i].len, &evs[*nev], err,
		    sizeof(err)) == -1) {
			reject(res, items[i].line, err);
			continue;
		}
		if (evs[*nev].time > daemon_now() + FUTURE_SLACK_MS) {
			snprintf(err, sizeof(err), "\"time\" is more than a day in the "
			    "future; events record what happened");
			reject(res, items[i].line, err);
			event_dispose(&evs[*nev]);
			continue;
		}
		if (allow && !allow(arg, evs[*nev].tenant)) {
			snprintf(err, sizeof(err), "tenant \"%s\" is outside the token's scope",
			    evs[*nev].tenant);
			reject(res, items[i].line, err);
			event_dispose(&evs[*nev]);
			continue;
		}
		evs[*nev].seq = i;
		(*nev)++;
	}
	return evs;
}

/* Journals the batch in one transaction; marks duplicates (seq = UINT64_MAX). */
static int
journal_batch(struct daemon *d, struct soc_event *evs, size_t nev,
    struct ingest_item *items, struct ingest_result *res, int64_t *jseq)
{
	size_t	i;
	int	r;

	if (store_begin(d->store) == -1)
		return -1;
	for (i = 0; i < nev; i++) {
		r = store_put_event(d->store, &evs[i], items[evs[i].seq].text,
		    items[evs[i].seq].len);
		if (r == -1) {
			store_rollback(d->store);
			return -1;
		}
		if (r == 0) {
			res->duplicates++;
			evs[i].seq = UINT64_MAX;
		} else
			jseq[i] = store_last_seq(d->store);
		res->accepted++;
	}
	return store_commit(d->store);
}

static struct engine *build_engine(struct daemon *, instant_t, struct ruleset *,
    struct registry *, struct state **);

static void
free_list(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Alerts raised by a timer (deadline, periodic) are the ones a late event can undo. */
static int
timer_rule(const struct ruleset *rs, const char *id)
{
	int i;

	for (i = 0; i < rs->nrules; i++)
		if (strcmp(rs->rules[i]->id, id) == 0)
			return rs->rules[i]->kind == RK_DEADLINE ||
			    rs->rules[i]->kind == RK_PERIODIC;
	return 0;
}

/* An upsert or a fact: it changes what rules read of a record from its time on. */
static int
changes_records(const struct daemon *d, const struct soc_event *ev)
{
	const char	*dot = strrchr(ev->type, '.');

	return (dot != NULL && strcmp(dot, ".upserted") == 0) ||
	    hmap_get(&d->rs->facts_by_type, ev->type) != NULL;
}

/*
 * The tenants of the batch's new events older than the engine's clock, each
 * with its oldest (tenants are walls: one tenant's late event reconciles
 * only that tenant's alerts). 0 if none.
 */
static int
late_tenants(struct daemon *d, struct soc_event *evs, size_t nev,
    struct late_tenant **out)
{
	instant_t		 clock = engine_clock(d->en);
	struct late_tenant	*lt = NULL;
	size_t			 i;
	int			 n = 0, j;

	for (i = 0; i < nev; i++) {
		if (evs[i].seq == UINT64_MAX || evs[i].time >= clock)
			continue;
		for (j = 0; j < n && strcmp(lt[j].tenant, evs[i].tenant) != 0; j++)
			;
		if (j == n) {
			lt = xrealloc(lt, (n + 1) * sizeof(*lt));
			lt[n++] = (struct late_tenant){ evs[i].tenant, INSTANT_MAX, NULL };
		}
		if (evs[i].time < lt[j].oldest) {
			lt[j].oldest = evs[i].time;
			lt[j].why = evs[i].id;
		}
	}
	*out = lt;
	return n;
}

/*
 * A batch is late when one of its new events is older than the engine's
 * clock AND either a deadline or periodic alert of its tenant, open or
 * retracted, was raised after that event's time, or it changes a record
 * (an upsert, a fact) and its tenant has events after it: only then can it
 * contradict what was already judged -- retract an alert, raise one a late
 * event had retracted, or judge later events against another record. Most
 * late events (a delayed use, a delayed payment with nothing due) just apply.
 */
static int
late_batch(struct daemon *d, const struct late_tenant *lt, int nlt,
    const struct soc_event *evs, const int64_t *jseq, size_t nev)
{
	instant_t	 clock = engine_clock(d->en);
	char		**ids, **rules;
	size_t		 k;
	int		 i, n, j, hit = 0;

	/*
	 * A record change the engine would apply after events of its tenant
	 * stamped later than it (journaled before it, this batch's included):
	 * in time order those events would have seen the new record.
	 */
	for (k = 0; k < nev && !hit; k++)
		if (evs[k].seq != UINT64_MAX && evs[k].time < clock &&
		    changes_records(d, &evs[k]) &&
		    store_events_after(d->store, evs[k].tenant, evs[k].time,
		    jseq[k]) > 0)
			hit = 1;
	for (i = 0; i < nlt && !hit; i++) {
		if (store_open_alerts_since(d->store, lt[i].tenant, lt[i].oldest,
		    1, &ids, &rules, NULL, &n) == -1)
			continue;
		for (j = 0; j < n && !hit; j++)
			hit = timer_rule(d->rs, rules[j]);
		free_list(ids, n);
		free_list(rules, n);
	}
	if (nlt > 0)
		d->stats.late++;
	return hit;
}

/*
 * The note says what is known. An alert raised under the rules and metadata
 * in force now is no longer raised only because of the late event: it shows
 * the obligation was met. One raised before they were (re)loaded may be gone
 * because of the reload (a purpose added to a dataset): the note must not
 * credit the late event with that (a reload itself retracts nothing).
 */
static void
retract(struct daemon *d, const char *id, const char *why, int64_t created_ms)
{
	char note[400];

	if (created_ms < d->set_loaded_ms)
		snprintf(note, sizeof(note), "retracted: judged again in event-time "
		    "order with the late event %s, under the rules (%.12s) and "
		    "metadata loaded since this alert was raised, it is no longer "
		    "raised; that load, not the late event, may be why",
		    why ? why : "?", d->rs ? d->rs->hash : "?");
	else
		snprintf(note, sizeof(note), "retracted: the late event %s shows the "
		    "obligation was met in time; replayed in event-time order it no "
		    "longer raises this alert", why ? why : "?");
	if (evidence_alert_transition(d->store, id, "retracted", "complyd", note,
	    daemon_now()) == 0 && store_alert_requeue(d->store, id, d->noutputs) == 0)
		d->stats.retracted++;
}

/* Retracts the late tenants' open alerts from their late time on that the replay did not raise. */
static void
retract_missing(struct daemon *d, struct hmap *truth)
{
	char	**ids, **rules;
	int64_t	*created;
	int	 i, j, n;

	store_begin(d->store);
	for (i = 0; i < d->nlate; i++) {
		if (store_open_alerts_since(d->store, d->late[i].tenant,
		    d->late[i].oldest, 0, &ids, &rules, &created, &n) == -1)
			continue;
		for (j = 0; j < n; j++)
			if (hmap_get(truth, ids[j]) == NULL)
				retract(d, ids[j], d->late[i].why, created[j]);
		free_list(ids, n);
		free_list(rules, n);
		free(created);
	}
	store_commit(d->store);
}

/*
 * Late events: the journal (now holding them) is replayed in event-time order
 * into a new engine, which becomes the live one. Alerts it raises that are
 * missing are stored; of the late tenants' alerts from their late events'
 * time on, those it raises otherwise are updated (a retracted one reopens)
 * and those it does not raise are retracted, each with the reason in its
 * history, and sent again to the outputs.
 */
static void
reconcile(struct daemon *d, struct late_tenant *lt, int nlt)
{
	struct hmap		 truth;
	struct state		*st;
	struct engine		*en;
	struct registry		*reg;
	int			 nerr = 0;

	/* A fresh registry: the replay applies the feed's facts again from the files. */
	reg = registry_new();
	if (d->cf.metadata)
		registry_load(reg, d->cf.metadata, &nerr);
	hmap_init(&truth);
	d->truth = &truth;
	d->late = lt;
	d->nlate = nlt;
	en = build_engine(d, daemon_now(), d->rs, reg, &st);
	retract_missing(d, &truth);
	d->truth = NULL;
	d->late = NULL;
	d->nlate = 0;
	hmap_free(&truth, NULL);
	engine_free(d->en);
	d->st->ops->free(d->st);
	registry_free(d->reg);
	d->en = en;
	d->st = st;
	d->reg = reg;
}

void
daemon_ingest(struct daemon *d, struct ingest_item *items, size_t n,
    int (*allow)(void *, const char *), void *arg, struct ingest_result *res)
{
	struct soc_event	*evs;
	struct late_tenant	*lt = NULL;
	int64_t		*jseq;
	size_t		 nev, i;
	int		 nlt;

	memset(res, 0, sizeof(*res));
	evs = decode_batch(items, n, allow, arg, res, &nev);
	jseq = xcalloc(nev + 1, sizeof(*jseq));
	if (journal_batch(d, evs, nev, items, res, jseq) == -1) {
		res->failed = 1;
		res->accepted = res->duplicates = 0;
	} else {
		nlt = late_tenants(d, evs, nev, &lt);
		if (late_batch(d, lt, nlt, evs, jseq, nev))
			reconcile(d, lt, nlt);
		else {
			/* Committed: now the engine may see them (alerts in one transaction). */
			store_begin(d->store);
			for (i = 0; i < nev; i++)
				if (evs[i].seq != UINT64_MAX)
					engine_event(d->en, &evs[i]);
			store_commit(d->store);
		}
		d->stats.accepted += res->accepted - res->duplicates;
		d->stats.duplicates += res->duplicates;
	}
	d->stats.rejected += res->nbad;
	free(lt);
	free(jseq);
	for (i = 0; i < nev; i++)
		event_dispose(&evs[i]);
	free(evs);
	if (!res->failed)
		daemon_flush_outputs(d);
}

void
daemon_flush_outputs(struct daemon *d)
{
	int i;

	for (i = 0; i < d->noutputs; i++)
		output_flush(d, d->outputs[i]);
}

/* --- building the engine from the journal --- */

struct replay_ctx {
	struct daemon	*d;
	struct engine	*en;
	int		 started;
	instant_t	 load;		/* the daemon's first load time */
	long		 bad;
};

static int
replay_one(void *arg, const char *json, size_t len, int64_t seq)
{
	struct replay_ctx	*c = arg;
	struct soc_event		 ev;
	char			 err[200];

	if (event_decode(json, len, &ev, err, sizeof(err)) == -1) {
		c->bad++;	/* was valid when journaled: a newer decoder disagrees */
		return 0;
	}
	ev.seq = (uint64_t)seq;
	if (!c->started) {
		/*
		 * Records are judged at the daemon's first load, always: events
		 * stamped before it reached the live engine late, after that
		 * judgement, and replaying them the same way keeps the record
		 * checks' times (and alert ids) across restarts.
		 */
		engine_start(c->en, c->load);
		c->started = 1;
	}
	engine_event(c->en, &ev);
	event_dispose(&ev);
	return 0;
}

/*
 * A new engine on (rs, reg), its state rebuilt by replaying the journal.
 * Alerts found again are stored if missing (ids dedupe): on start, one lost
 * between an ack and its alert's commit is raised now, with its own event
 * time; on reload, what the new rules or metadata find in the journal is
 * raised at once. Reload and restart so give the same alerts for the same
 * events (a silent reload left them for the next restart to raise).
 */
static struct engine *
build_engine(struct daemon *d, instant_t now, struct ruleset *rs,
    struct registry *reg, struct state **stp)
{
	struct alert_sink	 sink = { alert_sink, d, decision_sink, 0 };
	struct replay_ctx	 c = { d, NULL, 0, 0, 0 };

	/*
	 * The first load time is kept in the store, so that record checks keep
	 * their time (and their alert ids) across restarts. Without one, this
	 * is the first load: `now` is what the caller stores as its time.
	 */
	if (store_first_load(d->store, &c.load) != 0)
		c.load = now;
	*stp = state_mem_new();
	c.en = engine_new(rs, reg, *stp, sink);
	engine_set_horizon(c.en, daemon_now);
	store_begin(d->store);
	store_each_event(d->store, replay_one, &c);
	if (!c.started)
		engine_start(c.en, c.load);
	engine_advance(c.en, daemon_now());
	store_commit(d->store);
	if (c.bad)
		log_warnx("journal: %ld event(s) no longer decode; skipped", c.bad);
	return c.en;
}

/* Loads rules, metadata and tokens; NULL members on failure. */
static int
load_set(struct daemon *d, struct ruleset **rs, struct registry **reg,
    struct tokens **tok)
{
	const char	*rules = d->cf.rules;
	int		 nerr = 0;

	*rs = ruleset_load(&rules, 1, d->cf.calendar, &nerr);
	*reg = registry_new();
	if (d->cf.metadata)
		registry_load(*reg, d->cf.metadata, &nerr);
	*tok = tokens_load(d->cf.tokens, &nerr);
	if (*rs == NULL || nerr) {
		log_warnx("%d error(s) in rules, metadata or tokens", nerr);
		ruleset_free(*rs);
		registry_free(*reg);
		tokens_free(*tok);
		*rs = NULL;
		return -1;
	}
	return 0;
}

/* Appends the load of *rs to the evidence log; on failure frees the set: -1. */
static int
record_load(struct daemon *d, struct ruleset **rs, struct registry **reg,
    struct tokens **tok)
{
	int64_t now = daemon_now();

	if (evidence_ruleset_loaded(d->store, (*rs)->hash, (*rs)->nrules, now) == 0) {
		d->set_loaded_ms = now;
		return 0;
	}
	log_warnx("rules %.12s: the load could not be recorded in the evidence "
	    "log", (*rs)->hash);
	ruleset_free(*rs);
	registry_free(*reg);
	tokens_free(*tok);
	*rs = NULL;
	return -1;
}

static void
swap_in(struct daemon *d, struct ruleset *rs, struct registry *reg,
    struct tokens *tok)
{
	struct engine	*old_en = d->en;
	struct state	*old_st = d->st, *st;
	struct engine	*en;
	instant_t	 now = daemon_now();

	en = build_engine(d, now, rs, reg, &st);
	engine_free(old_en);
	if (old_st)
		old_st->ops->free(old_st);
	ruleset_free(d->rs);
	registry_free(d->reg);
	tokens_free(d->tokens);
	d->rs = rs;
	d->reg = reg;
	d->tokens = tok;
	d->en = en;
	d->st = st;
	log_info("rules %.12s: %d rule(s), %lld journaled event(s) replayed", rs->hash,
	    rs->nrules, (long long)store_event_count(d->store));
}

/*
 * A reload re-reads the config too (DESIGN: "reload rules, metadata and
 * config atomically"). What the new rule set is built from -- the paths of
 * the rules, metadata, calendar and tokens -- and max_body come into force
 * with it; listeners, inputs, outputs, the state directory and SQLite's
 * sync mode are open resources, so a change there is logged and waits for
 * the next restart.
 */
static void
swap_set_paths(struct config *a, struct config *b)
{
	char	*t;

#define SWAP(f)	(t = a->f, a->f = b->f, b->f = t)
	SWAP(rules);
	SWAP(metadata);
	SWAP(calendar);
	SWAP(tokens);
#undef SWAP
}

static int
str_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static void
warn_restart_only(const struct config *run, const struct config *cf)
{
	const char	*what[5] = { NULL };
	int		 i, n = 0;

	if (str_differ(run->state_dir, cf->state_dir))
		what[n++] = "state_dir";
	if (str_differ(run->synchronous, cf->synchronous))
		what[n++] = "synchronous";
	for (i = 0; i < run->nlisten || i < cf->nlisten; i++)
		if (run->nlisten != cf->nlisten ||
		    str_differ(run->listen[i], cf->listen[i])) {
			what[n++] = "api.listen";
			break;
		}
	for (i = 0; i < run->ninputs || i < cf->ninputs; i++)
		if (run->ninputs != cf->ninputs ||
		    run->inputs[i].type != cf->inputs[i].type ||
		    str_differ(run->inputs[i].listen, cf->inputs[i].listen) ||
		    str_differ(run->inputs[i].path, cf->inputs[i].path)) {
			what[n++] = "inputs";
			break;
		}
	for (i = 0; i < run->noutputs || i < cf->noutputs; i++)
		if (run->noutputs != cf->noutputs ||
		    run->outputs[i].type != cf->outputs[i].type ||
		    str_differ(run->outputs[i].path, cf->outputs[i].path) ||
		    str_differ(run->outputs[i].target, cf->outputs[i].target) ||
		    str_differ(run->outputs[i].url, cf->outputs[i].url)) {
			what[n++] = "outputs";
			break;
		}
	for (i = 0; i < n; i++)
		log_warnx("%s: %s changed; it takes effect at the next restart",
		    run->file, what[i]);
}

int
daemon_reload(struct daemon *d)
{
	struct ruleset	*rs;
	struct registry	*reg;
	struct tokens	*tok;
	struct config	 cf;
	int		 first = d->en == NULL;

	if (!first) {
		if (config_load(d->cf.file, &cf) == -1) {
			d->stats.reload_failures++;
			log_warnx("reload refused: errors in %s; the running "
			    "config and rules stay in force", d->cf.file);
			return -1;
		}
		swap_set_paths(&d->cf, &cf);
	}
	/*
	 * The load goes into the evidence log before the replay that judges
	 * with the new set, so what that replay decides follows it in the log;
	 * a load that cannot be recorded is not made.
	 */
	if (load_set(d, &rs, &reg, &tok) == -1 ||
	    record_load(d, &rs, &reg, &tok) == -1) {
		d->stats.reload_failures++;
		if (!first) {
			swap_set_paths(&d->cf, &cf);
			config_free(&cf);
			log_warnx("reload refused: the running rules stay in force");
		}
		return -1;
	}
	/* The registry owns a change hook into the old engine: detach it first. */
	swap_in(d, rs, reg, tok);
	if (!first) {
		warn_restart_only(&d->cf, &cf);
		d->cf.max_body = cf.max_body;
		http_set_limits(d);
		config_free(&cf);	/* the old paths, the new restart-only keys */
		d->stats.reloads++;
	}
	d->ready = 1;
	return 0;
}
