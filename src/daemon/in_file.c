/*
 * in_file.c - the file-tail input: every file matching a glob is read line
 * by line from its persisted offset, in batches of up to 1000 lines, and
 * follows rotation (rename-and-create: the old file is drained first) and
 * truncation (copytruncate: start again at 0).
 *
 * The offset is saved right after daemon_ingest committed the batch, not in
 * its transaction. A crash in between re-reads those lines on restart, which
 * is harmless: the journal dedupes events by (tenant, id), so nothing is lost
 * (the offset never passes an uncommitted line) and nothing counts twice.
 * Only the file now at a path has a saved offset: the tail of a rotated-away
 * file that was not drained before a crash is not read after the restart.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/daemon.h"
#include "complyd/event.h"
#include "complyd/log.h"
#include "complyd/util.h"

#define BATCH_LINES	1000
#define POLL_BATCHES	100	/* per file and poll, so one file cannot stall the loop */
#define READ_CHUNK	(64 * 1024)
#define OLD_GRACE_MS	5000	/* writers may append briefly after a rotation */

/* One open file and how far it has been committed. */
struct reader {
	int		 fd;
	uint64_t	 dev, ino;
	uint64_t	 off;		/* just past the last committed line */
	long		 lineno;	/* lines before off */
	int		 skipping;	/* inside an overlong line: drop to its LF */
	off_t		 drained;	/* size at the last drain (old file) */
	int64_t		 grown_at;	/* when that size was first seen */
};

struct tail {
	char		*path;
	struct reader	 cur;	/* the file now at path */
	struct reader	 old;	/* the one rotated away, until drained */
	int		 seen;	/* offset looked up in the store */
	int		 matched;	/* in the latest glob */
};

struct input_file {
	char			*pattern;
	struct tail		*tails;
	size_t			 ntails;
	char			*buf;		/* holds a longest line and a chunk */
	size_t			 cap;
	struct ingest_item	 items[BATCH_LINES];
	size_t			 nitems;
};

