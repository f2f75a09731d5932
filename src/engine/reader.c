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

/* Decodes one line into b; a bad line is counted and reported. */
static void
decode_line(struct reader *rd, const char *path, size_t lineno,
    const char *line, size_t len, struct reader_batch *b)
{
	char	 err[256];

	rd->counts.lines++;
	if (event_decode(line, len, &b->ev[b->n], err, sizeof(err)) == -1) {
		rd->counts.rejected++;
		if (!rd->quiet)
			fprintf(stderr, "%s:%zu: error: %s\n", path, lineno, err);
		return;
	}
	b->ev[b->n++].seq = rd->counts.lines;
}

/* Decodes one file into batches; -1 once the consumer has stopped. */
static int
decode_file(struct reader *rd, const char *path, struct reader_batch **bp)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0, lineno = 0;
	ssize_t	 len;
	int	 rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: error: %s\n", path, strerror(errno));
		rd->counts.unreadable++;
		return 0;
	}
	while (rc == 0 && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (str_blank(line, len))
			continue;
		decode_line(rd, path, lineno, line, len, *bp);
		if ((*bp)->n == READER_BATCH) {
			push_full(rd, *bp);
			if ((*bp = fresh_batch(rd)) == NULL)
				rc = -1;
		}
	}
	free(line);
	if (close_input(f, path) == -1)
		rd->counts.unreadable++;
	return rc;
}

static void *
decoder(void *arg)
{
	struct reader		*rd = arg;
	struct reader_batch	*b = fresh_batch(rd);
	int			 i;

	for (i = 0; b != NULL && i < rd->nfiles; i++)
		if (decode_file(rd, rd->files[i], &b) == -1)
			break;
	if (b != NULL && b->n > 0)
		push_full(rd, b);
	else if (b != NULL)
		reader_done(rd, b);
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
