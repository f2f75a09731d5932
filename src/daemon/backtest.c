/*
 * backtest.c - the work of POST /v1/rules/backtest (backtest.h): the
 * candidate files written to a private directory, loaded with their errors
 * collected, then the candidate and the rules in force replayed together in
 * one pass over the journal and their alerts compared.
 *
 * The candidate's directory is STATE_DIR/backtest/NAME, NAME being the live
 * rules directory's name, beside links to that directory's siblings: a rule
 * file's relative path (`calendar: ../conf/holidays/jp.yaml`) resolves as it
 * does beside the live rules. It is removed once the set is loaded; one left
 * by a daemon killed meanwhile is removed by the next backtest.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/backtest.h"
#include "complyd/log.h"
#include "complyd/rules.h"
#include "complyd/util.h"

#define NAME_MAX_LEN	128

int
backtest_name_ok(const char *name)
{
	size_t	 n = strlen(name);

	return n > 5 && n <= NAME_MAX_LEN && name[0] != '.' &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n && strcmp(name + n - 5, ".yaml") == 0;
}

static void
fail(struct backtest *bt, enum backtest_status st, const char *fmt, ...)
{
	va_list	 ap;

	bt->status = st;
	va_start(ap, fmt);
	vsnprintf(bt->why, sizeof(bt->why), fmt, ap);
	va_end(ap);
}

static int
visible(const struct backtest_query *q, const char *tenant)
{
	return (q->tenant == NULL || strcmp(q->tenant, tenant) == 0) &&
	    (q->may_see == NULL || q->may_see(q->arg, tenant));
}

/* dir/name into out (PATH_MAX); -1 if it does not fit. */
static int
path_join(char *out, const char *dir, const char *name)
{
	return (size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX ?
	    -1 : 0;
}

static int
is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* --- the candidate's directory --- */

struct cand_dir {
	char	 top[PATH_MAX];		/* STATE_DIR/backtest */
	char	 rules[PATH_MAX];	/* top/NAME: the candidate's files */
};

/*
 * Removes dir (relative to directory fd at): its files and links, never
 * followed, and its directories down to depth more levels.
 */
static void
remove_tree(int at, const char *dir, int depth)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dp;
	int		 fd;

	fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (is_dot(de->d_name))
			continue;
		if (depth > 0 && fstatat(fd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			remove_tree(fd, de->d_name, depth - 1);
		else
			unlinkat(fd, de->d_name, 0);
	}
	closedir(dp);
	unlinkat(at, dir, AT_REMOVEDIR);
}

/* The live rules directory, absolute: cf.rules, or the directory of the file it names. */
static int
live_rules_dir(const char *rules, char *dir)
{
	struct stat	 st;
	char		*slash;

	if (realpath(rules, dir) == NULL)
		return -1;
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode) &&
	    (slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash++;	/* a file in /: the directory is "/" */
		*slash = '\0';
	}
	return 0;
}

/* Links top/ENTRY to parent/ENTRY for every entry of parent but name. */
static void
link_siblings(const char *parent, const char *name, const char *top)
{
	char		 src[PATH_MAX], dst[PATH_MAX];
	struct dirent	*de;
	DIR		*dp;

	if ((dp = opendir(parent)) == NULL) {
		log_warn("backtest: %s", parent);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (is_dot(de->d_name) || strcmp(de->d_name, name) == 0)
			continue;
		/* A missing link shows as the load error of a path through it. */
		if (path_join(src, parent, de->d_name) == -1 ||
		    path_join(dst, top, de->d_name) == -1 || symlink(src, dst) == -1)
			log_warn("backtest: cannot link %s/%s", top, de->d_name);
	}
	closedir(dp);
}

