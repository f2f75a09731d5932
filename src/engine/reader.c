/*
 * reader.c - event files read and decoded for replays (see reader.h).
 *
 * Files are read in large blocks and split at newlines in place, not a
 * getline copy a line. The pre-scan for time order (reader_in_time_order),
 * which the engine waits for, reads a large input in two halves at once.
 *
 * Why a thread: in a replay, reading and parsing the JSON lines costs about a
 * fifth of the time and does not depend on the engine. The decoder runs ahead
 * by at most READER_BATCHES batches. Each batch has an arena the parser
 * builds its events' trees in (event_decode_in): no malloc and free a node,
 * no copy. Batches come back to the decoder once used, and it resets their
 * arenas itself: the memory is given back by the thread whose malloc arena
 * made it, so the two threads do not contend for one arena's lock.
 *
 * One mutex and one condition guard both queues; with READER_BATCH events a
 * batch they are taken some thousands of times a second: nothing next to
 * parsing.
 *
 * A replay split over threads (replay_shard.c) starts the reader raw
 * (reader_start_raw): the thread only reads and splits lines and tells
 * whose tenant each is, and each of the replay's threads decodes its own
 * lines (reader_decode_part), so that there are no more busy threads than
 * cores. A batch then carries what to print for its bad lines
 * (reader_report), printed once all have used it, in input order.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/reader.h"
#include "complyd/registry.h"
#include "complyd/util.h"

/* --- lines --- */

#define LINES_BLOCK	(1024 * 1024)	/* bytes read at a time */

/* A file read a block at a time; lines are handed out where they lie. */
struct lines {
	int	 fd;
	char	*buf;
	size_t	 cap;
	size_t	 off, end;	/* unread: buf[off..end) */
	size_t	 seen;		/* of them, known to hold no newline */
	off_t	 base;		/* the file offset of buf[0] */
	int	 eof;		/* read returned 0 or failed */
	int	 err;		/* errno of the failed read, else 0 */
};

static int
lines_open(struct lines *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	return (l->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ? -1 : 0;
}

/*
 * Reads more after the unread bytes, moved to the front first (the buffer
 * grows when a line fills it). -1 at the end of the file or on an error.
 */
static int
lines_fill(struct lines *l)
{
	ssize_t	 n;

	if (l->off > 0) {
		memmove(l->buf, l->buf + l->off, l->end - l->off);
		l->base += l->off;
		l->end -= l->off;
		l->off = 0;
	}
	if (l->cap - l->end < LINES_BLOCK / 2) {
		l->cap = l->cap ? l->cap * 2 : LINES_BLOCK;
		l->buf = xrealloc(l->buf, l->cap);
	}
	do
		n = read(l->fd, l->buf + l->end, l->cap - l->end);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		l->eof = 1;
		l->err = n == -1 ? errno : 0;
		return -1;
	}
	l->end += n;
	return 0;
}

/*
 * The next line and its length, as getline gives it: its newline included,
 * the last one possibly without. -1 at the end. The line lives until the
 * next call.
 */
static ssize_t
lines_next(struct lines *l, const char **line)
{
	const char	*nl;
	size_t		 len;

	for (;;) {
		if (l->off + l->seen < l->end && (nl = memchr(l->buf + l->off +
		    l->seen, '\n', l->end - l->off - l->seen)) != NULL) {
			len = nl + 1 - (l->buf + l->off);
			break;
		}
		l->seen = l->end - l->off;
		if (l->eof || lines_fill(l) == -1) {
			if ((len = l->end - l->off) == 0)
				return -1;
			break;
		}
	}
	*line = l->buf + l->off;
	l->off += len;
	l->seen = 0;
	return len;
}

/* The file offset of the next line. */
static off_t
lines_offset(const struct lines *l)
{
	return l->base + l->off;
}

/* Moves l on to the first line that starts at or after byte off (> 0). */
static void
lines_seek(struct lines *l, off_t off)
{
	const char	*line;

	if (lseek(l->fd, off - 1, SEEK_SET) == -1) {
		l->eof = 1;
		return;
	}
	l->base = off - 1;
	/* The end of the line before (or just the newline that ends it). */
	(void)lines_next(l, &line);
}

/* Closes l; -1 with errno set if reading failed (EISDIR). */
static int
lines_close(struct lines *l)
{
	close(l->fd);
	free(l->buf);
	if (l->err == 0)
		return 0;
	errno = l->err;
	return -1;
}

