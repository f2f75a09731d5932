/*
 * replay_shard.c - a time-ordered replay split by tenant over threads.
 *
 * Why: on a long history the engine, not parsing, bounds a replay, and
 * nothing an obligation depends on crosses tenants: records, deadlines,
 * periodic state and seen ids are all per tenant. So each thread runs its
 * own engine over its own part of the registry (registry_split) with its
 * own state, and decodes only its own tenants' lines: the reader thread
 * reads them and tells whose each is (reader_start_raw), and an event is
 * then parsed, looked up and judged on one thread, in that core's cache.
 *
 * What the runs share is where their clocks start and end: one engine
 * starts at the first event (records from files are checked then) and ends
 * at the latest time of all. The runs agree on the first at the first batch
 * that holds an event (agree_start) and on the last once all are through
 * (agree_end). In between only its own events move a run's clock, which is
 * exact (see shard_loop).
 *
 * Each run collects its alerts itself, spilled to a file of its own when
 * the caller's collector spills, and they are merged into the caller's at
 * the end (alert_vec_merge). Why not one collector under a lock: the runs
 * waited 0.025-0.03 s each for it on the bench's feed, while the other
 * wrote a batch out. Their output order does not depend on which thread
 * raised them: ties on (time, obligation, tenant, key, status) fall within
 * one tenant, so within one thread, whose emission order is that of a
 * single engine.
 *
 * Batches are handed back to the reader once every run has used them, so
 * memory stays bounded by the reader's batches in flight; the last run to
 * give one back prints its bad lines. Runs give batches back in input
 * order, each, so the last of them does too: the messages come out in it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/log.h"
#include "complyd/reader.h"
#include "complyd/registry.h"
#include "complyd/util.h"
#include "replay_int.h"

#define MAX_RUNS	64
/*
 * Events a run decodes before it applies them: their trees (an arena reused
 * each time) are still in its cache when the engine reads them. A whole
 * batch's took several hundred kilobytes, out of the cache by its end.
 */
#define DECODE_CHUNK	64

/* Until the runs have started: who has decoded a batch, and its first event. */
struct batch_first {
	int		 decoded;	/* runs through their part of it */
	int		 any;		/* one of them had an event */
	uint64_t	 seq;		/* then the first of those */
	instant_t	 time;
};

/* Batches shared by the runs: batch seq sits at ring[seq % READER_BATCHES]. */
struct fanout {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct reader		*rd;
	struct reader_batch	*ring[READER_BATCHES];
	int			 refs[READER_BATCHES];
	struct batch_first	 first[READER_BATCHES];
	uint64_t		 tail;		/* batches fetched so far */
	int			 nruns;
	int			 fetching;	/* a run waits on the reader */
	int			 eof;
	int			 go;		/* 1: runs start; -1: give up */
	int			 ended;		/* runs through all batches */
	int			 any;		/* of them, runs that had events */
	instant_t		 last;		/* then the latest time of those */
};

struct shard {
	pthread_t		 th;
	struct fanout		*fo;
	struct run		 rn;
	struct registry		*part;		/* its part of the registry */
	const struct replay_opts *o;
	struct replay_result	 res;		/* its engine's counts */
	struct event_arena	*arena;		/* its events' trees */
	struct alert_vec	 out;		/* its alerts, until merged */
	struct soc_event	 ev[READER_BATCH];	/* its events of a batch */
	int			 k;
	int			 started;	/* its thread exists */
};

