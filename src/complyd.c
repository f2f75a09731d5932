/*
 * complyd.c - the daemon's entry point: wiring only (config -> store ->
 * outputs -> rules and engine -> inputs -> loop). It stays in the foreground
 * (systemd Type=notify); -f sends the log to stderr instead of syslog(3).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <systemd/sd-daemon.h>

#include "complyd/daemon.h"
#include "complyd/log.h"
#include "complyd/util.h"

static int
usage(void)
{
	fprintf(stderr, "usage: complyd [-f] [-c FILE]\n"
	    "       complyd --check-config -c FILE\n");
	return 2;
}

/* Every second: the wall clock fires due timers; outboxes and tailed files move. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	int		 i;

	(void)fd;
	(void)what;
	store_begin(d->store);
	engine_advance(d->en, daemon_now());
	store_commit(d->store);
	for (i = 0; i < d->nfiles; i++)
		in_file_poll(d, d->files[i]);
	daemon_flush_outputs(d);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	int		 i;

	(void)what;
	if (sig == SIGHUP) {
		sd_notify(0, "RELOADING=1");
		log_info("SIGHUP: reloading config, rules, metadata and tokens");
		daemon_reload(d);
		for (i = 0; i < d->noutputs; i++)
			output_reopen(d->outputs[i]);
		sd_notify(0, "READY=1");
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

static int
open_store(struct daemon *d)
{
	char	 path[4096], err[256];
	int	 fd;

	if (mkdir(d->cf.state_dir, 0750) == -1 && errno != EEXIST) {
		log_warn("state_dir %s", d->cf.state_dir);
		return -1;
	}
	/*
	 * One daemon a journal: a second one on the same state_dir would run
	 * its own engine on the same events and deliver every alert twice.
	 * The lock goes with the process (its descriptor is never closed).
	 */
	snprintf(path, sizeof(path), "%s/complyd.lock", d->cf.state_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		log_warnx("%s: another complyd runs on this state_dir", path);
		close(fd);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/state.db", d->cf.state_dir);
	if ((d->store = store_open(path, d->cf.synchronous, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s", path, err);
		return -1;
	}
	return 0;
}

static int
start_io(struct daemon *d)
{
	long	orphans;
	int	i, slot;

	d->outputs = xcalloc(d->cf.noutputs + 1, sizeof(*d->outputs));
	for (i = 0; i < d->cf.noutputs; i++)
		if ((slot = output_slot(d, &d->cf.outputs[i], i)) != -1 &&
		    (d->outputs[d->noutputs] = output_open(d, &d->cf.outputs[i],
		    slot)) != NULL)
			d->noutputs++;
	if (d->noutputs != d->cf.noutputs)
		return -1;
	if ((orphans = store_orphan_pending(d->store)) > 0)
		log_warnx("%ld undelivered alert(s) belong to outputs no longer in the "
		    "config; they stay queued for an output like theirs", orphans);
	if (daemon_reload(d) == -1)
		return -1;
	if (d->cf.nlisten && in_http_start(d) == -1)
		return -1;
	d->files = xcalloc(d->cf.ninputs + 1, sizeof(*d->files));
	for (i = 0; i < d->cf.ninputs; i++) {
		const struct config_input *in = &d->cf.inputs[i];

		if (in->type == IN_SYSLOG && in_syslog_start(d, in) == -1)
			return -1;
		if (in->type == IN_FILE &&
		    (d->files[d->nfiles++] = in_file_start(d, in)) == NULL)
			return -1;
	}
	return 0;
}

static int
run(struct daemon *d)
{
	struct event	*tick, *sigs[3];
	struct timeval	 one = { 1, 0 };
	const int	 signos[3] = { SIGHUP, SIGTERM, SIGINT };
	int		 i, rc = 0;

	signal(SIGPIPE, SIG_IGN);
	d->base = event_base_new();
	d->uid = getuid();
	if (open_store(d) == -1 || start_io(d) == -1)
		return 1;
	tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	event_add(tick, &one);
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d->base, signos[i], on_signal, d);
		event_add(sigs[i], NULL);
	}
	/* Alerts raised while replaying the journal go out now, not at the first tick. */
	daemon_flush_outputs(d);
	sd_notify(0, "READY=1");
	log_info("ready: %d rule(s), %d output(s)", d->rs->nrules, d->noutputs);
	if (event_base_dispatch(d->base) == -1)
		rc = 1;
	daemon_flush_outputs(d);	/* what the synchronous outputs can still take */
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_free(tick);
	return rc;
}

static void
shutdown_daemon(struct daemon *d)
{
	int i;

	for (i = 0; i < d->noutputs; i++)
		output_close(d->outputs[i]);
	free(d->outputs);
	for (i = 0; i < d->nfiles; i++)
		in_file_free(d->files[i]);
	free(d->files);
	engine_free(d->en);
	if (d->st)
		d->st->ops->free(d->st);
	ruleset_free(d->rs);
	registry_free(d->reg);
	tokens_free(d->tokens);
	if (d->store)
		store_close(d->store);
	if (d->http)
		evhttp_free(d->http);
	accept_guards_free();
	if (d->base)
		event_base_free(d->base);
	config_free(&d->cf);
}

/* --check-config: the config, then the rules, metadata and tokens it names. */
static int
check_config(struct daemon *d)
{
	const char	*rules = d->cf.rules;
	struct ruleset	*rs;
	struct registry	*reg = registry_new();
	struct tokens	*tok;
	int		 nerr = 0;

	rs = ruleset_load(&rules, 1, d->cf.calendar, &nerr);
	if (d->cf.metadata)
		registry_load(reg, d->cf.metadata, &nerr);
	tok = tokens_load(d->cf.tokens, &nerr);
	/* "ok" only when it is: a script may read the output, not just the status. */
	if (rs && nerr == 0)
		printf("%s: ok: %d rule(s), %zu contract(s), %zu dataset(s), "
		    "%zu facilit(ies)\n", d->config_path, rs->nrules,
		    registry_count(reg, REC_CONTRACT), registry_count(reg, REC_DATASET),
		    registry_count(reg, REC_FACILITY));
	else
		fprintf(stderr, "%s: %d error(s)\n", d->config_path, nerr ? nerr : 1);
	ruleset_free(rs);
	registry_free(reg);
	tokens_free(tok);
	return rs == NULL || nerr ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon	 d;
	const char	*conf = "/etc/complyd/complyd.yaml";
	int		 c, foreground = 0, check = 0, rc;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "fc:", opts, NULL)) != -1)
		switch (c) {
		case 'f': foreground = 1; break;
		case 'c': conf = optarg; break;
		case 'C': check = 1; break;
		default: return usage();
		}
	log_init("complyd", 1);
	/* -f: stderr (and the journal under systemd); else syslog(3). */
	if (!foreground && !check)
		log_to_syslog(1);
	d.config_path = conf;
	if (config_load(conf, &d.cf) == -1) {
		log_warnx("%s: configuration has errors", conf);
		return 1;
	}
	if (check) {
		rc = check_config(&d);
		config_free(&d.cf);
		return rc;
	}
	rc = run(&d);
	shutdown_daemon(&d);
	return rc;
}