/* Where each_line's lines go, and its complaints ("FILE: error: ...\n"). */
struct line_sink {
	int	(*line)(void *, const char *, size_t, size_t);
	void	(*complain)(void *, const char *);	/* NULL: on stderr now */
	void	*arg;
};

/* A file that cannot be read, counted in c->unreadable and told as sk says. */
static void
complain(const struct line_sink *sk, struct reader_counts *c, const char *path)
{
	char	 msg[4096 + 256];

	c->unreadable++;
	snprintf(msg, sizeof(msg), "%s: error: %s\n", path, strerror(errno));
	if (sk->complain != NULL)
		sk->complain(sk->arg, msg);
	else
		fputs(msg, stderr);
}

/*
 * Calls sk->line on each non-blank line of path with its line number, until
 * it returns -1. 0 at the end, -1 if path could not be read (complained
 * of, counted in c->unreadable), -2 if the sink stopped.
 */
static int
each_line(const char *path, struct reader_counts *c, const struct line_sink *sk)
{
	struct lines	 l;
	const char	*line;
	size_t		 lineno = 0;
	ssize_t		 len;
	int		 rc = 0;

	if (lines_open(&l, path) == -1) {
		complain(sk, c, path);
		return -1;
	}
	while (rc == 0 && (len = lines_next(&l, &line)) != -1) {
		lineno++;
		if (!str_blank(line, len) && sk->line(sk->arg, line, len, lineno) == -1)
			rc = -2;
	}
	if (lines_close(&l) == -1) {
		complain(sk, c, path);
		return rc ? rc : -1;
	}
	return rc;
}

/* --- the time order pre-scan --- */

/*
 * The engine cannot start before the whole input is known to be in order, so
 * a large input is scanned in two halves at once, the second on a thread of
 * its own: the second core is idle until the decoder starts.
 */
#define SCAN_SPLIT	(8 * 1024 * 1024)	/* bytes worth a second thread */

/*
 * A part of the input: the lines of files[from..to) that start at or after
 * byte start of files[from] and, in files[to - 1], before byte end (-1: all).
 */
struct scan {
	char *const	*files;
	int		 from, to;
	off_t		 start, end;
	atomic_int	*unordered;	/* set by either part, stops both */
	int		 any;		/* lines with a time were found */
	instant_t	 first, last;	/* the first and last of those times */
};

static void
scan_time(struct scan *s, instant_t t)
{
	if (!s->any) {
		s->any = 1;
		s->first = t;
	} else if (t < s->last)
		atomic_store_explicit(s->unordered, 1, memory_order_relaxed);
	s->last = t;
}

/* Files that cannot be read are left to the replay to report. */
static void
scan_file(struct scan *s, int i)
{
	struct lines	 l;
	const char	*line;
	ssize_t		 len;
	off_t		 end = i == s->to - 1 ? s->end : -1;
	instant_t	 t;

	if (lines_open(&l, s->files[i]) == -1)
		return;
	if (i == s->from && s->start > 0)
		lines_seek(&l, s->start);
	while ((end == -1 || lines_offset(&l) < end) &&
	    !atomic_load_explicit(s->unordered, memory_order_relaxed) &&
	    (len = lines_next(&l, &line)) != -1)
		if (event_peek_time(line, len, &t) == 0)
			scan_time(s, t);
	l.err = 0;
	lines_close(&l);
}

static void *
scan_part(void *arg)
{
	struct scan	*s = arg;
	int		 i;

	for (i = s->from; i < s->to; i++)
		scan_file(s, i);
	return NULL;
}

static off_t
regular_size(const char *path)
{
	struct stat	 sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_size : 0;
}

/* Cuts a, the whole input, at byte mid of it: b gets the lines from there on. */
static void
scan_split(struct scan *a, struct scan *b, off_t mid)
{
	off_t	 size, sum = 0;
	int	 i;

	for (i = 0; i < a->to - 1; i++) {
		if (sum + (size = regular_size(a->files[i])) > mid)
			break;
		sum += size;
	}
	*b = *a;
	a->to = i + 1;
	a->end = b->start = mid - sum;
	b->from = i;
}

