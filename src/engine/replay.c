/*
 * replay.c - the engine on an event-time clock (see replay.h). The input is
 * first scanned for the "time" of every line without building JSON trees
 * (reader_in_time_order); if it is already in time order it is then streamed
 * from the reader's thread, else loaded and sorted. Alerts wait for their
 * output order, as trees or spilled as lines to a file.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/jsonw.h"
#include "complyd/log.h"
#include "complyd/reader.h"
#include "complyd/replay.h"
#include "complyd/util.h"
#include "replay_int.h"

int
alert_vec_spill(struct alert_vec *av)
{
	const char	*dir = getenv("TMPDIR");
	char		 path[4096];
	int		 fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/complyd-alerts.XXXXXX",
	    dir) >= sizeof(path) || (fd = mkstemp(path)) == -1)
		return -1;
	unlink(path);	/* gone with the process, however it ends */
	if ((av->spill = fdopen(fd, "w+")) == NULL) {
		close(fd);
		return -1;
	}
	return 0;
}

/* Copies the strings the output order needs into one block a owns. */
static void
own_strings(struct alert *a)
{
	const char	*strs[4] = { a->tenant, a->key, a->status, a->id };
	char		*p;
	size_t		 n = 0, len[4];
	int		 i;

	for (i = 0; i < 4; i++)
		n += (len[i] = strlen(strs[i])) + 1;
	p = a->own = xmalloc(n);
	for (i = 0; i < 4; i++) {
		memcpy(p, strs[i], len[i] + 1);
		strs[i] = p;
		p += len[i] + 1;
	}
	a->tenant = strs[0];
	a->key = strs[1];
	a->status = strs[2];
	a->id = strs[3];
}

#define SPILL_BATCH	256	/* alerts between flushes */

/*
 * Adds a's record as a line to av->pending, which the next flush writes, and
 * frees its tree, if it has one. One write a batch, not one a few alerts (a
 * FILE's buffer holds a handful of ~700-byte records): a replay raising 100k
 * alerts made 20k write calls, under the collector's lock.
 */
static void
spill_one(struct alert_vec *av, struct alert *a)
{
	size_t	 start = av->pending.len;

	if (a->json != NULL)
		jsonw_value(&av->pending, a->json);
	else
		sbuf_add(&av->pending, a->text, a->len);
	a->len = av->pending.len - start;
	a->off = av->spilled + (off_t)start;
	cJSON_Delete(a->json);
	a->json = NULL;
}

/*
 * Writes the lines added since the last flush and makes them durable in the
 * file. Until then their text is kept: when the write or the flush fails (a
 * full disk), those alerts get their trees back from it, nothing is lost,
 * and spilling stops.
 */
static void
spill_flush(struct alert_vec *av)
{
	struct alert	*a;
	size_t		 i, at = 0;

	if (av->pending.len > 0 && (fwrite(av->pending.s, 1, av->pending.len,
	    av->spill) != av->pending.len || fflush(av->spill) != 0)) {
		log_warn("replay: cannot spill alerts to a temporary file; "
		    "keeping them in memory");
		av->spill_failed = 1;
	}
	for (i = av->flushed; av->spill_failed && i < av->n; i++) {
		a = &av->v[i];
		a->json = cJSON_ParseWithLength(av->pending.s + at, a->len);
		at += a->len;
	}
	if (!av->spill_failed)
		av->spilled += (off_t)av->pending.len;
	av->pending.len = 0;
	av->flushed = av->n;
}

static void
collect(void *arg, struct alert *a)
{
	struct alert_vec	*av = arg;
	int			 spilling = av->spill && !av->spill_failed;

	if (av->n == av->cap) {
		av->cap = av->cap ? av->cap * 2 : 256;
		av->v = xrealloc(av->v, av->cap * sizeof(*av->v));
	}
	if (spilling) {
		own_strings(a);
		spill_one(av, a);
	} else if (a->json == NULL && alert_tree(a) == -1) {
		/* Kept in memory: a record that came as text becomes a tree. */
		log_warnx("replay: alert %s does not parse; left out", a->id);
		free(a->own);
		return;
	}
	a->text = NULL;		/* the engine's, gone after this call */
	av->v[av->n++] = *a;
	if (spilling && av->n - av->flushed == SPILL_BATCH)
		spill_flush(av);
}

void
alert_vec_free(struct alert_vec *av)
{
	size_t	 i;
	int	 k;

	for (i = 0; i < av->n; i++) {
		cJSON_Delete(av->v[i].json);
		free(av->v[i].own);
	}
	free(av->v);
	sbuf_free(&av->pending);
	if (av->spill)
		fclose(av->spill);
	for (k = 0; k < av->nmore; k++)
		if (av->more[k] != NULL)
			fclose(av->more[k]);
	free(av->more);
	memset(av, 0, sizeof(*av));
}

