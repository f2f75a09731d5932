/*
 * in_syslog.c - the syslog input: unix stream, unix datagram and TCP
 * listeners. Each read callback's messages become one daemon_ingest batch
 * (group commit); when storage fails the source stops being read until the
 * same batch commits, so accepted bytes are never dropped.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "complyd/daemon.h"
#include "complyd/log.h"
#include "complyd/sock.h"
#include "complyd/syslog.h"
#include "complyd/util.h"

#define MAX_CONNS	256
#define IDLE_TIMEOUT_S	300
#define RETRY_S		1
#define DGRAM_BATCH	1000	/* datagrams taken per read callback */
#define READ_MAX	(256 * 1024)	/* per read callback: bigger group commits */

/* Messages decoded from one read, waiting for their commit. */
struct batch {
	struct ingest_item	*items;
	char			**texts;	/* owned; items[i].text == texts[i] */
	size_t			 n, cap;
};

struct listener {
	LIST_ENTRY(listener)	 entry;
	struct daemon		*d;
	char			*name;		/* the configured listen string */
	struct evconnlistener	*lev;		/* stream kinds */
	/* unixgram */
	int			 fd;
	struct event		*ev, *retry;
	char			*buf;
	struct batch		 batch;
	long			 nmsg;
	int			 paused;
};

struct conn {
	LIST_ENTRY(conn)	 entry;
	struct listener		*ls;
	struct bufferevent	*bev;
	struct event		*retry;
	struct syslog_framer	 fr;
	struct batch		 batch;
	char			 peer[160];
	long			 nmsg;		/* messages so far, for diagnostics */
	int			 closing;	/* peer gone; free once committed */
	int			 paused;	/* storage failed: retrying the batch */
};

/* Where one decoded message goes. */
struct sink {
	struct daemon	*d;
	const char	*peer;
	struct batch	*b;
	long		*nmsg;
};

/* Everything stays reachable from here: libevent alone does not own it. */
/*
 * Bad messages are logged at most BAD_LOG_PER_SEC a second (a flood of
 * garbage must not become a flood of log lines); the rest are counted and
 * the count is logged when logging resumes.
 */
#define BAD_LOG_PER_SEC	10

static int
bad_log_ok(void)
{
	static time_t	 second;
	static int	 n;
	static long	 suppressed;
	time_t		 now = time(NULL);

	if (now != second) {
		if (suppressed)
			log_warnx("syslog: %ld more bad message(s) not logged", suppressed);
		second = now;
		n = 0;
		suppressed = 0;
	}
	if (n++ < BAD_LOG_PER_SEC)
		return 1;
	suppressed++;
	return 0;
}

static LIST_HEAD(, listener)	listeners = LIST_HEAD_INITIALIZER(listeners);
static LIST_HEAD(, conn)	conns = LIST_HEAD_INITIALIZER(conns);
static int			nconns;	/* across all listeners */

static void
batch_add(struct batch *b, char *text, long line)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->items = xrealloc(b->items, b->cap * sizeof(*b->items));
		b->texts = xrealloc(b->texts, b->cap * sizeof(*b->texts));
	}
	b->texts[b->n] = text;
	b->items[b->n].text = text;
	b->items[b->n].len = strlen(text);
	b->items[b->n].line = line;
	b->n++;
}

static void
batch_clear(struct batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		cJSON_free(b->texts[i]);
	b->n = 0;
}

static void
batch_free(struct batch *b)
{
	batch_clear(b);
	free(b->items);
	free(b->texts);
}

/* Decodes one syslog message into the batch; bad ones are counted and logged. */
static void
on_msg(void *arg, const char *m, size_t len)
{
	struct sink		*s = arg;
	struct syslog_msg	 sm;
	char			 err[200];
	cJSON			*ev;
	char			*text;
	long			 n = ++*s->nmsg;

	if (len == 0)
		return;		/* an empty LF frame carries nothing */
	if (syslog_parse(m, len, &sm, err, sizeof(err)) == -1 ||
	    (ev = syslog_event(&sm, err, sizeof(err))) == NULL) {
		if (bad_log_ok())
			log_warnx("syslog %s: message %ld: %s", s->peer, n, err);
		s->d->stats.rejected++;
		return;
	}
	text = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	if (text == NULL) {
		if (bad_log_ok())
			log_warnx("syslog %s: message %ld: cannot encode", s->peer, n);
		s->d->stats.rejected++;
		return;
	}
	batch_add(s->b, text, n);
}