int
reader_in_time_order(char *const *files, int nfiles)
{
	atomic_int	 unordered = 0;
	struct scan	 a = { files, 0, nfiles, 0, -1, &unordered, 0, 0, 0 }, b;
	pthread_t	 th;
	off_t		 total = 0;
	struct stat	 sb;
	int		 i;

	for (i = 0; i < nfiles; i++) {
		if (stat(files[i], &sb) == -1 || S_ISDIR(sb.st_mode))
			continue;
		if (!S_ISREG(sb.st_mode))
			return 0;
		total += sb.st_size;
	}
	if (total < SCAN_SPLIT) {
		scan_part(&a);
		return !unordered;
	}
	scan_split(&a, &b, total / 2);
	if (pthread_create(&th, NULL, scan_part, &b) == 0) {
		scan_part(&a);
		pthread_join(th, NULL);
	} else {
		scan_part(&a);
		scan_part(&b);
	}
	return !unordered && !(a.any && b.any && b.first < a.last);
}

/* --- decoding --- */

/* "FILE:LINE: error: ...\n" for a bad line: a path and a decoder's reason. */
#define DECODE_MSG	(4096 + 256 + 64)

/*
 * Decodes a line into ev, its tree in arena a (or malloc'd if a is NULL).
 * -1 for a bad one, with its message ("FILE:LINE: error: ...\n") in msg.
 */
static int
decode_text(struct event_arena *a, const char *path, size_t lineno,
    const char *line, size_t len, struct soc_event *ev, char *msg, size_t msglen)
{
	char	 err[256];
	int	 rc;

	if (a != NULL)
		rc = event_decode_in(a, line, len, ev, err, sizeof(err));
	else
		rc = event_decode(line, len, ev, err, sizeof(err));
	if (rc == 0)
		return 0;
	snprintf(msg, msglen, "%s:%zu: error: %s\n", path, lineno, err);
	return -1;
}

/*
 * Counts a non-blank line and decodes it into ev, its tree in arena a (or
 * malloc'd if a is NULL). A bad line is counted and reported: -1.
 */
static int
decode_line(struct reader_counts *c, int quiet, struct event_arena *a,
    const char *path, size_t lineno, const char *line, size_t len,
    struct soc_event *ev)
{
	char	 msg[DECODE_MSG];

	c->lines++;
	if (decode_text(a, path, lineno, line, len, ev, msg, sizeof(msg)) == -1) {
		c->rejected++;
		if (!quiet)
			fputs(msg, stderr);
		return -1;
	}
	ev->seq = c->lines;
	return 0;
}

/* read_event_file's state: where the lines go. */
struct to_fn {
	const char		*path;
	int			 quiet;
	struct reader_counts	*c;
	int			(*fn)(void *, struct soc_event *);
	void			*arg;
};

static int
line_to_fn(void *arg, const char *line, size_t len, size_t lineno)
{
	struct to_fn		*t = arg;
	struct soc_event	 ev;

	if (decode_line(t->c, t->quiet, NULL, t->path, lineno, line, len,
	    &ev) == -1)
		return 0;
	return t->fn(t->arg, &ev);
}

int
read_event_file(const char *path, int quiet, struct reader_counts *c,
    int (*fn)(void *, struct soc_event *), void *arg)
{
	struct to_fn		 t = { path, quiet, c, fn, arg };
	struct line_sink	 sk = { line_to_fn, NULL, &t };

	return each_line(path, c, &sk);
}

/* --- the decoder thread --- */

/*
 * Batches given back before a waiting decoder is woken: a wake-up costs both
 * threads some microseconds (more in a VM), so it is had once for several
 * batches. reader_next wakes it for fewer rather than wait itself.
 */
#define READER_WAKE	(READER_BATCHES / 2)

struct reader {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct reader_batch	*full, *full_tail;	/* decoded, in input order */
	struct reader_batch	*spent;			/* given back, to dispose */
	int			 nspent;		/* batches in spent */
	int			 waiting;		/* the decoder, for spent */
	int			 eof;			/* the decoder is done */
	int			 stop;			/* the consumer is done */
	char *const		*files;
	int			 nfiles;
	int			 quiet;
	int			 raw;			/* lines left undecoded */
	int			 nparts;		/* raw: tenants split this many ways */
	struct reader_counts	 counts;		/* the decoder's own */
	atomic_size_t		 rejected;		/* by reader_decode_part */
};

/* Its events are gone with their arena's reset: only the ids are cleared. */
static void
dispose_batch(struct reader_batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		event_dispose(&b->ev[i]);
	for (i = 0; i < b->nlines; i++) {
		free(b->msg[i]);
		b->msg[i] = NULL;
	}
	b->n = 0;
	b->nlines = 0;
	b->text.len = 0;
	b->report.len = 0;
	event_arena_reset(b->arena);
}