static int
cand_dir_make(const struct daemon *d, struct cand_dir *cd, struct backtest *bt)
{
	char		 live[PATH_MAX], *slash;
	const char	*name, *parent;

	if (live_rules_dir(d->cf.rules, live) == -1) {
		fail(bt, BT_FAILED, "the rules directory %s: %s", d->cf.rules,
		    strerror(errno));
		return -1;
	}
	slash = strrchr(live, '/');
	name = slash[1] != '\0' ? slash + 1 : "rules";
	parent = slash == live ? "/" : live;
	*slash = '\0';
	if (path_join(cd->top, d->cf.state_dir, "backtest") == -1 ||
	    path_join(cd->rules, cd->top, name) == -1) {
		fail(bt, BT_FAILED, "the state directory's path is too long");
		return -1;
	}
	remove_tree(AT_FDCWD, cd->top, 1);
	if (mkdir(cd->top, 0700) == -1) {
		fail(bt, BT_FAILED, "cannot make %s: %s", cd->top, strerror(errno));
		return -1;
	}
	if (mkdir(cd->rules, 0700) == -1) {
		fail(bt, BT_FAILED, "cannot make %s: %s", cd->rules, strerror(errno));
		remove_tree(AT_FDCWD, cd->top, 1);
		return -1;
	}
	link_siblings(parent, name, cd->top);
	return 0;
}

static int
write_files(const struct cand_dir *cd, const struct backtest_query *q,
    struct backtest *bt)
{
	char	 path[PATH_MAX];
	FILE	*f;
	int	 i, fd, bad;