static void
on_bad(void *arg, const char *reason)
{
	struct sink	*s = arg;

	if (bad_log_ok())
		log_warnx("syslog %s: frame after message %ld: %s", s->peer,
		    *s->nmsg, reason);
	s->d->stats.rejected++;
}

/* Commits the batch; 0, or -1 when storage failed and it must be retried. */
static int
batch_ingest(struct daemon *d, const char *peer, struct batch *b)
{
	struct ingest_result	 res;
	int			 i;

	if (b->n == 0)
		return 0;
	memset(&res, 0, sizeof(res));
	daemon_ingest(d, b->items, b->n, NULL, NULL, &res);
	if (res.failed) {
		ingest_result_free(&res);
		return -1;
	}
	for (i = 0; i < res.nrejects; i++)
		if (bad_log_ok())
			log_warnx("syslog %s: message %ld: %s", peer,
			    res.rejects[i].line, res.rejects[i].error);
	ingest_result_free(&res);
	batch_clear(b);
	return 0;
}

/* --- stream connections --- */

static void
conn_free(struct conn *c)
{
	bufferevent_free(c->bev);
	if (c->retry)
		event_free(c->retry);
	framer_free(&c->fr);
	batch_free(&c->batch);
	LIST_REMOVE(c, entry);
	free(c);
	nconns--;
}

/*
 * Commits what the last read decoded. On a storage failure reading stops
 * (the peer's writes back up: push back) and the same batch is retried.
 */
static void
conn_commit(struct conn *c)
{
	struct timeval	 tv = { RETRY_S, 0 };

	if (batch_ingest(c->ls->d, c->peer, &c->batch) == -1) {
		if (!c->paused)
			log_warnx("syslog %s: storage failed; pausing input",
			    c->peer);
		c->paused = 1;
		bufferevent_disable(c->bev, EV_READ);
		evtimer_add(c->retry, &tv);
		return;
	}
	if (c->paused)
		log_info("syslog %s: input resumed", c->peer);
	c->paused = 0;
	if (c->closing)
		conn_free(c);
	else
		bufferevent_enable(c->bev, EV_READ);
}

static void
conn_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_commit(arg);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct sink	 s = { c->ls->d, c->peer, &c->batch, &c->nmsg };
	size_t		 len;

	while ((len = evbuffer_get_contiguous_space(in)) > 0) {
		framer_feed(&c->fr, (const char *)evbuffer_pullup(in,
		    (ssize_t)len), len, on_msg, on_bad, &s);
		evbuffer_drain(in, len);
	}
	conn_commit(c);
}

/*
 * At EOF a last LF frame may lack its newline; end it. An unfinished
 * octet-counted frame ("DIGITS SP ...") is truncated and cannot be completed.
 */
static void
conn_finish_frame(struct conn *c)
{
	struct sink	 s = { c->ls->d, c->peer, &c->batch, &c->nmsg };
	size_t		 i;

	if (c->fr.len == 0 || c->fr.skipping)
		return;
	for (i = 0; i < c->fr.len && c->fr.buf[i] >= '0' && c->fr.buf[i] <= '9';
	    i++)
		;
	if (i > 0 && i < c->fr.len && c->fr.buf[i] == ' ') {
		log_warnx("syslog %s: connection closed inside a frame",
		    c->peer);
		c->ls->d->stats.rejected++;
		return;
	}
	framer_feed(&c->fr, "\n", 1, on_msg, on_bad, &s);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("syslog %s: idle, closing", c->peer);
	else if (what & BEV_EVENT_ERROR)
		log_warn("syslog %s", c->peer);
	if (what & BEV_EVENT_EOF)
		conn_finish_frame(c);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	c->closing = 1;
	if (!c->paused)
		conn_commit(c);
	/* else the retry commits and then frees it */
}