/* An empty batch for the decoder, or NULL once the consumer has stopped. */
static struct reader_batch *
fresh_batch(struct reader *rd)
{
	struct reader_batch	*b = NULL;

	pthread_mutex_lock(&rd->mu);
	while (rd->spent == NULL && !rd->stop) {
		rd->waiting = 1;
		pthread_cond_wait(&rd->cv, &rd->mu);
	}
	rd->waiting = 0;
	if (!rd->stop) {
		b = rd->spent;
		rd->spent = b->next;
		rd->nspent--;
	}
	pthread_mutex_unlock(&rd->mu);
	if (b != NULL)
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

/* The decoder's state in a file: the batch being filled. */
struct batching {
	struct reader		*rd;
	const char		*path;
	struct reader_batch	*b;
};

/* Hands the batch being filled over and takes a fresh one; -1 once the consumer stopped. */
static int
hand_over(struct batching *bt)
{
	push_full(bt->rd, bt->b);
	return (bt->b = fresh_batch(bt->rd)) == NULL ? -1 : 0;
}

static int
batch_used(const struct reader_batch *b)
{
	return b->n > 0 || b->nlines > 0 || b->report.len > 0;
}

/* A line into the current batch, handed over when full; -1 to stop. */
static int
line_to_batch(void *arg, const char *line, size_t len, size_t lineno)
{
	struct batching		*bt = arg;
	struct reader_batch	*b = bt->b;

	if (decode_line(&bt->rd->counts, bt->rd->quiet, b->arena, bt->path,
	    lineno, line, len, &b->ev[b->n]) == -1 || ++b->n < READER_BATCH)
		return 0;
	return hand_over(bt);
}

/*
 * The part of nparts a line's tenant belongs to, told without decoding it:
 * a tenant written with escapes, or none a peek finds, is RAW_PART_ANY.
 * Where the line decodes, a peeked tenant is the decoded one
 * (event_peek_string), so every event goes to the part its tenant is in.
 */
static int
raw_part(const char *line, size_t len, int nparts)
{
	const char	*v;
	size_t		 vlen;

	if (nparts <= 1)
		return 0;
	if (event_peek_string(line, len, "tenant", &v, &vlen) == -1 ||
	    memchr(v, '\\', vlen) != NULL)
		return RAW_PART_ANY;
	return registry_part_of(v, vlen, nparts);
}

/* reader_start_raw: a line kept as read, with its place, number and part; -1 to stop. */
static int
raw_to_batch(void *arg, const char *line, size_t len, size_t lineno)
{
	struct batching		*bt = arg;
	struct reader_batch	*b = bt->b;
	struct raw_line		*r = &b->lines[b->nlines];

	r->off = b->text.len;
	r->len = len;
	r->lineno = lineno;
	r->path = bt->path;
	r->seq = ++bt->rd->counts.lines;
	r->part = raw_part(line, len, bt->rd->nparts);
	sbuf_add(&b->text, line, len);
	if (++b->nlines < READER_BATCH)
		return 0;
	return hand_over(bt);
}

/*
 * reader_start_raw: the lines before are reported when their batch is
 * decoded, so a file that cannot be read is told in a batch of its own,
 * handed over after theirs: its message prints in its place.
 */
static void
raw_complain(void *arg, const char *msg)
{
	struct batching *bt = arg;

	if (batch_used(bt->b) && hand_over(bt) == -1)
		return;
	sbuf_puts(&bt->b->report, msg);
	(void)hand_over(bt);
}

static void *
decoder(void *arg)
{
	struct reader		*rd = arg;
	struct batching		 bt = { rd, NULL, fresh_batch(rd) };
	struct line_sink	 sk = { line_to_batch, NULL, &bt };
	int			 i;

	if (rd->raw) {
		sk.line = raw_to_batch;
		sk.complain = raw_complain;
	}
	for (i = 0; bt.b != NULL && i < rd->nfiles; i++) {
		bt.path = rd->files[i];
		if (each_line(bt.path, &rd->counts, &sk) == -2)
			break;
	}
	if (bt.b != NULL && batch_used(bt.b))
		push_full(rd, bt.b);
	else if (bt.b != NULL)
		reader_done(rd, bt.b);
	pthread_mutex_lock(&rd->mu);
	rd->eof = 1;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
	return NULL;
}

static void
free_list(struct reader_batch *b)
{
	struct reader_batch	*next;

	for (; b != NULL; b = next) {
		next = b->next;
		dispose_batch(b);
		event_arena_free(b->arena);
		sbuf_free(&b->text);
		sbuf_free(&b->report);
		free(b);
	}
}

/*
 * The batches are made here, before the thread: the first arena routes
 * cJSON's allocations through its hooks, which must not change under a
 * thread that parses.
 */
static struct reader *
start(char *const *files, int nfiles, int quiet, int raw, int nparts)
{
	struct reader		*rd = xcalloc(1, sizeof(*rd));
	struct reader_batch	*b;
	int			 i;

	rd->files = files;
	rd->nfiles = nfiles;
	rd->quiet = quiet;
	rd->raw = raw;
	rd->nparts = nparts;
	atomic_init(&rd->rejected, 0);
	for (i = 0; i < READER_BATCHES; i++) {
		b = xcalloc(1, sizeof(*b));
		sbuf_init(&b->text);
		sbuf_init(&b->report);
		b->arena = event_arena_new();
		b->next = rd->spent;
		rd->spent = b;
		rd->nspent++;
	}
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->cv, NULL);
	if (pthread_create(&rd->th, NULL, decoder, rd) != 0) {
		free_list(rd->spent);
		pthread_cond_destroy(&rd->cv);
		pthread_mutex_destroy(&rd->mu);
		free(rd);
		return NULL;
	}
	return rd;
}

