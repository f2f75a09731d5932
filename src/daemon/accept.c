/*
 * accept.c - listeners that pause when accept() fails, typically for want of
 * file descriptors. libevent retries such a listener at once, so a daemon out
 * of descriptors spins its loop, logs every try and serves nobody. A paused
 * listener resumes after a second, when connections may have closed; the
 * first failure of each second is logged.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "complyd/daemon.h"
#include "complyd/log.h"
#include "complyd/util.h"

struct guard {
	struct evconnlistener	*lev;
	struct event		*resume;
	char			*name;
	time_t			 logged;
	LIST_ENTRY(guard)	 entry;
};

static LIST_HEAD(, guard) guards = LIST_HEAD_INITIALIZER(guards);

static void
resume(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(g->lev);
}

/* libevent hands the listener's own argument (evhttp's, ours): find the guard. */
static void
accept_failed(struct evconnlistener *lev, void *arg)
{
	struct guard	*g;
	struct timeval	 pause = { 1, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	LIST_FOREACH(g, &guards, entry)
		if (g->lev == lev)
			break;
	if (g == NULL)
		return;

	if (time(NULL) != g->logged) {
		g->logged = time(NULL);
		log_warnx("%s: accept: %s; not accepting for 1 s", g->name,
		    evutil_socket_error_to_string(err));
	}
	evconnlistener_disable(lev);
	evtimer_add(g->resume, &pause);
}

int
accept_guard(struct event_base *base, struct evconnlistener *lev,
    const char *name)
{
	struct guard	*g;

	if (lev == NULL)
		return -1;
	g = xcalloc(1, sizeof(*g));
	g->lev = lev;
	g->name = xstrdup(name);
	if ((g->resume = evtimer_new(base, resume, g)) == NULL) {
		free(g->name);
		free(g);
		return -1;
	}
	evconnlistener_set_error_cb(lev, accept_failed);
	LIST_INSERT_HEAD(&guards, g, entry);
	return 0;
}

void
accept_guards_free(void)
{
	struct guard	*g;

	while ((g = LIST_FIRST(&guards)) != NULL) {
		LIST_REMOVE(g, entry);
		event_free(g->resume);
		free(g->name);
		free(g);
	}
}