int
replay_threads(void)
{
	const char	*s = getenv("COMPLYD_REPLAY_THREADS");
	long		 n;
	char		*end;

	if (s != NULL && *s != '\0') {
		n = strtol(s, &end, 10);
		if (*end == '\0' && n >= 1 && n <= MAX_RUNS)
			return (int)n;
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* Puts batch b at the tail of the ring; under fo->mu. */
static void
fanout_push(struct fanout *fo, struct reader_batch *b)
{
	int	 i = fo->tail % READER_BATCHES;

	fo->ring[i] = b;
	fo->refs[i] = fo->nruns;
	memset(&fo->first[i], 0, sizeof(fo->first[i]));
	fo->tail++;
}

/*
 * Batch seq, fetched from the reader by the first run to need it; NULL at
 * the end. The reader runs at most READER_BATCHES batches ahead of the
 * slowest run, which is what bounds the ring.
 */
static struct reader_batch *
fanout_get(struct fanout *fo, uint64_t seq)
{
	struct reader_batch	*b;

	pthread_mutex_lock(&fo->mu);
	for (;;) {
		if (seq < fo->tail) {
			b = fo->ring[seq % READER_BATCHES];
			break;
		}
		if (fo->eof) {
			b = NULL;
			break;
		}
		if (fo->fetching) {
			pthread_cond_wait(&fo->cv, &fo->mu);
			continue;
		}
		fo->fetching = 1;
		pthread_mutex_unlock(&fo->mu);
		b = reader_next(fo->rd);
		pthread_mutex_lock(&fo->mu);
		fo->fetching = 0;
		if (b == NULL)
			fo->eof = 1;
		else
			fanout_push(fo, b);
		pthread_cond_broadcast(&fo->cv);
	}
	pthread_mutex_unlock(&fo->mu);
	return b;
}

/*
 * A run is done with batch seq; the last one prints its bad lines, under
 * the lock so that two batches do not interleave, and gives it back.
 */
static void
fanout_put(struct fanout *fo, uint64_t seq)
{
	struct reader_batch	*b = NULL;
	int			 i = seq % READER_BATCHES;

	pthread_mutex_lock(&fo->mu);
	if (--fo->refs[i] == 0) {
		b = fo->ring[i];
		reader_report(b);
	}
	pthread_mutex_unlock(&fo->mu);
	if (b != NULL)
		reader_done(fo->rd, b);
}

/*
 * A run not started yet has decoded its part of batch seq, its first n
 * events in sh->ev: once every run has, the first event of the batch, if
 * any, starts the engine at its time, as the first event of a single run
 * would. Until then no run has started (none had an event), so all come
 * here for the same batches.
 */
static void
agree_start(struct shard *sh, uint64_t seq, size_t n)
{
	struct fanout		*fo = sh->fo;
	struct batch_first	*f = &fo->first[seq % READER_BATCHES];
	instant_t		 t;
	int			 any;

	pthread_mutex_lock(&fo->mu);
	if (n > 0 && (!f->any || sh->ev[0].seq < f->seq)) {
		f->any = 1;
		f->seq = sh->ev[0].seq;
		f->time = sh->ev[0].time;
	}
	f->decoded++;
	pthread_cond_broadcast(&fo->cv);
	while (f->decoded < fo->nruns)
		pthread_cond_wait(&fo->cv, &fo->mu);
	any = f->any;
	t = f->time;
	pthread_mutex_unlock(&fo->mu);
	/*
	 * Outside the lock: each run checks its own records (a tenth of a
	 * second on the bench's registry), all at once, not one after another.
	 */
	if (any) {
		engine_start(sh->rn.en, t);
		sh->rn.started = 1;
	}
}

/* Once every run is through: each ends at the latest time of all (run_finish). */
static void
agree_end(struct shard *sh)
{
	struct fanout	*fo = sh->fo;

	pthread_mutex_lock(&fo->mu);
	if (sh->rn.any && (!fo->any || sh->rn.last > fo->last))
		fo->last = sh->rn.last;
	fo->any |= sh->rn.any;
	fo->ended++;
	pthread_cond_broadcast(&fo->cv);
	while (fo->ended < fo->nruns)
		pthread_cond_wait(&fo->cv, &fo->mu);
	sh->rn.any = fo->any;
	sh->rn.last = fo->last;
	pthread_mutex_unlock(&fo->mu);
}

/*
 * A run applies its own events only, and only they move its clock. That is
 * exact: timers fire in due order with the clock set to their due time,
 * whether a run's clock went through the other tenants' times in between
 * or not, and nothing else reads the clock between two of its own events;
 * the run ends at the last time of all (agree_end). The events of each
 * chunk it decodes are hinted to its engine (engine_prefetch) before any
 * of them is applied.
 */
static void
shard_loop(struct shard *sh)
{
	struct reader_batch	*b;
	uint64_t		 seq;
	size_t			 i, n, at;

	for (seq = 0; (b = fanout_get(sh->fo, seq)) != NULL; seq++) {
		at = 0;
		do {
			n = reader_decode_part(sh->fo->rd, b, sh->k, sh->arena,
			    sh->ev, &at, sh->rn.started ? DECODE_CHUNK :
			    READER_BATCH);
			if (!sh->rn.started)
				agree_start(sh, seq, n);
			engine_prefetch(sh->rn.en, sh->ev, n);
			for (i = 0; i < n; i++) {
				run_see(&sh->rn, &sh->ev[i]);
				engine_event(sh->rn.en, &sh->ev[i]);
			}
		} while (at < b->nlines);
		fanout_put(sh->fo, seq);
	}
	agree_end(sh);
}

/*
 * Runs a part to its end, where one engine would end. Each then frees its
 * own part: freeing a few hundred thousand slots and records took a tenth
 * of a second, one part after the other, once all had finished.
 */
static void
shard_run(struct shard *sh)
{
	shard_loop(sh);
	run_finish(&sh->rn, sh->o, &sh->res);
	registry_free(sh->part);
	sh->part = NULL;
}

static void *
shard_main(void *arg)
{
	struct shard	*sh = arg;
	struct fanout	*fo = sh->fo;
	int		 go;

	pthread_mutex_lock(&fo->mu);
	while (fo->go == 0)
		pthread_cond_wait(&fo->cv, &fo->mu);
	go = fo->go;
	pthread_mutex_unlock(&fo->mu);
	if (go == 1)
		shard_run(sh);
	alert_thread_done();
	return NULL;
}

static void
release(struct fanout *fo, int go)
{
	pthread_mutex_lock(&fo->mu);
	fo->go = go;
	pthread_cond_broadcast(&fo->cv);
	pthread_mutex_unlock(&fo->mu);
}

static void
join_all(struct shard *sh, int n)
{
	int	 k;

	for (k = 1; k < n; k++)
		if (sh[k].started)
			pthread_join(sh[k].th, NULL);
}

/* Threads for runs 1..n-1 (run 0 is the caller's), parked until released. 0 or -1. */
static int
start_threads(struct shard *sh, struct fanout *fo, int n)
{
	int	 k;

	for (k = 0; k < n; k++) {
		sh[k].fo = fo;
		sh[k].k = k;
	}
	for (k = 1; k < n; k++) {
		if (pthread_create(&sh[k].th, NULL, shard_main, &sh[k]) != 0)
			return -1;
		sh[k].started = 1;
	}
	return 0;
}

static void
fanout_init(struct fanout *fo, int n)
{
	memset(fo, 0, sizeof(*fo));
	pthread_mutex_init(&fo->mu, NULL);
	pthread_cond_init(&fo->cv, NULL);
	fo->nruns = n;
}

static void
fanout_destroy(struct fanout *fo)
{
	pthread_cond_destroy(&fo->cv);
	pthread_mutex_destroy(&fo->mu);
}

int
replay_sharded(struct ruleset *rs, struct registry *reg, char *const *files,
    int nfiles, const struct replay_opts *o, struct alert_vec *out,
    struct replay_result *res, int n)
{
	struct shard		*sh = xcalloc(n, sizeof(*sh));
	struct fanout		 fo;
	struct registry		**parts;
	struct reader_counts	 c;
	int			 k;

	fanout_init(&fo, n);
	if (start_threads(sh, &fo, n) == -1 ||
	    (fo.rd = reader_start_raw(files, nfiles, o->quiet, n)) == NULL) {
		release(&fo, -1);
		join_all(sh, n);
		fanout_destroy(&fo);
		free(sh);
		return -2;
	}
	parts = registry_split(reg, n);
	for (k = 0; k < n; k++) {
		sh[k].part = parts[k];
		sh[k].o = o;
		/* No file: this run keeps its alerts as trees, as out would. */
		if (out->spill != NULL && !out->spill_failed &&
		    alert_vec_spill(&sh[k].out) == -1)
			log_warn("no temporary file; alerts are kept in memory");
		run_init(&sh[k].rn, rs, parts[k], alert_vec_sink(&sh[k].out));
		engine_leave_hits(sh[k].rn.en);
		sh[k].arena = event_arena_new();
	}
	free(parts);
	release(&fo, 1);
	shard_run(&sh[0]);
	join_all(sh, n);
	reader_finish(fo.rd, &c);
	res->lines += c.lines;
	res->rejected += c.rejected;
	for (k = 0; k < n; k++) {
		stats_add(&res->stats, &sh[k].res.stats);
		event_arena_free(sh[k].arena);
		alert_vec_merge(out, &sh[k].out);
	}
	fanout_destroy(&fo);
	free(sh);
	return c.unreadable ? -1 : 0;
}