void
alert_vec_merge(struct alert_vec *to, struct alert_vec *from)
{
	size_t	 i;
	int	 k, base = to->nmore + 1;

	/* Written out first: what waits in pending belongs to the last flush. */
	if (to->spill && !to->spill_failed)
		spill_flush(to);
	if (from->spill && !from->spill_failed)
		spill_flush(from);
	/* from's files follow to's: its own first (file base), then its more. */
	to->more = xrealloc(to->more, (to->nmore + from->nmore + 1) * sizeof(*to->more));
	to->more[to->nmore++] = from->spill;
	for (k = 0; k < from->nmore; k++)
		to->more[to->nmore++] = from->more[k];
	if (to->cap - to->n < from->n) {
		to->cap = to->n + from->n;
		to->v = xrealloc(to->v, to->cap * sizeof(*to->v));
	}
	for (i = 0; i < from->n; i++) {
		to->v[to->n] = from->v[i];
		to->v[to->n++].file += base;
	}
	to->flushed = to->n;
	free(from->v);
	free(from->more);
	sbuf_free(&from->pending);
	memset(from, 0, sizeof(*from));
}

/* Writes alert a as one line: its tree printed, or its line read back. 0 or -1. */
static int
print_one(struct alert_vec *av, const struct alert *a, FILE *out, char **buf,
    size_t *cap)
{
	struct sbuf	 b;
	FILE		*f;

	if (a->json) {
		sbuf_init(&b);
		jsonw_value(&b, a->json);
		fwrite(b.s, 1, b.len, out);
		sbuf_free(&b);
	} else {
		if (a->len > *cap) {
			*cap = a->len;
			*buf = xrealloc(*buf, *cap);
		}
		f = a->file == 0 ? av->spill : av->more[a->file - 1];
		if (f == NULL || fseeko(f, a->off, SEEK_SET) == -1 ||
		    fread(*buf, 1, a->len, f) != a->len) {
			log_warnx("replay: cannot read alert %s back from the "
			    "temporary file", a->id);
			return -1;
		}
		fwrite(*buf, 1, a->len, out);
	}
	fputc('\n', out);
	return 0;
}

int
alert_vec_print(struct alert_vec *av, FILE *out)
{
	char	*buf = NULL;
	size_t	 i, cap = 0;
	int	 rc = 0;

	if (av->spill && !av->spill_failed)
		spill_flush(av);
	if (av->n > 1)
		qsort(av->v, av->n, sizeof(*av->v), alert_cmp);
	for (i = 0; i < av->n; i++)
		if (print_one(av, &av->v[i], out, &buf, &cap) == -1)
			rc = -1;
	free(buf);
	return rc;
}

void
run_init(struct run *rn, struct ruleset *rs, struct registry *reg,
    struct alert_sink sink)
{
	memset(rn, 0, sizeof(*rn));
	/* A replay moves forward only: superseded record versions can go. */
	registry_keep_history(reg, 0);
	rn->st = state_mem_new();
	rn->en = engine_new(rs, reg, rn->st, sink);
}

void
run_see(struct run *rn, const struct soc_event *ev)
{
	if (!rn->started) {
		/* Records from files are checked at the replay's start: the first event. */
		engine_start(rn->en, ev->time);
		rn->started = 1;
	}
	if (!rn->any || ev->time > rn->last)
		rn->last = ev->time;
	rn->any = 1;
}

static void
run_event(struct run *rn, const struct soc_event *ev)
{
	run_see(rn, ev);
	engine_event(rn->en, ev);
}

void
stats_add(struct engine_stats *to, const struct engine_stats *s)
{
	to->events += s->events;
	to->duplicates += s->duplicates;
	to->alerts += s->alerts;
	to->suppressed += s->suppressed;
	to->reviews += s->reviews;
}

void
run_finish(struct run *rn, const struct replay_opts *o, struct replay_result *res)
{
	const struct engine_stats *s;

	if (!rn->started && o->has_until) {
		engine_start(rn->en, o->until);
		rn->started = 1;
	}
	if (o->has_until)
		engine_advance(rn->en, o->until);
	else if (rn->any)
		engine_advance(rn->en, rn->last);
	s = engine_stats(rn->en);
	stats_add(&res->stats, s);
	engine_free(rn->en);
	rn->st->ops->free(rn->st);
}

struct alert_sink
alert_vec_sink(struct alert_vec *out)
{
	/* No evidence log; a spilling collector writes the text, no tree. */
	struct alert_sink sink = { collect, out, NULL, out->spill != NULL };

	return sink;
}

struct replay_run {
	struct run	 rn;
};

struct replay_run *
replay_run_new(struct ruleset *rs, struct registry *reg, struct alert_vec *out)
{
	struct replay_run *r = xmalloc(sizeof(*r));

	run_init(&r->rn, rs, reg, alert_vec_sink(out));
	return r;
}

void
replay_run_event(struct replay_run *r, const struct soc_event *ev)
{
	run_event(&r->rn, ev);
}

