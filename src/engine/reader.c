/*
 * reader.c - event files decoded on their own thread (see reader.h).
 *
 * Why a thread: in a replay, reading and parsing the JSON lines costs about a
 * fifth of the time and does not depend on the engine. The decoder runs ahead
 * by at most READER_BATCHES batches. Batches come back to it once used, and
 * it disposes their events itself: a tree is freed by the thread whose malloc
 * arena made it, so the two threads do not contend for one arena's lock.
 *
 * One mutex and one condition guard both queues; with READER_BATCH events a
 * batch they are taken some tens of thousands of times a second: nothing
 * next to parsing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/reader.h"
#include "complyd/replay.h"
#include "complyd/util.h"

struct reader {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct reader_batch	*full, *full_tail;	/* decoded, in input order */
	struct reader_batch	*spent;			/* given back, to dispose */
	int			 nbatches;		/* allocated so far */
	int			 eof;			/* the decoder is done */
	int			 stop;			/* the consumer is done */
	char *const		*files;
	int			 nfiles;
	int			 quiet;
	struct reader_counts	 counts;		/* the decoder's own */
};

static void
dispose_batch(struct reader_batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		event_dispose(&b->ev[i]);
	b->n = 0;
}

/* An empty batch for the decoder, or NULL once the consumer has stopped. */
static struct reader_batch *
fresh_batch(struct reader *rd)
{
	struct reader_batch	*b = NULL;
	int			 grow = 0;

	pthread_mutex_lock(&rd->mu);
	while (rd->spent == NULL && rd->nbatches >= READER_BATCHES && !rd->stop)
		pthread_cond_wait(&rd->cv, &rd->mu);
	if (!rd->stop) {
		if ((b = rd->spent) != NULL)
			rd->spent = b->next;
		else {
			rd->nbatches++;
			grow = 1;
		}
	}
	pthread_mutex_unlock(&rd->mu);
	if (grow)
		b = xcalloc(1, sizeof(*b));
	else if (b != NULL)
		dispose_batch(b);
	return b;
}

static void
push_full(struct reader *rd, struct reader_batch *b)
{
	b->next = NULL;
	pthread_mutex_lock(&rd->mu);
	if (rd->full_tail)
		rd->full_tail->next = b;
	else
		rd->full = b;
	rd->full_tail = b;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
}

int
read_event_file(const char *path, int quiet, struct reader_counts *c,
    int (*fn)(void *, struct soc_event *), void *arg)
{
	FILE		*f;
	char		*line = NULL, err[256];
	size_t		 cap = 0, lineno = 0;
	ssize_t		 len;
	struct soc_event ev;
	int		 rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: error: %s\n", path, strerror(errno));
		c->unreadable++;
		return -1;
	}
	while (rc == 0 && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (str_blank(line, len))
			continue;
		c->lines++;
		if (event_decode(line, len, &ev, err, sizeof(err)) == -1) {
			c->rejected++;
			if (!quiet)
				fprintf(stderr, "%s:%zu: error: %s\n", path, lineno, err);
			continue;
		}
		ev.seq = c->lines;
		if (fn(arg, &ev) == -1)
			rc = -2;
	}
	free(line);
	if (close_input(f, path) == -1) {
		c->unreadable++;
		return rc ? rc : -1;
	}
	return rc;
}

/* The decoder's fn: an event into the current batch, handed over when full. */
struct batching {
	struct reader		*rd;
	struct reader_batch	*b;
};

static int
batch_one(void *arg, struct soc_event *ev)
{
	struct batching	*bt = arg;

	bt->b->ev[bt->b->n++] = *ev;
	if (bt->b->n < READER_BATCH)
		return 0;
	push_full(bt->rd, bt->b);
	return (bt->b = fresh_batch(bt->rd)) == NULL ? -1 : 0;
}

static void *
decoder(void *arg)
{
	struct reader		*rd = arg;
	struct batching		 bt = { rd, fresh_batch(rd) };
	int			 i;

	for (i = 0; bt.b != NULL && i < rd->nfiles; i++)
		if (read_event_file(rd->files[i], rd->quiet, &rd->counts,
		    batch_one, &bt) == -2)
			break;
	if (bt.b != NULL && bt.b->n > 0)
		push_full(rd, bt.b);
	else if (bt.b != NULL)
		reader_done(rd, bt.b);
	pthread_mutex_lock(&rd->mu);
	rd->eof = 1;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
	return NULL;
}

struct reader *
reader_start(char *const *files, int nfiles, int quiet)
{
	struct reader	*rd = xcalloc(1, sizeof(*rd));

	rd->files = files;
	rd->nfiles = nfiles;
	rd->quiet = quiet;
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->cv, NULL);
	if (pthread_create(&rd->th, NULL, decoder, rd) != 0) {
		pthread_cond_destroy(&rd->cv);
		pthread_mutex_destroy(&rd->mu);
		free(rd);
		return NULL;
	}
	return rd;
}

struct reader_batch *
reader_next(struct reader *rd)
{
	struct reader_batch	*b;

	pthread_mutex_lock(&rd->mu);
	while (rd->full == NULL && !rd->eof)
		pthread_cond_wait(&rd->cv, &rd->mu);
	if ((b = rd->full) != NULL && (rd->full = b->next) == NULL)
		rd->full_tail = NULL;
	pthread_mutex_unlock(&rd->mu);
	return b;
}

void
reader_done(struct reader *rd, struct reader_batch *b)
{
	pthread_mutex_lock(&rd->mu);
	b->next = rd->spent;
	rd->spent = b;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
}

static void
free_list(struct reader_batch *b)
{
	struct reader_batch	*next;

	for (; b != NULL; b = next) {
		next = b->next;
		dispose_batch(b);
		free(b);
	}
}

void
reader_finish(struct reader *rd, struct reader_counts *c)
{
	pthread_mutex_lock(&rd->mu);
	rd->stop = 1;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
	pthread_join(rd->th, NULL);
	free_list(rd->full);
	free_list(rd->spent);
	*c = rd->counts;
	pthread_cond_destroy(&rd->cv);
	pthread_mutex_destroy(&rd->mu);
	free(rd);
}
