/*
 * test_reader.c - the decoding thread of replays: every good line arrives once
 * and in input order across files and batches, bad and blank lines are
 * counted as the single-threaded reader counts them, and a consumer that
 * stops early neither hangs nor leaks (ASan and valgrind check the latter).
 * Lines that cross the blocks files are read in arrive whole, and the time
 * order pre-scan agrees with the replay's rules (pipes are never in order).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "complyd/reader.h"
#include "testutil.h"

/* A temporary file with events e<first>..e<first+n-1>, one a line, and the
 * text `extra` after every extra_every-th of them (0: never). */
static char *
write_feed(int first, int n, const char *extra, int extra_every)
{
	char	*path = strdup("/tmp/test_reader.XXXXXX");
	FILE	*f;
	int	 fd, i;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		fail_msg("cannot make a temporary file");
	for (i = 0; i < n; i++) {
		fprintf(f, "{\"id\":\"e%d\",\"tenant\":\"t\",\"type\":\"x.y\","
		    "\"time\":\"2026-04-01T00:00:00Z\"}\n", first + i);
		if (extra != NULL && extra_every > 0 && i % extra_every == 0)
			fputs(extra, f);
	}
	fclose(f);
	return path;
}

/* Reads everything; checks ids e0.. in order and seq increasing. */
static size_t
drain(struct reader *rd, size_t stop_after)
{
	struct reader_batch	*b;
	size_t			 i, got = 0;
	size_t			 last_seq = 0;
	char			 want[32];

	while (got < stop_after && (b = reader_next(rd)) != NULL) {
		assert_true(b->n > 0 && b->n <= READER_BATCH);
		for (i = 0; i < b->n; i++, got++) {
			snprintf(want, sizeof(want), "e%zu", got);
			assert_string_equal(b->ev[i].id, want);
			assert_true(b->ev[i].seq > last_seq);
			last_seq = b->ev[i].seq;
		}
		reader_done(rd, b);
	}
	return got;
}

static const struct {
	const char	*name;
	int		 n1, n2;	/* events in the two files */
	const char	*extra;		/* text after some lines */
	int		 every;
	size_t		 lines, rejected;
} cases[] = {
	{ "empty files", 0, 0, NULL, 0, 0, 0 },
	{ "one event", 1, 0, NULL, 0, 1, 0 },
	{ "exactly one batch", READER_BATCH, 0, NULL, 0, READER_BATCH, 0 },
	{ "a batch and one", READER_BATCH + 1, 0, NULL, 0, READER_BATCH + 1, 0 },
	{ "more batches than the reader keeps, over two files",
	  READER_BATCH * READER_BATCHES * 3 + 7, 1000, NULL, 0,
	  READER_BATCH * READER_BATCHES * 3 + 1007, 0 },
	{ "blank lines are not lines", 300, 300, "\n  \t\n", 7, 600, 0 },
	{ "bad lines are counted and skipped", 300, 10, "{bad\n", 3, 310 + 100, 100 },
};

static void
test_order_and_counts(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		char			*files[2];
		struct reader		*rd;
		struct reader_counts	 c;

		files[0] = write_feed(0, cases[i].n1, cases[i].extra, cases[i].every);
		files[1] = write_feed(cases[i].n1, cases[i].n2, NULL, 0);
		assert_non_null(rd = reader_start(files, 2, 1));
		if (drain(rd, SIZE_MAX) != (size_t)(cases[i].n1 + cases[i].n2))
			fail_msg("%s: not every event arrived", cases[i].name);
		reader_finish(rd, &c);
		if (c.lines != cases[i].lines || c.rejected != cases[i].rejected)
			fail_msg("%s: lines %zu rejected %zu, want %zu %zu",
			    cases[i].name, c.lines, c.rejected, cases[i].lines,
			    cases[i].rejected);
		assert_int_equal(c.unreadable, 0);
		unlink(files[0]);
		unlink(files[1]);
		free(files[0]);
		free(files[1]);
	}
}

static void
test_unreadable_file(void **state)
{
	char			*files[3];
	struct reader		*rd;
	struct reader_counts	 c;

	(void)state;
	files[0] = write_feed(0, 5, NULL, 0);
	files[1] = "/nonexistent/events.jsonl";
	files[2] = write_feed(5, 5, NULL, 0);
	assert_non_null(rd = reader_start(files, 3, 1));
	assert_int_equal(drain(rd, SIZE_MAX), 10);
	reader_finish(rd, &c);
	assert_int_equal(c.unreadable, 1);
	assert_int_equal(c.lines, 10);
	unlink(files[0]);
	unlink(files[2]);
	free(files[0]);
	free(files[2]);
}

