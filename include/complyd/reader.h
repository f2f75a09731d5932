/*
 * reader.h - event files read for replays: checked for time order, and
 * read (and decoded, unless the replay's threads decode them) on a thread
 * of their own, handed over in batches, so that a replay's engine runs
 * while the next lines are parsed. Bounded: at most READER_BATCHES batches
 * exist, so memory stays constant.
 */
#ifndef COMPLYD_READER_H
#define COMPLYD_READER_H

#include <stddef.h>
#include <stdint.h>

#include "complyd/event.h"
#include "complyd/util.h"

#define READER_BATCH	1024	/* events a batch */
/* Batches in flight at most: a replay on several threads (replay_shard.c) needs slack. */
#define READER_BATCHES	8

struct reader;

/* raw_line.part of a line whose tenant cannot be told without decoding it. */
#define RAW_PART_ANY	(-1)

/* A line of a batch not decoded yet (reader_start_raw): where it lies in text. */
struct raw_line {
	size_t		 off, len;
	size_t		 lineno;
	uint64_t	 seq;
	const char	*path;
	int		 part;	/* registry_part_of its tenant, or RAW_PART_ANY */
};

struct reader_batch {
	struct soc_event	 ev[READER_BATCH];	/* their trees in arena */
	size_t			 n;
	struct event_arena	*arena;
	struct reader_batch	*next;
	/* From reader_start_raw: the lines as read, for reader_decode_part. */
	struct sbuf		 text;
	struct raw_line		 lines[READER_BATCH];
	size_t			 nlines;
	/* What to print on stderr for this batch (reader_report): a file that
	 * cannot be read, and then the messages of bad lines, by line. */
	struct sbuf		 report;
	char			*msg[READER_BATCH];
};

/* What the reader found, once reader_finish has returned. */
struct reader_counts {
	size_t	 lines, rejected;	/* non-blank lines; of them, bad */
	int	 unreadable;		/* files that could not be opened */
};

/*
 * 1 if every line of files[0..nfiles) whose time can be read (event_peek_time)
 * is in non-decreasing time order, across files. Only regular files can be
 * read twice: a pipe, a FIFO or /dev/stdin would give its lines to this scan
 * and none to the run. Those count as not in order, so a replay reads them
 * once and sorts. Files that cannot be read are left to the replay's reading
 * to report.
 */
int reader_in_time_order(char *const *files, int nfiles);

/*
 * Reads event file path: each non-blank line is counted in c->lines and
 * decoded; a bad one is counted in c->rejected and printed as "FILE:LINE:
 * error: ..." unless quiet; a good one, its seq its number among all lines
 * counted so far, goes to fn, which returns -1 to stop. 0 at the end, -1 if
 * the file could not be read (counted in c->unreadable, reported), -2 if fn
 * stopped. Used by the reader thread and by the replay's own loop alike.
 */
int read_event_file(const char *path, int quiet, struct reader_counts *c,
    int (*fn)(void *, struct soc_event *), void *arg);

/*
 * Starts decoding files[0..nfiles) in order; bad lines are printed as
 * "FILE:LINE: error: ..." unless quiet. Each event's seq is its line number
 * among all non-blank lines. NULL if no thread could be started.
 */
struct reader *reader_start(char *const *files, int nfiles, int quiet);
/*
 * The same, but the thread only reads: each batch holds its lines undecoded,
 * each marked with the part of nparts its tenant belongs to (raw_line.part),
 * for the threads of a replay split by tenant (replay_shard.c) to decode
 * their own lines each. Each part must decode all lines of a batch
 * (reader_decode_part), and then the batch goes through reader_report once,
 * in input order; messages of
 * files that cannot be read come in batches of their own, in their place.
 */
struct reader *reader_start_raw(char *const *files, int nfiles, int quiet,
    int nparts);
/*
 * Decodes the lines of b that belong to part, from line *at on, into evs
 * until max of them are kept or the lines end; moves *at past the last line
 * read and returns how many were kept. Their trees go into a, reset first:
 * the events of the call before are gone. A line of RAW_PART_ANY is decoded
 * by every part and kept by the one its tenant belongs to. A bad line is
 * counted and its message kept in b->msg by the part it is marked for (part
 * 0 for RAW_PART_ANY): each line by one part, so parts do not race.
 */
size_t reader_decode_part(struct reader *rd, struct reader_batch *b, int part,
    struct event_arena *a, struct soc_event *evs, size_t *at, size_t max);
/* Prints b->report and b->msg on stderr, in line order, and lets them go. */
void reader_report(struct reader_batch *b);
/* The next batch in input order, or NULL at the end. Blocks until ready. */
struct reader_batch *reader_next(struct reader *rd);
/*
 * Gives a batch back once its events are used; the reader disposes them (their
 * trees go with the batch's arena: nothing may point into them any longer).
 */
void reader_done(struct reader *rd, struct reader_batch *b);
/* Waits for the thread, frees everything and fills *c. */
void reader_finish(struct reader *rd, struct reader_counts *c);

#endif