	for (i = 0; i < q->nfiles; i++) {
		if (!backtest_name_ok(q->files[i].name) ||
		    path_join(path, cd->rules, q->files[i].name) == -1) {
			fail(bt, BT_BAD_FILE, "%s: not a rule file name",
			    q->files[i].name);
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST) {
			fail(bt, BT_BAD_FILE, "%s is given twice", q->files[i].name);
			return -1;
		}
		if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
			fail(bt, BT_FAILED, "cannot write %s: %s", path,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		bad = fputs(q->files[i].text, f) == EOF;
		if (fclose(f) == EOF || bad) {
			fail(bt, BT_FAILED, "cannot write %s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* --- loading, with the errors kept --- */

static void
add_error(struct backtest *bt, char *line)
{
	bt->errors = xrealloc(bt->errors, (bt->nerrors + 1) * sizeof(char *));
	bt->errors[bt->nerrors++] = line;
}

/*
 * Keeps the error lines of the loader's output about the candidate's own
 * files, the candidate directory's path taken out wherever it appears:
 * "appi.yaml:3:5: error: ...", "cannot load calendar ../conf/holidays/x.yaml".
 * An error inside another file (a `calendar:` naming /etc/shadow or the
 * metadata) would quote that file's lines to the client: it is counted, not
 * shown.
 */
static void
keep_errors(struct backtest *bt, const char *text, const char *dir)
{
	char		 prefix[PATH_MAX + 1];
	const char	*line, *end, *p, *hit;
	struct sbuf	 b;
	size_t		 plen;
	int		 hidden = 0;

	snprintf(prefix, sizeof(prefix), "%s/", dir);
	plen = strlen(prefix);
	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (memmem(line, end - line, ": error: ", 9) == NULL)
			continue;
		if ((size_t)(end - line) < plen || memcmp(line, prefix, plen) != 0) {
			hidden++;
			continue;
		}
		sbuf_init(&b);
		for (p = line; (hit = memmem(p, end - p, prefix, plen)) != NULL;
		    p = hit + plen)
			sbuf_add(&b, p, hit - p);
		sbuf_add(&b, p, end - p);
		add_error(bt, b.s);
	}
	if (hidden > 0) {
		sbuf_init(&b);
		sbuf_printf(&b, "%d error(s) in a file outside the candidate set "
		    "(a calendar?) are not shown", hidden);
		add_error(bt, b.s);
	}
}

/*
 * A candidate judges with the calendar of the rules in force, and reads no
 * other: `calendar:` is a path, and the daemon must not load files of its
 * own choosing on a client's word. 0, or -1 with the reason in bt.
 */
static int
same_calendar(const struct daemon *d, const struct ruleset *rs,
    struct backtest *bt)
{
	const char *live = d->rs ? d->rs->cal_path : NULL;

	if (rs->cal_path == NULL && live == NULL)
		return 0;
	if (rs->cal_path != NULL && live != NULL &&
	    strcmp(rs->cal_path, live) == 0)
		return 0;
	bt->status = BT_RULES_INVALID;
	add_error(bt, xstrdup("the candidate's `calendar` must name the calendar "
	    "of the rules in force (the same file)"));
	return -1;
}

static struct ruleset *
load_candidate(const struct daemon *d, const struct cand_dir *cd,
    struct backtest *bt)
{
	const char	*path = cd->rules;
	struct ruleset	*rs;
	FILE		*mem, *prev;
	char		*text = NULL;
	size_t		 len = 0;
	int		 nerr = 0;

	if ((mem = open_memstream(&text, &len)) == NULL) {
		fail(bt, BT_FAILED, "open_memstream: %s", strerror(errno));
		return NULL;
	}
	prev = log_diag_capture(mem);
	rs = ruleset_load(&path, 1, d->cf.calendar, &nerr);
	log_diag_capture(prev);
	fclose(mem);
	if (rs == NULL) {
		bt->status = BT_RULES_INVALID;
		keep_errors(bt, text ? text : "", cd->rules);
		if (bt->nerrors == 0)
			add_error(bt, xstrdup("the candidate rule set could not be "
			    "loaded"));
	} else if (same_calendar(d, rs, bt) == -1) {
		ruleset_free(rs);
		rs = NULL;
	}
	free(text);
	return rs;
}

/* --- the replay of the journal --- */

/* Both runs in one pass over the journal, which comes in time order. */
struct pass {
	const struct backtest_query	*q;
	struct replay_run		*cand, *live;
	const struct alert_vec		*cand_out, *live_out;
	instant_t			 end;
	size_t				 n;
	int				 too_many, too_many_alerts;
};

static int
pass_one(void *arg, const char *json, size_t len, int64_t seq)
{
	struct pass		*p = arg;
	struct soc_event	 ev;
	char			 err[200];
	int			 stop = 0;

	if (event_decode(json, len, &ev, err, sizeof(err)) == -1)
		return 0;	/* the daemon's own replay logs these */
	if (ev.time >= p->end)
		stop = 1;	/* and so is every later one */
	else if (visible(p->q, ev.tenant)) {
		if (p->n == BACKTEST_MAX_EVENTS) {
			p->too_many = stop = 1;
		} else {
			ev.seq = (uint64_t)seq;
			replay_run_event(p->cand, &ev);
			replay_run_event(p->live, &ev);
			p->n++;
			/* Memory: every alert is held until the window is cut. */
			if (p->cand_out->n > BACKTEST_MAX_RUN_ALERTS ||
			    p->live_out->n > BACKTEST_MAX_RUN_ALERTS)
				p->too_many_alerts = stop = 1;
		}
	}
	event_dispose(&ev);
	return stop;
}

/* A registry of the config's metadata for one run: an engine hooks into its registry. */
static struct registry *
metadata(const struct daemon *d)
{
	struct registry	*reg = registry_new();
	int		 nerr = 0;

	if (d->cf.metadata != NULL)
		registry_load(reg, d->cf.metadata, &nerr);
	if (nerr)
		log_warnx("backtest: %d error(s) in %s; judged with the records "
		    "that loaded", nerr, d->cf.metadata);
	return reg;
}

/* Keeps the alerts in the window and the caller's tenants, sorted in replay's order. */
static void
keep_window(struct alert_vec *av, const struct backtest_query *q)
{
	size_t	 i, j;

	for (i = j = 0; i < av->n; i++)
		if (av->v[i].time >= q->from && av->v[i].time < q->to &&
		    visible(q, av->v[i].tenant))
			av->v[j++] = av->v[i];
		else {
			cJSON_Delete(av->v[i].json);
			free(av->v[i].own);
		}
	av->n = j;
	if (j > 1)
		qsort(av->v, j, sizeof(*av->v), alert_cmp);
}

static void
judge(struct daemon *d, const struct backtest_query *q, struct ruleset *rs,
    struct backtest *bt)
{
	struct registry		*creg = metadata(d), *lreg = metadata(d);
	struct replay_opts	 o = { 1, 0, 1 };
	struct replay_result	 res;
	struct pass		 p = { q, NULL, NULL, &bt->cand, &bt->live, 0, 0, 0, 0 };
	uint64_t		*hits = xcalloc(d->rs->nrules + 1, sizeof(*hits));
	instant_t		 now = daemon_now();
	int			 i, rc;

	/* Deadlines still running at the end of the window are not broken yet. */
	p.end = q->to < now ? q->to : now;
	o.until = p.end;
	/* The engine counts hits on its rules: the rules in force keep theirs. */
	for (i = 0; i < d->rs->nrules; i++)
		hits[i] = d->rs->rules[i]->hits;
	p.cand = replay_run_new(rs, creg, &bt->cand);
	p.live = replay_run_new(d->rs, lreg, &bt->live);
	rc = store_each_event(d->store, pass_one, &p);
	replay_run_finish(p.cand, &o, &res);
	replay_run_finish(p.live, &o, &res);
	for (i = 0; i < d->rs->nrules; i++)
		d->rs->rules[i]->hits = hits[i];
	free(hits);
	registry_free(creg);
	registry_free(lreg);
	bt->nrules = rs->nrules;
	bt->events = p.n;
	if (rc == -1)
		fail(bt, BT_FAILED, "the journal could not be read");
	else if (p.too_many)
		fail(bt, BT_TOO_MANY_EVENTS, "the window holds more than %d "
		    "journaled events", BACKTEST_MAX_EVENTS);
	else if (p.too_many_alerts)
		fail(bt, BT_TOO_MANY_ALERTS, "a run raised more than %d alerts "
		    "before the window's end", BACKTEST_MAX_RUN_ALERTS);
	keep_window(&bt->cand, q);
	keep_window(&bt->live, q);
}

void
backtest_run(struct daemon *d, const struct backtest_query *q,
    struct backtest *bt)
{
	struct cand_dir	 cd;
	struct ruleset	*rs = NULL;
	int		 made;

	memset(bt, 0, sizeof(*bt));
	made = cand_dir_make(d, &cd, bt) == 0;
	if (made && write_files(&cd, q, bt) == 0)
		rs = load_candidate(d, &cd, bt);
	if (made)
		remove_tree(AT_FDCWD, cd.top, 1);
	if (rs != NULL)
		judge(d, q, rs, bt);
	ruleset_free(rs);
}

void
backtest_free(struct backtest *bt)
{
	int	 i;

	for (i = 0; i < bt->nerrors; i++)
		free(bt->errors[i]);
	free(bt->errors);
	alert_vec_free(&bt->cand);
	alert_vec_free(&bt->live);
	memset(bt, 0, sizeof(*bt));
}

/* --- the comparison --- */

static const char *
alert_rule(const struct alert *a)
{
	const cJSON	*r = cJSON_GetObjectItemCaseSensitive(a->json, "rule");

	return cJSON_IsString(r) ? r->valuestring : "";
}

/* Orders pointers to alerts by (rule, tenant, key, status, time in seconds). */
static int
identity_cmp(const void *pa, const void *pb)
{
	const struct alert	*a = *(const struct alert *const *)pa;
	const struct alert	*b = *(const struct alert *const *)pb;
	int			 c;

	if ((c = strcmp(alert_rule(a), alert_rule(b))) != 0 ||
	    (c = strcmp(a->tenant, b->tenant)) != 0 ||
	    (c = strcmp(a->key, b->key)) != 0 ||
	    (c = strcmp(a->status, b->status)) != 0)
		return c;
	return (a->time / 1000 > b->time / 1000) - (a->time / 1000 < b->time / 1000);
}

static const struct alert **
by_identity(const struct alert_vec *av)
{
	const struct alert	**v = xcalloc(av->n + 1, sizeof(*v));
	size_t			  i;

	for (i = 0; i < av->n; i++)
		v[i] = &av->v[i];
	if (av->n > 1)
		qsort(v, av->n, sizeof(*v), identity_cmp);
	return v;
}

void
backtest_diff(const struct alert_vec *cand, const struct alert_vec *live,
    void (*fn)(void *arg, const struct alert *a, int added), void *arg)
{
	const struct alert	**c = by_identity(cand), **l = by_identity(live);
	char			 *cpaired = xcalloc(cand->n + 1, 1);
	char			 *lpaired = xcalloc(live->n + 1, 1);
	size_t			  i = 0, j = 0;
	int			  k;

	while (i < cand->n && j < live->n) {
		if ((k = identity_cmp(&c[i], &l[j])) == 0) {
			cpaired[c[i++] - cand->v] = 1;
			lpaired[l[j++] - live->v] = 1;
		} else if (k < 0)
			i++;
		else
			j++;
	}
	for (i = 0; i < cand->n; i++)
		if (!cpaired[i])
			fn(arg, &cand->v[i], 1);
	for (j = 0; j < live->n; j++)
		if (!lpaired[j])
			fn(arg, &live->v[j], 0);
	free(c);
	free(l);
	free(cpaired);
	free(lpaired);
}