/* The consumer stops after one batch while the decoder waits for room. */
static void
test_early_stop(void **state)
{
	char			*files[1];
	struct reader		*rd;
	struct reader_counts	 c;

	(void)state;
	files[0] = write_feed(0, READER_BATCH * READER_BATCHES * 4, NULL, 0);
	assert_non_null(rd = reader_start(files, 1, 1));
	assert_int_equal(drain(rd, 1), READER_BATCH);
	reader_finish(rd, &c);
	assert_true(c.lines < (size_t)READER_BATCH * READER_BATCHES * 4);
	unlink(files[0]);
	free(files[0]);
}

/*
 * A consumer slower than the decoder: the decoder waits for batches to come
 * back, and is woken once for several; every event still arrives, in order.
 */
static void
test_slow_consumer(void **state)
{
	char			*files[1];
	struct reader		*rd;
	struct reader_batch	*b;
	struct reader_counts	 c;
	size_t			 i, got = 0, n = READER_BATCH * READER_BATCHES * 3 + 5;
	char			 want[32];

	(void)state;
	files[0] = write_feed(0, (int)n, NULL, 0);
	assert_non_null(rd = reader_start(files, 1, 1));
	while ((b = reader_next(rd)) != NULL) {
		for (i = 0; i < b->n; i++, got++) {
			snprintf(want, sizeof(want), "e%zu", got);
			assert_string_equal(b->ev[i].id, want);
		}
		usleep(2000);
		reader_done(rd, b);
	}
	reader_finish(rd, &c);
	assert_int_equal(got, n);
	assert_int_equal(c.lines, n);
	unlink(files[0]);
	free(files[0]);
}

/*
 * Files are read in blocks of a megabyte: lines across block boundaries, a
 * line longer than a block (rejected as too long) and a last line without
 * its newline arrive as getline would give them, to the thread and to
 * read_event_file alike.
 */
static char *
write_big_feed(int n, int *bad_line)
{
	char	*path = strdup("/tmp/test_reader.XXXXXX");
	FILE	*f;
	int	 fd, i, j;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		fail_msg("cannot make a temporary file");
	for (i = 0; i < n; i++) {
		if (i == n / 2) {
			*bad_line = i + 1;
			fputs("{\"pad\":\"", f);
			for (j = 0; j < 2500 * 1024; j++)
				fputc('x', f);
			fputs("\"}\n", f);
		}
		/* lines of varying lengths, so boundaries fall anywhere */
		fprintf(f, "{\"id\":\"e%d\",\"tenant\":\"t\",\"type\":\"x.y\","
		    "\"time\":\"2026-04-01T00:00:00Z\",\"p\":\"%.*s\"}%s", i,
		    i % 97, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
		    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
		    i == n - 1 ? "" : "\n");
	}
	fclose(f);
	return path;
}

static int
count_one(void *arg, struct soc_event *ev)
{
	size_t	*n = arg;
	char	 want[32];

	snprintf(want, sizeof(want), "e%zu", (*n)++);
	assert_string_equal(ev->id, want);
	event_dispose(ev);
	return 0;
}

static void
test_blocks(void **state)
{
	char			*files[1];
	struct reader		*rd;
	struct reader_counts	 c, c2 = { 0, 0, 0 };
	int			 n = 40000, bad = 0;
	size_t			 got = 0;

	(void)state;
	files[0] = write_big_feed(n, &bad);
	assert_non_null(rd = reader_start(files, 1, 1));
	assert_int_equal(drain(rd, SIZE_MAX), n);
	reader_finish(rd, &c);
	assert_int_equal(c.lines, n + 1);
	assert_int_equal(c.rejected, 1);
	assert_int_equal(read_event_file(files[0], 1, &c2, count_one, &got), 0);
	assert_int_equal(got, n);
	assert_int_equal(c2.lines, n + 1);
	assert_int_equal(c2.rejected, 1);
	assert_int_equal(reader_in_time_order(files, 1), 1);
	unlink(files[0]);
	free(files[0]);
}

/* A temporary file of the given lines. */
static char *
write_lines(const char *text)
{
	char	*path = strdup("/tmp/test_reader.XXXXXX");
	int	 fd;

	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail_msg("cannot make a temporary file");
	close(fd);
	return path;
}

