/*
 * replay_shard.c - a time-ordered replay split by tenant over threads.
 *
 * Why: on a long history the engine, not parsing, bounds a replay, and
 * nothing an obligation depends on crosses tenants: records, deadlines,
 * periodic state and seen ids are all per tenant. So each thread runs its
 * own engine over its own part of the registry (registry_split) with its
 * own state. Every thread sees every event in input order and moves its
 * clock with each, as one engine would (timers fire at the same points,
 * `now` reads the same), but applies only its own tenants' events.
 *
 * Alerts go to one collector under a lock. Their output order does not
 * depend on which thread raised them: ties on (time, obligation, tenant,
 * key, status) fall within one tenant, so within one thread, whose
 * emission order is that of a single engine.
 *
 * The reader thread decodes the lines (reader.c); its batches are fanned
 * out to the runs and handed back to it once every run has used them, so
 * memory stays bounded by the reader's batches in flight.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/reader.h"
#include "complyd/registry.h"
#include "complyd/util.h"
#include "replay_int.h"

#define MAX_RUNS	64

/* Decoded batches shared by the runs: batch seq sits at ring[seq % READER_BATCHES]. */
struct fanout {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct reader		*rd;
	struct reader_batch	*ring[READER_BATCHES];
	int			 refs[READER_BATCHES];
	uint64_t		 tail;		/* batches fetched so far */
	int			 nruns;
	int			 fetching;	/* a run waits on the reader */
	int			 eof;
	int			 go;		/* 1: runs start; -1: give up */
};

struct shard {
	pthread_t		 th;
	struct fanout		*fo;
	struct run		 rn;
	int			 k, n;
	int			 started;	/* its thread exists */
};

/* The collector shared by the runs. */
struct locked_sink {
	pthread_mutex_t		 mu;
	struct alert_sink	 in;
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

static void
locked_emit(void *arg, struct alert *a)
{
	struct locked_sink *l = arg;

	pthread_mutex_lock(&l->mu);
	l->in.emit(l->in.arg, a);
	pthread_mutex_unlock(&l->mu);
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
		else {
			fo->ring[fo->tail % READER_BATCHES] = b;
			fo->refs[fo->tail % READER_BATCHES] = fo->nruns;
			fo->tail++;
		}
		pthread_cond_broadcast(&fo->cv);
	}
	pthread_mutex_unlock(&fo->mu);
	return b;
}

/* A run is done with batch seq; the last one gives it back to the reader. */
static void
fanout_put(struct fanout *fo, uint64_t seq)
{
	struct reader_batch	*b = NULL;
	int			 i = seq % READER_BATCHES;

	pthread_mutex_lock(&fo->mu);
	if (--fo->refs[i] == 0)
		b = fo->ring[i];
	pthread_mutex_unlock(&fo->mu);
	if (b != NULL)
		reader_done(fo->rd, b);
}

static int
mine(const struct shard *sh, const char *tenant)
{
	return registry_part_of(tenant, strlen(tenant), sh->n) == sh->k;
}

static void
shard_loop(struct shard *sh)
{
	struct reader_batch	*b;
	struct soc_event	*ev;
	uint64_t		 seq;
	size_t			 i;

	for (seq = 0; (b = fanout_get(sh->fo, seq)) != NULL; seq++) {
		for (i = 0; i < b->n; i++) {
			ev = &b->ev[i];
			run_see(&sh->rn, ev);
			if (mine(sh, ev->tenant))
				engine_event(sh->rn.en, ev);
			else
				engine_advance(sh->rn.en, ev->time);
		}
		fanout_put(sh->fo, seq);
	}
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
		shard_loop(sh);
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
		sh[k].n = n;
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
	struct locked_sink	 lk;
	struct alert_sink	 sink;
	struct registry		**parts;
	struct reader_counts	 c;
	int			 k;

	fanout_init(&fo, n);
	if (start_threads(sh, &fo, n) == -1 ||
	    (fo.rd = reader_start(files, nfiles, o->quiet)) == NULL) {
		release(&fo, -1);
		join_all(sh, n);
		fanout_destroy(&fo);
		free(sh);
		return -2;
	}
	lk.in = alert_vec_sink(out);
	pthread_mutex_init(&lk.mu, NULL);
	sink = lk.in;	/* the collector's text or trees, under the lock */
	sink.emit = locked_emit;
	sink.arg = &lk;
	parts = registry_split(reg, n);
	for (k = 0; k < n; k++) {
		run_init(&sh[k].rn, rs, parts[k], sink);
		engine_leave_hits(sh[k].rn.en);
	}
	release(&fo, 1);
	shard_loop(&sh[0]);
	join_all(sh, n);
	reader_finish(fo.rd, &c);
	res->lines += c.lines;
	res->rejected += c.rejected;
	/* Every run saw every event: each ends where one engine would. */
	for (k = 0; k < n; k++) {
		run_finish(&sh[k].rn, o, res);
		registry_free(parts[k]);
	}
	free(parts);
	pthread_mutex_destroy(&lk.mu);
	fanout_destroy(&fo);
	free(sh);
	return c.unreadable ? -1 : 0;
}