void
replay_run_finish(struct replay_run *r, const struct replay_opts *o,
    struct replay_result *res)
{
	memset(res, 0, sizeof(*res));
	run_finish(&r->rn, o, res);
	free(r);
}

static int
ev_cmp(const void *pa, const void *pb)
{
	const struct soc_event *a = pa, *b = pb;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * A repeated (tenant, id) is processed once and the first in INPUT order wins,
 * so duplicates go before sorting by time could reorder them.
 */
static size_t
drop_duplicates(struct soc_event *evs, size_t n)
{
	struct hset64	 seen;
	size_t		 i, j;

	hset64_init(&seen);
	for (i = j = 0; i < n; i++) {
		if (hset64_add(&seen, event_id_hash(evs[i].tenant, evs[i].id)))
			evs[j++] = evs[i];
		else
			event_dispose(&evs[i]);
	}
	hset64_free(&seen);
	return j;
}

void
replay_events(struct ruleset *rs, struct registry *reg, struct soc_event *evs,
    size_t n, const struct replay_opts *o, struct alert_vec *out,
    struct replay_result *res)
{
	struct run	 rn;
	size_t		 i;

	memset(&res->stats, 0, sizeof(res->stats));
	n = drop_duplicates(evs, n);
	for (i = 0; i < n; i++)
		evs[i].seq = i;
	if (n > 1)
		qsort(evs, n, sizeof(*evs), ev_cmp);
	run_init(&rn, rs, reg, alert_vec_sink(out));
	for (i = 0; i < n; i++) {
		run_event(&rn, &evs[i]);
		event_dispose(&evs[i]);
	}
	run_finish(&rn, o, res);
}

/* --- files --- */

/* Reads a file's events into fn (stream_one, buffer_one), counting in res. */
static int
read_events(const char *path, const struct replay_opts *o,
    struct replay_result *res, int (*fn)(void *, struct soc_event *), void *arg)
{
	struct reader_counts	 c = { res->lines, res->rejected, 0 };
	int			 rc;

	rc = read_event_file(path, o->quiet, &c, fn, arg);
	res->lines = c.lines;
	res->rejected = c.rejected;
	return rc == 0 ? 0 : -1;
}

static int
stream_one(void *arg, struct soc_event *ev)
{
	run_event(arg, ev);
	event_dispose(ev);
	return 0;
}

/*
 * Streams time-ordered files through the engine while a reader thread decodes
 * the lines ahead of it. -1 if a file could not be read, -2 if no thread could
 * be started (nothing was read then).
 */
static int
stream_files(struct run *rn, char *const *files, int nfiles,
    const struct replay_opts *o, struct replay_result *res)
{
	struct reader		*rd;
	struct reader_batch	*b;
	struct reader_counts	 c;
	size_t			 i, j, n;

	if ((rd = reader_start(files, nfiles, o->quiet)) == NULL)
		return -2;
	while ((b = reader_next(rd)) != NULL) {
		for (i = 0; i < b->n; i += n) {
			n = b->n - i < ENGINE_PREFETCH_MAX ? b->n - i : ENGINE_PREFETCH_MAX;
			engine_prefetch(rn->en, b->ev + i, n);
			for (j = i; j < i + n; j++)
				run_event(rn, &b->ev[j]);
		}
		reader_done(rd, b);
	}
	reader_finish(rd, &c);
	res->lines += c.lines;
	res->rejected += c.rejected;
	return c.unreadable ? -1 : 0;
}

struct evbuf {
	struct soc_event	*v;
	size_t		 n, cap;
};

static int
buffer_one(void *arg, struct soc_event *ev)
{
	struct evbuf *b = arg;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	b->v[b->n++] = *ev;
	return 0;
}

int
replay_files(struct ruleset *rs, struct registry *reg, char *const *files,
    int nfiles, const struct replay_opts *o, struct alert_vec *out,
    struct replay_result *res)
{
	struct run	 rn;
	struct evbuf	 b = { NULL, 0, 0 };
	int		 i, rc = 0, threads = replay_threads();

	memset(res, 0, sizeof(*res));
	if (reader_in_time_order(files, nfiles)) {
		if (threads > 1 && (rc = replay_sharded(rs, reg, files, nfiles, o,
		    out, res, threads)) != -2)
			return rc;
		run_init(&rn, rs, reg, alert_vec_sink(out));
		if ((rc = stream_files(&rn, files, nfiles, o, res)) == -2) {
			rc = 0;
			for (i = 0; i < nfiles; i++)
				if (read_events(files[i], o, res, stream_one, &rn) == -1)
					rc = -1;
		}
		run_finish(&rn, o, res);
		return rc;
	}
	for (i = 0; i < nfiles; i++)
		if (read_events(files[i], o, res, buffer_one, &b) == -1)
			rc = -1;
	replay_events(rs, reg, b.v, b.n, o, out, res);	/* sets only res->stats */
	free(b.v);
	return rc;
}