static void
reader_reset(struct reader *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static void
reader_close(struct reader *r)
{
	if (r->fd != -1)
		close(r->fd);
	reader_reset(r);
}

/* Line numbers continue across restarts: count those before the offset. */
static long
count_lines(struct input_file *f, int fd, uint64_t upto)
{
	uint64_t	 pos = 0;
	ssize_t		 n;
	long		 lines = 0;
	const char	*p, *end;

	while (pos < upto) {
		size_t want = upto - pos < f->cap ? upto - pos : f->cap;

		if ((n = pread(fd, f->buf, want, (off_t)pos)) <= 0)
			break;
		for (p = f->buf, end = p + n;
		    (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			lines++;
		pos += (uint64_t)n;
	}
	return lines;
}

/* Opens the file now at t->path into cur; resumes from the store the first time. */
static int
tail_open(struct daemon *d, struct input_file *f, struct tail *t)
{
	struct stat	 sb;
	uint64_t	 ino, off;
	int		 fd;

	if ((fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno != ENOENT)
			log_warn("file %s: open", t->path);
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	reader_reset(&t->cur);
	t->cur.fd = fd;
	t->cur.dev = (uint64_t)sb.st_dev;
	t->cur.ino = (uint64_t)sb.st_ino;
	if (t->seen)
		return 0;	/* a new file after rotation: from its start */
	t->seen = 1;
	if (store_offset_get(d->store, t->path, &ino, &off) != 0)
		return 0;
	if (ino != t->cur.ino)
		log_info("file %s: replaced while stopped; reading it from the "
		    "start", t->path);
	else if (off > (uint64_t)sb.st_size)
		log_info("file %s: truncated while stopped; reading it from "
		    "the start", t->path);
	else {
		t->cur.off = off;
		t->cur.lineno = count_lines(f, fd, off);
	}
	return 0;
}

static void
log_rejects(const char *path, struct ingest_result *res)
{
	int	 i;

	for (i = 0; i < res->nrejects; i++)
		log_warnx("%s:%ld: %s", path, res->rejects[i].line,
		    res->rejects[i].error);
}

/*
 * Commits the collected lines and moves r past `used` bytes with `lineno`
 * lines; 0, or -1 when storage failed (r stays, the lines are read again).
 */
static int
commit(struct daemon *d, struct input_file *f, struct tail *t,
    struct reader *r, size_t used, long lineno, int persist)
{
	struct ingest_result	 res;

	if (f->nitems > 0) {
		memset(&res, 0, sizeof(res));
		daemon_ingest(d, f->items, f->nitems, NULL, NULL, &res);
		f->nitems = 0;
		if (res.failed) {
			ingest_result_free(&res);
			log_warnx("file %s: storage failed; retrying next poll",
			    t->path);
			return -1;
		}
		log_rejects(t->path, &res);
		ingest_result_free(&res);
	}
	r->off += used;
	r->lineno = lineno;
	/* Not fatal: a stale offset only re-reads lines the journal dedupes. */
	if (persist && used > 0 &&
	    store_offset_set(d->store, t->path, r->ino, r->off) == -1)
		log_warnx("file %s: cannot save the offset", t->path);
	return 0;
}

/* Queues one complete line (NUL-terminated in place); blank lines are skipped. */
static void
take_line(struct daemon *d, struct input_file *f, const char *path, char *s,
    size_t len, long lineno)
{
	size_t	 i;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	s[len] = '\0';
	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i == len)
		return;
	if (len > EVENT_MAX_LINE) {
		log_warnx("%s:%ld: line longer than %d bytes", path, lineno,
		    EVENT_MAX_LINE);
		d->stats.rejected++;
		return;
	}
	f->items[f->nitems].text = s;
	f->items[f->nitems].len = len;
	f->items[f->nitems].line = lineno;
	f->nitems++;
}

/*
 * Reads complete lines from r->off on and commits them batch by batch.
 * A partial last line stays in the file for the next poll, unless `final`
 * (the file was rotated away and stopped growing): then it counts as a line.
 * Returns 0, or -1 on a read or storage failure.
 */
static int
reader_pass(struct daemon *d, struct input_file *f, struct tail *t,
    struct reader *r, int persist, int final)
{
	size_t	 have = 0, pos, used;
	ssize_t	 n;
	char	*nl;
	long	 lineno = r->lineno;
	int	 eof = 0, batches = 0;

	while (!eof || have > 0) {
		if (!eof) {
			n = pread(r->fd, f->buf + have, f->cap - have,
			    (off_t)(r->off + have));
			if (n == -1) {
				log_warn("file %s: read", t->path);
				return -1;
			}
			eof = n == 0;
			have += (size_t)n;
		}
		pos = used = 0;
		while ((nl = memchr(f->buf + pos, '\n', have - pos)) != NULL) {
			size_t len = (size_t)(nl - (f->buf + pos));

			lineno++;
			if (r->skipping)
				r->skipping = 0;	/* the tail of an overlong line */
			else
				take_line(d, f, t->path, f->buf + pos, len, lineno);
			pos += len + 1;
			if (f->nitems == BATCH_LINES) {
				if (commit(d, f, t, r, pos - used, lineno,
				    persist) == -1)
					return -1;
				used = pos;
				if (++batches == POLL_BATCHES)
					return 0;
			}
		}
		if (commit(d, f, t, r, pos - used, lineno, persist) == -1)
			return -1;
		memmove(f->buf, f->buf + pos, have - pos);
		have -= pos;
		if (have == f->cap) {
			/* No LF in a full buffer: drop the line up to its end. */
			if (!r->skipping)
				log_warnx("%s:%ld: line longer than %d bytes",
				    t->path, lineno + 1, EVENT_MAX_LINE);
			if (!r->skipping)
				d->stats.rejected++;
			r->skipping = 1;
			if (commit(d, f, t, r, have, lineno, persist) == -1)
				return -1;
			have = 0;
		} else if (eof && have > 0) {
			if (final && !r->skipping) {
				lineno++;
				take_line(d, f, t->path, f->buf, have, lineno);
				log_warnx("%s:%ld: last line has no newline",
				    t->path, lineno);
				if (commit(d, f, t, r, have, lineno, persist) == -1)
					return -1;
			}
			break;
		}
	}
	return 0;
}

/*
 * The rotated-away file: read what was appended since; once it has not
 * grown for OLD_GRACE_MS (the writer reopened), take its unterminated last
 * line and close it.
 */
static int
drain_old(struct daemon *d, struct input_file *f, struct tail *t)
{
	struct stat	 sb;
	int64_t		 now = daemon_now();
	int		 idle;

	if (t->old.fd == -1)
		return 0;
	if (fstat(t->old.fd, &sb) == -1)
		return -1;
	if (sb.st_size != t->old.drained) {
		t->old.drained = sb.st_size;
		t->old.grown_at = now;
	}
	idle = now - t->old.grown_at >= OLD_GRACE_MS;
	if (reader_pass(d, f, t, &t->old, 0, idle) == -1)
		return -1;
	if (idle) {
		log_info("file %s: finished the rotated file", t->path);
		reader_close(&t->old);
	}
	return 0;
}

/* Moves cur to old: it is drained before it is closed. */
static int
retire_cur(struct daemon *d, struct input_file *f, struct tail *t)
{
	if (t->old.fd != -1) {
		/* Rotated twice within a drain: finish the older one now. */
		if (reader_pass(d, f, t, &t->old, 0, 1) == -1)
			return -1;
		reader_close(&t->old);
	}
	t->old = t->cur;
	t->old.drained = -1;	/* differs from any size: the grace starts now */
	reader_reset(&t->cur);
	return drain_old(d, f, t);
}

static void
tail_poll(struct daemon *d, struct input_file *f, struct tail *t)
{
	struct stat	 sb;

	if (drain_old(d, f, t) == -1)
		return;
	if (stat(t->path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		/* Gone (renamed away): what it still gets is read via the fd. */
		if (t->cur.fd != -1)
			(void)retire_cur(d, f, t);
		return;
	}
	if (t->cur.fd != -1 && ((uint64_t)sb.st_ino != t->cur.ino ||
	    (uint64_t)sb.st_dev != t->cur.dev)) {
		log_info("file %s: rotated", t->path);
		if (retire_cur(d, f, t) == -1)
			return;
	}
	if (t->cur.fd == -1 && tail_open(d, f, t) == -1)
		return;
	if ((uint64_t)sb.st_size < t->cur.off) {
		log_info("file %s: truncated; reading it from the start",
		    t->path);
		t->cur.off = 0;
		t->cur.lineno = 0;
		t->cur.skipping = 0;
	}
	(void)reader_pass(d, f, t, &t->cur, 1, 0);
}

static struct tail *
tail_find(struct input_file *f, const char *path)
{
	size_t	 i;

	for (i = 0; i < f->ntails; i++)
		if (strcmp(f->tails[i].path, path) == 0)
			return &f->tails[i];
	f->tails = xrealloc(f->tails, (f->ntails + 1) * sizeof(*f->tails));
	memset(&f->tails[f->ntails], 0, sizeof(*f->tails));
	f->tails[f->ntails].path = xstrdup(path);
	reader_reset(&f->tails[f->ntails].cur);
	reader_reset(&f->tails[f->ntails].old);
	return &f->tails[f->ntails++];
}

/* Forgets files that left the glob and have nothing open any more. */
static void
tails_prune(struct input_file *f)
{
	size_t	 i = 0;

	while (i < f->ntails) {
		struct tail *t = &f->tails[i];

		if (t->matched || t->cur.fd != -1 || t->old.fd != -1) {
			i++;
			continue;
		}
		free(t->path);
		f->tails[i] = f->tails[--f->ntails];
	}
}

struct input_file *
in_file_start(struct daemon *d, const struct config_input *c)
{
	struct input_file	*f;

	(void)d;
	if (c->path == NULL || *c->path == '\0') {
		log_warnx("file input: no path");
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->pattern = xstrdup(c->path);
	/* A longest line with its CR LF must fit; + 1 for the final NUL. */
	f->cap = EVENT_MAX_LINE + 2 + READ_CHUNK;
	f->buf = xmalloc(f->cap + 1);
	log_info("file: tailing %s", f->pattern);
	return f;
}

void
in_file_poll(struct daemon *d, struct input_file *f)
{
	glob_t	 g;
	size_t	 i;
	int	 rc;

	memset(&g, 0, sizeof(g));
	rc = glob(f->pattern, 0, NULL, &g);	/* sorted: a stable order */
	if (rc != 0 && rc != GLOB_NOMATCH)
		log_warnx("file %s: glob failed", f->pattern);
	for (i = 0; i < f->ntails; i++)
		f->tails[i].matched = 0;
	for (i = 0; rc == 0 && i < g.gl_pathc; i++)
		tail_find(f, g.gl_pathv[i])->matched = 1;
	globfree(&g);
	for (i = 0; i < f->ntails; i++)
		tail_poll(d, f, &f->tails[i]);
	tails_prune(f);
}

void
in_file_free(struct input_file *f)
{
	size_t	 i;

	if (f == NULL)
		return;
	for (i = 0; i < f->ntails; i++) {
		reader_close(&f->tails[i].cur);
		reader_close(&f->tails[i].old);
		free(f->tails[i].path);
	}
	free(f->tails);
	free(f->buf);
	free(f->pattern);
	free(f);
}