struct reader *
reader_start(char *const *files, int nfiles, int quiet)
{
	return start(files, nfiles, quiet, 0, 1);
}

struct reader *
reader_start_raw(char *const *files, int nfiles, int quiet, int nparts)
{
	return start(files, nfiles, quiet, 1, nparts);
}

size_t
reader_decode_part(struct reader *rd, struct reader_batch *b, int part,
    struct event_arena *a, struct soc_event *evs, size_t *at, size_t max)
{
	const struct raw_line	*r;
	struct soc_event	*ev;
	char			 msg[DECODE_MSG];
	size_t			 i, n = 0, bad = 0;

	event_arena_reset(a);
	for (i = *at; i < b->nlines && n < max; i++) {
		r = &b->lines[i];
		if (r->part != part && r->part != RAW_PART_ANY)
			continue;
		ev = &evs[n];
		if (decode_text(a, r->path, r->lineno, b->text.s + r->off,
		    r->len, ev, msg, sizeof(msg)) == -1) {
			if (r->part == part || part == 0) {
				bad++;
				if (!rd->quiet)
					b->msg[i] = xstrdup(msg);
			}
			continue;
		}
		if (r->part == RAW_PART_ANY && registry_part_of(ev->tenant,
		    strlen(ev->tenant), rd->nparts) != part) {
			event_dispose(ev);
			continue;
		}
		ev->seq = r->seq;
		n++;
	}
	*at = i;
	if (bad > 0)
		atomic_fetch_add(&rd->rejected, bad);
	return n;
}

void
reader_report(struct reader_batch *b)
{
	size_t	 i;

	if (b->report.len > 0)
		fwrite(b->report.s, 1, b->report.len, stderr);
	for (i = 0; i < b->nlines; i++)
		if (b->msg[i] != NULL) {
			fputs(b->msg[i], stderr);
			free(b->msg[i]);
			b->msg[i] = NULL;
		}
}

/*
 * The next full batch, or NULL with the decoder woken if it waits for a
 * spent one: nothing is ready to hand over, so it must not wait for more.
 * Under rd->mu.
 */
static struct reader_batch *
take_full(struct reader *rd)
{
	struct reader_batch	*b = rd->full;

	if (b == NULL) {
		if (rd->waiting && rd->spent != NULL)
			pthread_cond_broadcast(&rd->cv);
		return NULL;
	}
	if ((rd->full = b->next) == NULL)
		rd->full_tail = NULL;
	return b;
}

struct reader_batch *
reader_next(struct reader *rd)
{
	struct reader_batch	*b;

	pthread_mutex_lock(&rd->mu);
	while ((b = take_full(rd)) == NULL && !rd->eof)
		pthread_cond_wait(&rd->cv, &rd->mu);
	pthread_mutex_unlock(&rd->mu);
	return b;
}

void
reader_done(struct reader *rd, struct reader_batch *b)
{
	pthread_mutex_lock(&rd->mu);
	b->next = rd->spent;
	rd->spent = b;
	if (++rd->nspent >= READER_WAKE && rd->waiting)
		pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
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
	c->rejected += atomic_load(&rd->rejected);
	pthread_cond_destroy(&rd->cv);
	pthread_mutex_destroy(&rd->mu);
	free(rd);
}
