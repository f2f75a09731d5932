/*
 * bench_replay.c - replay benchmark for complyd (driven by tests/bench/run.sh).
 *
 * Usage: bench_replay parse FILE
 *        bench_replay replay RULES META FILE
 *
 * parse:  the parse-only baseline - reads FILE with getline and parses every
 *         non-blank line with cJSON_ParseWithLength + cJSON_Delete (the JSON
 *         library the engine uses). Prints events/s and MB/s.
 * replay: loads the rule set RULES and the metadata META (as `complyctl replay`
 *         does), then times replay_files() on FILE only. Alerts are collected by
 *         replay_files, counted and freed, never printed. Prints events/s, the
 *         alert count, the RSS after loading (so the engine's own share of the
 *         peak is visible) and the peak RSS (getrusage ru_maxrss).
 *
 * Each mode runs in its own process so the peak RSS is per scenario. Besides
 * the human-readable line, each mode prints one "RESULT key=value ..." line
 * that run.sh parses. Exit status: 0, 1 on a read/load error, 2 on usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "complyd/registry.h"
#include "complyd/replay.h"
#include "complyd/util.h"
#include "complyd/rules.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peak resident set so far, KiB (Linux reports ru_maxrss in KiB). */
static long
peak_rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
}

/* Current resident set, KiB (from /proc/self/statm; -1 if unavailable). */
static long
cur_rss_kib(void)
{
	FILE	*f;
	long	 size, res;
	long	 pg = sysconf(_SC_PAGESIZE);

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (pg / 1024);
}

static int
mode_parse(const char *path)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0, events = 0, bad = 0, bytes = 0;
	ssize_t		 len;
	cJSON		*j;
	double		 t0, secs;

	t0 = now_s();
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "bench_replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		bytes += (size_t)len;
		if (str_blank(line, (size_t)len))
			continue;
		if ((j = cJSON_ParseWithLength(line, (size_t)len)) == NULL) {
			bad++;
			continue;
		}
		events++;
		cJSON_Delete(j);
	}
	free(line);
	fclose(f);
	secs = now_s() - t0;
	if (secs <= 0)
		secs = 1e-9;
	printf("parse-only: %zu events in %.2f s (%.0f ev/s, %.0f MB/s)%s\n",
	    events, secs, (double)events / secs, (double)bytes / secs / 1e6,
	    bad ? " [some lines did not parse]" : "");
	printf("RESULT mode=parse events=%zu bad=%zu bytes=%zu secs=%.6f "
	    "evps=%.0f mbps=%.1f peak_kib=%ld\n", events, bad, bytes, secs,
	    (double)events / secs, (double)bytes / secs / 1e6, peak_rss_kib());
	return 0;
}

static int
mode_replay(const char *rules, const char *meta, char *file)
{
	struct ruleset		*rs;
	struct registry		*reg;
	struct replay_opts	 o;
	struct replay_result	 res;
	struct alert_vec	 out = { 0 };
	int			 nerr = 0, nrec, nrules, rc;
	long			 base_kib, load_kib, load_peak_kib, peak_kib;
	double			 t0, tload, secs;
	size_t			 nalerts;

	base_kib = cur_rss_kib();
	t0 = now_s();
	if ((rs = ruleset_load(&rules, 1, NULL, &nerr)) == NULL) {
		fprintf(stderr, "bench_replay: %s: %d error(s); no rules loaded\n",
		    rules, nerr);
		return 1;
	}
	reg = registry_new();
	nrec = registry_load(reg, meta, &nerr);
	tload = now_s() - t0;
	if (nerr) {
		fprintf(stderr, "bench_replay: %s: %d error(s) loading metadata\n",
		    meta, nerr);
		registry_free(reg);
		ruleset_free(rs);
		return 1;
	}
	nrules = rs->nrules;
	load_kib = cur_rss_kib();
	load_peak_kib = peak_rss_kib();

	memset(&o, 0, sizeof(o));
	o.quiet = 1;
	/* As complyctl replay collects: alerts spilled as lines, not kept as trees. */
	if (alert_vec_spill(&out) == -1) {
		fprintf(stderr, "bench_replay: no temporary file\n");
		return 1;
	}
	t0 = now_s();
	rc = replay_files(rs, reg, &file, 1, &o, &out, &res);
	secs = now_s() - t0;
	if (secs <= 0)
		secs = 1e-9;
	peak_kib = peak_rss_kib();
	nalerts = out.n;
	alert_vec_free(&out);
	registry_free(reg);
	ruleset_free(rs);
	if (rc == -1) {
		fprintf(stderr, "bench_replay: %s: cannot read\n", file);
		return 1;
	}

	printf("replay: %zu events in %.2f s (%.0f ev/s), %zu alerts, "
	    "%llu duplicates, %zu rejected; %d rules, %d records loaded in %.2f s; "
	    "RSS after load %.0f MiB, peak RSS %.0f MiB\n",
	    res.lines, secs, (double)res.lines / secs, nalerts,
	    (unsigned long long)res.stats.duplicates, res.rejected,
	    nrules, nrec, tload, (double)load_kib / 1024.0,
	    (double)peak_kib / 1024.0);
	printf("RESULT mode=replay events=%zu rejected=%zu duplicates=%llu "
	    "alerts=%zu suppressed=%llu records=%d load_secs=%.3f secs=%.6f "
	    "evps=%.0f base_kib=%ld load_kib=%ld load_peak_kib=%ld peak_kib=%ld\n",
	    res.lines, res.rejected, (unsigned long long)res.stats.duplicates,
	    nalerts, (unsigned long long)res.stats.suppressed, nrec, tload, secs,
	    (double)res.lines / secs, base_kib, load_kib, load_peak_kib, peak_kib);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: bench_replay parse FILE\n"
	    "       bench_replay replay RULES META FILE\n");
	return 2;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "parse") == 0)
		return mode_parse(argv[2]);
	if (argc == 5 && strcmp(argv[1], "replay") == 0)
		return mode_replay(argv[2], argv[3], argv[4]);
	return usage();
}
