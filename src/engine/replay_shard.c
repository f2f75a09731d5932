/*
 * replay_shard.c - a time-ordered replay split by tenant over threads.
 *
 * Why: on a long history the engine, not parsing, bounds a replay, and
 * nothing an obligation depends on crosses tenants: records, deadlines,
 * periodic state and seen ids are all per tenant. So each thread runs its
 * own engine over its own part of the registry (registry_split) with its
 * own state. Every thread sees every event in input order but applies only
 * its own tenants' events, and only those move its clock: timers still fire
 * in the order and at the clock one engine would (see shard_loop).
 *
 * Alerts go to one collector under a lock. Their output order does not
 * depend on which thread raised them: ties on (time, obligation, tenant,
 * key, status) fall within one tenant, so within one thread, whose
 * emission order is that of a single engine.
 *
 * The reader thread reads the lines (reader.c, raw); its batches are fanned
 * out to the runs, which decode them (each batch by one run: decode_own),
 * and handed back to it once every run has used them, so memory stays
 * bounded by the reader's batches in flight.
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

/* A batch's lines: as read, being decoded by the run that owns it, or events. */
enum batch_state { BATCH_RAW, BATCH_DECODING, BATCH_READY };

/* Batches shared by the runs: batch seq sits at ring[seq % READER_BATCHES]. */
struct fanout {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct reader		*rd;
	struct reader_batch	*ring[READER_BATCHES];
	int			 refs[READER_BATCHES];
	enum batch_state	 state[READER_BATCHES];
	int			 told[READER_BATCHES];	/* its report printed */
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
	struct registry		*part;		/* its part of the registry */
	const struct replay_opts *o;
	struct replay_result	 res;		/* its engine's counts */
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

/* Puts batch b at the tail of the ring; under fo->mu. */
static void
fanout_push(struct fanout *fo, struct reader_batch *b)
{
	int	 i = fo->tail % READER_BATCHES;

	fo->ring[i] = b;
	fo->refs[i] = fo->nruns;
	fo->state[i] = BATCH_RAW;
	fo->told[i] = 0;
	fo->tail++;
}

/*
 * Takes the batches the reader has ready, without waiting; under fo->mu.
 * Not while a run waits in reader_next: batches must enter in input order.
 */
static void
fanout_poll(struct fanout *fo)
{
	struct reader_batch	*b;
	int			 rc;

	while (!fo->fetching && !fo->eof && (rc = reader_poll(fo->rd, &b)) != 0) {
		if (rc == -1)
			fo->eof = 1;
		else
			fanout_push(fo, b);
	}
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

/* Decodes the batch in slot i, not decoded yet; under fo->mu, dropped meanwhile. */
static void
decode_slot(struct fanout *fo, int i)
{
	struct reader_batch	*b = fo->ring[i];

	fo->state[i] = BATCH_DECODING;
	pthread_mutex_unlock(&fo->mu);
	reader_decode(fo->rd, b);
	pthread_mutex_lock(&fo->mu);
	fo->state[i] = BATCH_READY;
	pthread_cond_broadcast(&fo->cv);
}

/*
 * Why the runs decode: the reader thread only reads lines (reader_start_raw).
 * Decoding on a thread of its own made one thread more than there are cores
 * on a small machine, where the runs are the bottleneck: the threads took
 * turns. So batch s is decoded by run s % nruns, as soon as it is fetched:
 * each run decodes its own batches among those fetched, from where it is
 * on, before it uses the next one (wait_ready).
 */
static void
decode_own(struct shard *sh, uint64_t from)
{
	struct fanout	*fo = sh->fo;
	uint64_t	 s;
	int		 i;

	pthread_mutex_lock(&fo->mu);
	fanout_poll(fo);
	s = from + ((uint64_t)sh->k + sh->n - from % sh->n) % sh->n;
	for (; s < fo->tail; s += sh->n) {
		i = s % READER_BATCHES;
		if (fo->state[i] == BATCH_RAW) {
			decode_slot(fo, i);
			fanout_poll(fo);
		}
	}
	pthread_mutex_unlock(&fo->mu);
}

/*
 * Waits until batch seq is decoded; one its owner has not started on (busy
 * with a batch of its own) it decodes itself, so no run ever waits for a
 * run that is not decoding. The first run to use a batch prints its bad
 * lines: runs use batches in input order, so the messages come out in it.
 */
static void
wait_ready(struct fanout *fo, uint64_t seq)
{
	int	 i = seq % READER_BATCHES;

	pthread_mutex_lock(&fo->mu);
	if (fo->state[i] == BATCH_RAW)
		decode_slot(fo, i);
	while (fo->state[i] != BATCH_READY)
		pthread_cond_wait(&fo->cv, &fo->mu);
	if (!fo->told[i]) {
		fo->told[i] = 1;
		reader_report(fo->ring[i]);
	}
	pthread_mutex_unlock(&fo->mu);
}

static int
mine(const struct shard *sh, const char *tenant)
{
	return registry_part_of(tenant, strlen(tenant), sh->n) == sh->k;
}

/*
 * Which of a batch's events are this run's; those are hinted to its engine
 * (engine_prefetch) before any is applied.
 */
static void
sort_out(struct shard *sh, const struct reader_batch *b, unsigned char *own)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		if ((own[i] = mine(sh, b->ev[i].tenant)))
			engine_prefetch(sh->rn.en, &b->ev[i]);
}

/*
 * Every run sees every event (run_see: the first starts its engine), but
 * only its own move its engine's clock. That is exact: timers fire in due
 * order with the clock set to their due time, whether a run's clock went
 * through the other tenants' times in between or not, and nothing else
 * reads the clock between two of its own events; run_finish moves it to
 * the last time of all.
 */
static void
shard_loop(struct shard *sh)
{
	struct reader_batch	*b;
	unsigned char		 own[READER_BATCH];
	uint64_t		 seq;
	size_t			 i;

	for (seq = 0; (b = fanout_get(sh->fo, seq)) != NULL; seq++) {
		decode_own(sh, seq);
		wait_ready(sh->fo, seq);
		sort_out(sh, b, own);
		for (i = 0; i < b->n; i++) {
			run_see(&sh->rn, &b->ev[i]);
			if (own[i])
				engine_event(sh->rn.en, &b->ev[i]);
		}
		fanout_put(sh->fo, seq);
	}
}

/*
 * Runs a part to its end. Every run saw every event: each ends where one
 * engine would. Each then frees its own part: freeing a few hundred
 * thousand slots and records took a tenth of a second, one part after
 * the other, once all had finished.
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
	    (fo.rd = reader_start_raw(files, nfiles, o->quiet)) == NULL) {
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
		sh[k].part = parts[k];
		sh[k].o = o;
		run_init(&sh[k].rn, rs, parts[k], sink);
		engine_leave_hits(sh[k].rn.en);
	}
	free(parts);
	release(&fo, 1);
	shard_run(&sh[0]);
	join_all(sh, n);
	reader_finish(fo.rd, &c);
	res->lines += c.lines;
	res->rejected += c.rejected;
	for (k = 0; k < n; k++)
		stats_add(&res->stats, &sh[k].res.stats);
	pthread_mutex_destroy(&lk.mu);
	fanout_destroy(&fo);
	free(sh);
	return c.unreadable ? -1 : 0;
}