#define EV(t)	"{\"id\":\"e\",\"tenant\":\"t\",\"type\":\"x.y\",\"time\":\"" t "\"}\n"

/* Time order across files; lines without a readable time do not count. */
static void
test_time_order(void **state)
{
	char	*files[3], fifo[] = "/tmp/test_reader.fifo.XXXXXX";
	int	 fd;

	(void)state;
	files[0] = write_lines(EV("2026-04-01T00:00:00Z") "{bad\n"
	    EV("2026-04-01T09:00:00+09:00") EV("2026-04-01T00:00:01Z"));
	files[1] = write_lines("{\"time\":1}\n" EV("2026-04-01T00:00:02Z"));
	files[2] = "/nonexistent/events.jsonl";
	assert_int_equal(reader_in_time_order(files, 3), 1);
	unlink(files[1]);
	free(files[1]);
	files[1] = write_lines(EV("2026-04-01T00:00:02Z") EV("2026-04-01T00:00:01Z"));
	assert_int_equal(reader_in_time_order(files, 2), 0);
	unlink(files[1]);
	free(files[1]);
	/* The earlier time in a second file is out of order too. */
	files[1] = write_lines(EV("2026-03-31T23:59:59Z"));
	assert_int_equal(reader_in_time_order(files, 2), 0);
	unlink(files[1]);
	free(files[1]);
	/* A FIFO can be read once only: not in order, however its lines are. */
	if ((fd = mkstemp(fifo)) == -1)
		fail_msg("cannot make a temporary name");
	close(fd);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	files[1] = fifo;
	assert_int_equal(reader_in_time_order(files, 2), 0);
	unlink(fifo);
	unlink(files[0]);
	free(files[0]);
}

/*
 * A file of n events a second apart, from second t0 on, lines of one length
 * (so that the middle byte of the file starts line n / 2 when n is even);
 * the lines swap and swap + 1 trade places (swap -1: none).
 */
static char *
write_seconds(int t0, int n, int swap)
{
	char	*path = strdup("/tmp/test_reader.XXXXXX");
	FILE	*f;
	int	 fd, i, t;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		fail_msg("cannot make a temporary file");
	for (i = 0; i < n; i++) {
		t = t0 + (i == swap ? i + 1 : i == swap + 1 ? i - 1 : i);
		fprintf(f, "{\"id\":\"e%07d\",\"tenant\":\"t\",\"type\":\"x.y\","
		    "\"time\":\"2026-04-%02dT%02d:%02d:%02dZ\",\"pad\":\"%060d\"}\n",
		    i, 1 + t / 86400, t / 3600 % 24, t / 60 % 60, t % 60, 0);
	}
	fclose(f);
	return path;
}

static int
order_of(char **files, int nfiles)
{
	int	 rc = reader_in_time_order(files, nfiles), i;

	for (i = 0; i < nfiles; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	return rc;
}

/*
 * An input of more than 8 MB is scanned in two halves at once: lines out of
 * order are found on either side of the cut and across it, wherever it falls
 * (between lines, in the middle of one, in the second file).
 */
static void
test_time_order_halves(void **state)
{
	static const int swaps[] = { -1, 0, 49997, 49998, 49999, 50000, 50001,
	    99998 };
	char	*files[2];
	size_t	 i;
	int	 n;

	(void)state;
	for (n = 100000; n <= 100001; n++)
		for (i = 0; i < NELEM(swaps); i++) {
			files[0] = write_seconds(0, n, swaps[i]);
			if (order_of(files, 1) != (swaps[i] == -1))
				fail_msg("%d lines, %d swapped: wrong order",
				    n, swaps[i]);
		}
	/* The cut in the second file; the files out of order at their seam. */
	files[0] = write_seconds(0, 20000, -1);
	files[1] = write_seconds(20000, 80000, 30000);
	assert_int_equal(order_of(files, 2), 0);
	files[0] = write_seconds(0, 20000, -1);
	files[1] = write_seconds(20000, 80000, -1);
	assert_int_equal(order_of(files, 2), 1);
	files[0] = write_seconds(1, 20000, -1);
	files[1] = write_seconds(0, 80000, -1);
	assert_int_equal(order_of(files, 2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_counts),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_early_stop),
		cmocka_unit_test(test_slow_consumer),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_time_order),
		cmocka_unit_test(test_time_order_halves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