static void
peer_name(struct conn *c, struct sockaddr *sa, int fd)
{
	char		 host[64], port[8];	/* numeric: enough */
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (sa->sa_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			snprintf(c->peer, sizeof(c->peer), "%s[pid %ld uid %ld]",
			    c->ls->name, (long)cred.pid, (long)cred.uid);
		else
			snprintf(c->peer, sizeof(c->peer), "%s", c->ls->name);
	} else if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
	    host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(c->peer, sizeof(c->peer), "tcp:%s:%s", host, port);
	else
		snprintf(c->peer, sizeof(c->peer), "%s", c->ls->name);
}

static void
conn_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*ls = arg;
	struct conn	*c;
	struct timeval	 idle = { IDLE_TIMEOUT_S, 0 };

	(void)lev;
	(void)salen;
	if (nconns >= MAX_CONNS) {
		log_warnx("syslog %s: %d connections; refusing another",
		    ls->name, MAX_CONNS);
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->ls = ls;
	peer_name(c, sa, fd);
	c->bev = bufferevent_socket_new(ls->d->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	c->retry = event_new(ls->d->base, -1, 0, conn_retry, c);
	if (c->bev == NULL || c->retry == NULL)
		fatalx("syslog %s: out of memory", ls->name);
	framer_init(&c->fr, SYSLOG_MAX_MSG);
	LIST_INSERT_HEAD(&conns, c, entry);
	nconns++;
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	(void)bufferevent_set_max_single_read(c->bev, READ_MAX);
	bufferevent_enable(c->bev, EV_READ);
	log_debug("syslog %s: connected", c->peer);
}

/* --- datagrams: one message each, no framing --- */

static void	 dgram_read(evutil_socket_t, short, void *);

/* As conn_commit: on failure stop taking datagrams (the kernel queue fills and
 * senders block) and retry the same batch. */
static void
dgram_commit(struct listener *ls)
{
	struct timeval	 tv = { RETRY_S, 0 };

	if (batch_ingest(ls->d, ls->name, &ls->batch) == -1) {
		if (!ls->paused)
			log_warnx("syslog %s: storage failed; pausing input",
			    ls->name);
		ls->paused = 1;
		event_del(ls->ev);
		evtimer_add(ls->retry, &tv);
		return;
	}
	if (ls->paused)
		log_info("syslog %s: input resumed", ls->name);
	ls->paused = 0;
	event_add(ls->ev, NULL);
}

static void
dgram_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dgram_commit(arg);
}

static void
dgram_read(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*ls = arg;
	struct sink	 s = { ls->d, ls->name, &ls->batch, &ls->nmsg };
	ssize_t		 n;
	int		 i;

	(void)what;
	for (i = 0; i < DGRAM_BATCH; i++) {
		/* MSG_TRUNC: the real length, to tell an oversized datagram. */
		n = recv(fd, ls->buf, SYSLOG_MAX_MSG, MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("syslog %s: recv", ls->name);
			break;
		}
		if (n > SYSLOG_MAX_MSG) {
			ls->nmsg++;
			log_warnx("syslog %s: message %ld: longer than %d bytes",
			    ls->name, ls->nmsg, SYSLOG_MAX_MSG);
			ls->d->stats.rejected++;
			continue;
		}
		while (n > 0 && (ls->buf[n - 1] == '\n' ||
		    ls->buf[n - 1] == '\r' || ls->buf[n - 1] == '\0'))
			n--;
		on_msg(&s, ls->buf, (size_t)n);
	}
	dgram_commit(ls);
}

/* --- listeners --- */

/* Binds a unix socket of the given type at path, mode 0660; the fd or -1. */
static int
unix_bind(const char *path, int type)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	mode_t			 old;
	int			 fd, rc;

	if (sock_unix_addr(&sun, path) == -1) {
		log_warnx("syslog unix:%s: path too long", path);
		return -1;
	}
	/* A socket left by a previous run; never remove anything else. */
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			log_warnx("syslog %s: exists and is not a socket", path);
			return -1;
		}
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	old = umask(0117);	/* no window in which others may connect */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1 || chmod(path, 0660) == -1) {
		log_warn("syslog %s: bind", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int
listen_tcp(struct listener *ls, const char *hostport)
{
	struct addrinfo	 hints, *res;
	char		 host[256], port[16];
	const char	*colon = strrchr(hostport, ':');
	size_t		 n;
	int		 rc;

	if (colon == NULL || (n = (size_t)(colon - hostport)) >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port)) {
		log_warnx("syslog %s: expected tcp:HOST:PORT", ls->name);
		return -1;
	}
	if (n >= 2 && hostport[0] == '[' && hostport[n - 1] == ']') {
		hostport++;
		n -= 2;
	}
	memcpy(host, hostport, n);
	host[n] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		log_warnx("syslog %s: %s", ls->name, gai_strerror(rc));
		return -1;
	}
	ls->lev = evconnlistener_new_bind(ls->d->base, conn_accept, ls,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    -1, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (ls->lev == NULL) {
		log_warn("syslog %s: listen", ls->name);
		return -1;
	}
	return accept_guard(ls->d->base, ls->lev, ls->name);
}

static int
listen_unix(struct listener *ls, const char *path)
{
	int	 fd;

	if ((fd = unix_bind(path, SOCK_STREAM)) == -1)
		return -1;
	ls->lev = evconnlistener_new(ls->d->base, conn_accept, ls,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (ls->lev == NULL) {
		log_warn("syslog %s: listen", ls->name);
		close(fd);
		return -1;
	}
	return accept_guard(ls->d->base, ls->lev, ls->name);
}

static int
listen_unixgram(struct listener *ls, const char *path)
{
	if ((ls->fd = unix_bind(path, SOCK_DGRAM)) == -1)
		return -1;
	ls->buf = xmalloc(SYSLOG_MAX_MSG);
	ls->ev = event_new(ls->d->base, ls->fd, EV_READ | EV_PERSIST,
	    dgram_read, ls);
	ls->retry = event_new(ls->d->base, -1, 0, dgram_retry, ls);
	if (ls->ev == NULL || ls->retry == NULL || event_add(ls->ev, NULL) == -1) {
		log_warnx("syslog %s: cannot watch the socket", ls->name);
		return -1;
	}
	return 0;
}

static void
listener_free(struct listener *ls)
{
	if (ls->lev != NULL)
		evconnlistener_free(ls->lev);
	if (ls->ev != NULL)
		event_free(ls->ev);
	if (ls->retry != NULL)
		event_free(ls->retry);
	if (ls->fd != -1)
		close(ls->fd);
	batch_free(&ls->batch);
	free(ls->buf);
	free(ls->name);
	free(ls);
}

/*
 * Starts one syslog listener; 0 or -1. Listeners live as long as the
 * process (the daemon.h contract has no stop).
 */
int
in_syslog_start(struct daemon *d, const struct config_input *c)
{
	struct listener	*ls;
	const char	*l = c->listen;
	int		 rc;

	if (l == NULL) {
		log_warnx("syslog input: no listen address");
		return -1;
	}
	ls = xcalloc(1, sizeof(*ls));
	ls->d = d;
	ls->fd = -1;
	ls->name = xstrdup(l);
	if (strncmp(l, "unix:", 5) == 0)
		rc = listen_unix(ls, l + 5);
	else if (strncmp(l, "unixgram:", 9) == 0)
		rc = listen_unixgram(ls, l + 9);
	else if (strncmp(l, "tcp:", 4) == 0)
		rc = listen_tcp(ls, l + 4);
	else {
		log_warnx("syslog input: %s: expected unix:PATH, unixgram:PATH "
		    "or tcp:HOST:PORT", l);
		rc = -1;
	}
	if (rc == -1) {
		listener_free(ls);
		return -1;
	}
	LIST_INSERT_HEAD(&listeners, ls, entry);
	log_info("syslog: listening on %s", l);
	return 0;
}
