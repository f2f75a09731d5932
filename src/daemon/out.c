/*
 * out.c - alert outputs: one table of kinds (stdout, JSONL file, syslog,
 * webhook) fed from each output's outbox in the store. An entry leaves the
 * outbox only after its sink took it, so every alert is delivered at least once.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "complyd/daemon.h"
#include "complyd/log.h"
#include "complyd/sock.h"
#include "complyd/syslog.h"
#include "complyd/util.h"

#define FLUSH_MAX		64	/* outbox entries handed over per flush */
#define BACKOFF_MIN_MS		1000
#define BACKOFF_MAX_MS		300000
#define CONNECT_TIMEOUT_MS	2000
#define SEND_TIMEOUT_S		2	/* a stuck syslog peer must not stall the loop */
#define WEBHOOK_TIMEOUT_S	10

/* What deliver() says about one entry. */
enum { DLV_FAILED = -1, DLV_DONE = 0, DLV_PENDING = 1 };

struct out_kind {
	const char	*name;
	int		 (*open)(struct output *, const struct config_output *);
	/* DLV_DONE, DLV_PENDING (async: the kind finishes it) or DLV_FAILED */
	int		 (*deliver)(struct output *, const struct outbox_item *);
	/* Makes what deliver() wrote durable before the outbox forgets it; 0 or -1. */
	int		 (*sync)(struct output *);
	void		 (*reopen)(struct output *);
	void		 (*close)(struct output *);
};

struct output {
	struct daemon		*d;
	const struct out_kind	*kind;
	int			 index;		/* outbox number in the store */
	char			*name;		/* for diagnostics */
	int64_t			 hold_until;	/* backoff: no delivery before */
	struct event		*again;		/* the next flush, from a fresh loop turn */

	/* file, syslog */
	char			*path;
	int			 fd;
	int			 stream;	/* syslog over a stream: octet counting */
	char			 hostname[256];

	/* webhook */
	struct evhttp_uri	*uri;
	struct evhttp_connection *conn;
	char			*host, *reqpath;
	char			*inflight;	/* alert id of the request in flight */
	char			*inflight_body;	/* and the record it sends */
	int			 inflight_attempts;
	const char		*inflight_error;	/* why libevent failed it */
};

static int	 stdout_deliver(struct output *, const struct outbox_item *);
static int	 stdout_sync(struct output *);
static int	 file_open(struct output *, const struct config_output *);
static int	 file_deliver(struct output *, const struct outbox_item *);
static int	 file_sync(struct output *);
static void	 file_reopen(struct output *);
static void	 fd_close(struct output *);
static int	 syslog_open(struct output *, const struct config_output *);
static int	 syslog_deliver(struct output *, const struct outbox_item *);
static int	 webhook_open(struct output *, const struct config_output *);
static int	 webhook_deliver(struct output *, const struct outbox_item *);
static void	 webhook_close(struct output *);

static const struct out_kind kinds[] = {
	[OUT_STDOUT] =	{ "stdout", NULL, stdout_deliver, stdout_sync, NULL, NULL },
	[OUT_FILE] =	{ "file", file_open, file_deliver, file_sync, file_reopen,
			  fd_close },
	[OUT_SYSLOG] =	{ "syslog", syslog_open, syslog_deliver, NULL, NULL,
			  fd_close },
	[OUT_WEBHOOK] =	{ "webhook", webhook_open, webhook_deliver, NULL, NULL,
			  webhook_close },
};

/* 1s, 2s, 4s ... after each failed attempt, capped at 5 minutes. */
static int64_t
backoff_ms(int attempts)
{
	if (attempts < 0)
		attempts = 0;
	if (attempts > 16)
		return BACKOFF_MAX_MS;
	if ((int64_t)BACKOFF_MIN_MS << attempts > BACKOFF_MAX_MS)
		return BACKOFF_MAX_MS;
	return (int64_t)BACKOFF_MIN_MS << attempts;
}

/*
 * A failed delivery: reschedule the entry and hold the whole output until
 * then, so that later alerts do not overtake it and a dead sink is not hammered.
 */
static void
delivery_failed(struct output *o, const char *alert_id, int attempts)
{
	int64_t	 next = daemon_now() + backoff_ms(attempts);

	o->d->stats.delivery_failures++;
	o->hold_until = next;
	if (store_outbox_retry(o->d->store, o->index, alert_id, next) == -1)
		log_warnx("%s: cannot reschedule alert %s; it stays due",
		    o->name, alert_id);
}

static void
delivery_done(struct output *o, const char *alert_id, const char *sent)
{
	o->d->stats.delivered++;
	/* If this fails the entry is delivered again: at least once. */
	if (store_outbox_done(o->d->store, o->index, alert_id, sent) == -1)
		log_warnx("%s: cannot mark alert %s delivered", o->name, alert_id);
}

/* --- stdout --- */

static int
stdout_deliver(struct output *o, const struct outbox_item *it)
{
	(void)o;
	if (fputs(it->json, stdout) == EOF || fputc('\n', stdout) == EOF)
		return DLV_FAILED;
	return DLV_DONE;
}

static int
stdout_sync(struct output *o)
{
	(void)o;
	return fflush(stdout) == 0 ? 0 : -1;
}

/* --- JSONL file --- */

static int
file_openfd(struct output *o)
{
	o->fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (o->fd == -1) {
		log_warn("%s: open", o->name);
		return -1;
	}
	return 0;
}

static int
file_open(struct output *o, const struct config_output *c)
{
	if (c->path == NULL || *c->path == '\0') {
		log_warnx("output file: no path");
		return -1;
	}
	o->path = xstrdup(c->path);
	return file_openfd(o);
}

static int
file_deliver(struct output *o, const struct outbox_item *it)
{
	struct sbuf	 b;
	int		 rc;

	if (o->fd == -1 && file_openfd(o) == -1)
		return DLV_FAILED;
	/* One write per line: O_APPEND keeps concurrent writers' lines whole. */
	sbuf_init(&b);
	sbuf_puts(&b, it->json);
	sbuf_add(&b, "\n", 1);
	rc = sock_write_all(o->fd, 0, b.s, b.len);
	sbuf_free(&b);
	if (rc == -1) {
		log_warn("%s: write", o->name);
		return DLV_FAILED;
	}
	return DLV_DONE;
}

/* The outbox forgets an entry once it is here, so it must be on disk. */
static int
file_sync(struct output *o)
{
	if (o->fd != -1 && fsync(o->fd) == -1 && errno != EINVAL) {
		log_warn("%s: fsync", o->name);
		return -1;
	}
	return 0;
}

/* logrotate moved the file away: start a new one under the configured name. */
static void
file_reopen(struct output *o)
{
	fd_close(o);
	(void)file_openfd(o);
}

static void
fd_close(struct output *o)
{
	if (o->fd != -1)
		close(o->fd);
	o->fd = -1;
}

/* --- syslog --- */

static int
syslog_open(struct output *o, const struct config_output *c)
{
	if (c->target == NULL ||
	    (strncmp(c->target, "unix:", 5) != 0 &&
	    strncmp(c->target, "tcp:", 4) != 0)) {
		log_warnx("output syslog: target must be unix:PATH or "
		    "tcp:HOST:PORT");
		return -1;
	}
	o->path = xstrdup(c->target);
	if (gethostname(o->hostname, sizeof(o->hostname) - 1) == -1)
		snprintf(o->hostname, sizeof(o->hostname), "-");
	/* The peer may come up later: connecting is retried on delivery. */
	return 0;
}

static int
connect_unix(struct output *o, const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, type;

	if (sock_unix_addr(&sun, path) == -1) {
		log_warnx("%s: path too long", o->name);
		return -1;
	}
	/* /dev/log is a datagram socket; some syslog daemons listen on a stream. */
	for (type = SOCK_DGRAM;; type = SOCK_STREAM) {
		if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		close(fd);
		if (type == SOCK_STREAM || errno != EPROTOTYPE)
			return -1;
	}
	o->stream = type == SOCK_STREAM;
	return fd;
}

/* A connect that gives up after CONNECT_TIMEOUT_MS instead of blocking the loop. */
static int
connect_timed(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct pollfd	 pfd;
	int		 err, fl;
	socklen_t	 len = sizeof(err);

	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if (connect(fd, sa, salen) == -1) {
		if (errno != EINPROGRESS)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			return -1;
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, fl);
}

/* Splits "HOST:PORT" ("[v6]:PORT" too) into host and port; 0 or -1. */
static int
split_hostport(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char	*colon = strrchr(s, ':');
	size_t		 n;

	if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= portlen)
		return -1;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int
connect_tcp(struct output *o, const char *hostport)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[256], port[16];
	int		 fd = -1, rc;

	if (split_hostport(hostport, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		log_warnx("%s: expected tcp:HOST:PORT", o->name);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("%s: %s", o->name, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect_timed(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	o->stream = 1;
	return fd;
}

static int
syslog_connect(struct output *o)
{
	struct timeval	 tv = { SEND_TIMEOUT_S, 0 };
	int		 fd;

	if (strncmp(o->path, "unix:", 5) == 0)
		fd = connect_unix(o, o->path + 5);
	else
		fd = connect_tcp(o, o->path + 4);
	if (fd == -1) {
		log_warn("%s: connect", o->name);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	o->fd = fd;
	return 0;
}

/*
 * A stream peer that went away only shows on the next read; sending first
 * would put the message in a buffer nobody reads. Returns 1 if still open.
 */
static int
stream_alive(int fd)
{
	char	 c;
	ssize_t	 n;

	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return 0;
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		return 0;
	return 1;
}

static int
syslog_deliver(struct output *o, const struct outbox_item *it)
{
	struct sbuf	 msg, frame;
	cJSON		*alert;
	int		 rc;

	if ((alert = cJSON_Parse(it->json)) == NULL) {
		/* Cannot happen for what the store wrote; retrying cannot fix it. */
		log_warnx("%s: alert %s: stored JSON does not parse; skipped",
		    o->name, it->alert_id);
		return DLV_DONE;
	}
	if (o->fd != -1 && o->stream && !stream_alive(o->fd))
		fd_close(o);
	if (o->fd == -1 && syslog_connect(o) == -1) {
		cJSON_Delete(alert);
		return DLV_FAILED;
	}
	sbuf_init(&msg);
	syslog_format_alert(&msg, alert, o->hostname);
	cJSON_Delete(alert);
	sbuf_init(&frame);
	if (o->stream)	/* RFC 6587 octet counting */
		sbuf_printf(&frame, "%zu ", msg.len);
	sbuf_add(&frame, msg.s, msg.len);
	if (o->stream)
		rc = sock_write_all(o->fd, 1, frame.s, frame.len);
	else
		rc = send(o->fd, frame.s, frame.len, MSG_NOSIGNAL) ==
		    (ssize_t)frame.len ? 0 : -1;
	sbuf_free(&msg);
	sbuf_free(&frame);
	if (rc == -1) {
		log_warn("%s: send", o->name);
		fd_close(o);	/* reconnect on the next attempt */
		return DLV_FAILED;
	}
	return DLV_DONE;
}

/* --- webhook --- */


static int
webhook_open(struct output *o, const struct config_output *c)
{
	const char	*scheme, *host, *path, *query;
	struct sbuf	 b;
	int		 port;

	if (c->url == NULL || (o->uri = evhttp_uri_parse(c->url)) == NULL) {
		log_warnx("output webhook: bad url");
		return -1;
	}
	scheme = evhttp_uri_get_scheme(o->uri);
	host = evhttp_uri_get_host(o->uri);
	if (scheme == NULL || strcasecmp(scheme, "http") != 0 || host == NULL) {
		log_warnx("output webhook: %s: only http://HOST[:PORT]/PATH "
		    "is supported", c->url);
		return -1;
	}
	if ((port = evhttp_uri_get_port(o->uri)) == -1)
		port = 80;
	path = evhttp_uri_get_path(o->uri);
	query = evhttp_uri_get_query(o->uri);
	sbuf_init(&b);
	sbuf_printf(&b, "%s%s%s", path && *path ? path : "/",
	    query ? "?" : "", query ? query : "");
	o->reqpath = b.s;
	sbuf_init(&b);
	sbuf_printf(&b, port == 80 ? "%s" : "%s:%d", host, port);
	o->host = b.s;
	o->conn = evhttp_connection_base_new(o->d->base, NULL, host,
	    (unsigned short)port);
	if (o->conn == NULL) {
		log_warnx("output webhook: %s: cannot create connection", c->url);
		return -1;
	}
	evhttp_connection_set_timeout(o->conn, WEBHOOK_TIMEOUT_S);
	/* The outbox retries with backoff; libevent must not retry on its own. */
	evhttp_connection_set_retries(o->conn, 0);
	return 0;
}

static void
webhook_error(enum evhttp_request_error e, void *arg)
{
	struct output	*o = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		o->inflight_error = "timed out";
		break;
	case EVREQ_HTTP_EOF:
		o->inflight_error = "connection closed";
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		o->inflight_error = "bad response header";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		o->inflight_error = "response too long";
		break;
	default:
		o->inflight_error = "request failed";
		break;
	}
}

static void
webhook_reply(struct evhttp_request *req, void *arg)
{
	struct output	*o = arg;
	struct timeval	 now = { 0, 0 };
	int		 code;

	/* libevent passes NULL when the connection failed or timed out. */
	code = req ? evhttp_request_get_response_code(req) : 0;
	if (code >= 200 && code <= 299) {
		delivery_done(o, o->inflight, o->inflight_body);
		/* Next entry from a fresh event, not from inside libevent's callback. */
		evtimer_add(o->again, &now);
	} else {
		if (code != 0)
			log_warnx("%s: alert %s: HTTP status %d", o->name,
			    o->inflight, code);
		else
			log_warnx("%s: alert %s: %s", o->name, o->inflight,
			    o->inflight_error ? o->inflight_error :
			    "connection failed");
		delivery_failed(o, o->inflight, o->inflight_attempts);
	}
	free(o->inflight);
	free(o->inflight_body);
	o->inflight = o->inflight_body = NULL;
}

static int
webhook_deliver(struct output *o, const struct outbox_item *it)
{
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	char			 len[32];

	if ((req = evhttp_request_new(webhook_reply, o)) == NULL)
		return DLV_FAILED;
	evhttp_request_set_error_cb(req, webhook_error);
	o->inflight_error = NULL;
	h = evhttp_request_get_output_headers(req);
	snprintf(len, sizeof(len), "%zu", strlen(it->json));
	evhttp_add_header(h, "Host", o->host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Content-Length", len);
	/*
	 * A kept-alive connection the server closed while idle fails the next
	 * request (libevent only notices on write); alerts are few, so a fresh
	 * connection per request costs little and avoids spurious retries.
	 */
	evhttp_add_header(h, "Connection", "close");
	/* Redelivery carries the same id, so the receiver can drop repeats. */
	evhttp_add_header(h, "X-Complyd-Alert-Id", it->alert_id);
	evbuffer_add(evhttp_request_get_output_buffer(req), it->json,
	    strlen(it->json));
	o->inflight = xstrdup(it->alert_id);
	o->inflight_body = xstrdup(it->json);
	o->inflight_attempts = it->attempts;
	if (evhttp_make_request(o->conn, req, EVHTTP_REQ_POST,
	    o->reqpath) == -1) {
		/* evhttp_make_request freed req. */
		free(o->inflight);
		free(o->inflight_body);
		o->inflight = o->inflight_body = NULL;
		return DLV_FAILED;
	}
	return DLV_PENDING;
}

static void
webhook_close(struct output *o)
{
	/* Frees a request in flight without calling back; it stays in the outbox. */
	if (o->conn != NULL)
		evhttp_connection_free(o->conn);
	if (o->uri != NULL)
		evhttp_uri_free(o->uri);
	free(o->inflight);
	free(o->inflight_body);
	free(o->host);
	free(o->reqpath);
}

/* --- the interface of daemon.h --- */

static const char *
out_target(const struct config_output *c)
{
	return c->path ? c->path : c->target ? c->target : c->url ? c->url : "";
}

int
output_slot(struct daemon *d, const struct config_output *c, int position)
{
	struct sbuf	 spec;
	int		 slot, i, twins;

	if ((size_t)c->type >= sizeof(kinds) / sizeof(kinds[0]))
		return -1;
	sbuf_init(&spec);
	sbuf_printf(&spec, "%s %s", kinds[c->type].name, out_target(c));
	/* Two outputs alike (two webhooks to one URL) are two queues. */
	for (i = 0, twins = 0; i < position && i < d->cf.noutputs; i++)
		twins += d->cf.outputs[i].type == c->type &&
		    strcmp(out_target(&d->cf.outputs[i]), out_target(c)) == 0;
	if (twins > 0)
		sbuf_printf(&spec, " #%d", twins + 1);
	if ((slot = store_output_slot(d->store, spec.s, position)) == -1)
		log_warnx("output %d (%s): cannot record its outbox slot", position,
		    spec.s);
	sbuf_free(&spec);
	return slot;
}

static void
output_again(evutil_socket_t fd, short what, void *arg)
{
	struct output	*o = arg;

	(void)fd;
	(void)what;
	output_flush(o->d, o);
}

struct output *
output_open(struct daemon *d, const struct config_output *c, int index)
{
	struct output	*o;
	struct sbuf	 b;

	if ((size_t)c->type >= sizeof(kinds) / sizeof(kinds[0]) ||
	    kinds[c->type].deliver == NULL) {
		log_warnx("output %d: unknown type", index);
		return NULL;
	}
	o = xcalloc(1, sizeof(*o));
	o->d = d;
	o->kind = &kinds[c->type];
	o->index = index;
	o->fd = -1;
	sbuf_init(&b);
	sbuf_printf(&b, "output %d (%s%s%s)", index, o->kind->name,
	    c->path || c->target || c->url ? " " : "",
	    c->path ? c->path : c->target ? c->target : c->url ? c->url : "");
	o->name = b.s;
	o->again = event_new(d->base, -1, 0, output_again, o);
	if (o->again == NULL || (o->kind->open != NULL && o->kind->open(o, c) == -1)) {
		output_close(o);
		return NULL;
	}
	return o;
}

void
output_close(struct output *o)
{
	if (o == NULL)
		return;
	if (o->kind->sync != NULL)
		(void)o->kind->sync(o);
	if (o->kind->close != NULL)
		o->kind->close(o);
	if (o->again != NULL)
		event_free(o->again);
	free(o->path);
	free(o->name);
	free(o);
}

void
output_reopen(struct output *o)
{
	if (o->kind->reopen != NULL)
		o->kind->reopen(o);
}

/*
 * Marks the first n entries delivered, in one transaction when possible.
 * -1 if that transaction did not commit (the entries will repeat).
 */
static int
mark_done(struct output *o, struct outbox_item *items, int n)
{
	int	 i, tx;

	tx = n > 1 && store_begin(o->d->store) == 0;
	for (i = 0; i < n; i++)
		delivery_done(o, items[i].alert_id, items[i].json);
	if (tx && store_commit(o->d->store) == -1) {
		log_warnx("%s: cannot record deliveries; they will repeat",
		    o->name);
		return -1;
	}
	return 0;
}

void
output_flush(struct daemon *d, struct output *o)
{
	struct outbox_item	 items[FLUSH_MAX];
	int			 i, n, ndone = 0, max, recorded;

	if (o->inflight != NULL || daemon_now() < o->hold_until)
		return;
	/* An asynchronous kind has one entry in flight: take one at a time. */
	max = o->kind == &kinds[OUT_WEBHOOK] ? 1 : FLUSH_MAX;
	if ((n = store_outbox_due(d->store, o->index, daemon_now(), items,
	    max)) <= 0) {
		if (n == -1)
			log_warnx("%s: cannot read the outbox", o->name);
		return;
	}
	for (i = 0; i < n; i++) {
		int rc = o->kind->deliver(o, &items[i]);

		if (rc == DLV_PENDING)
			break;
		if (rc == DLV_FAILED) {
			delivery_failed(o, items[i].alert_id, items[i].attempts);
			break;
		}
		ndone++;
	}
	if (ndone > 0 && o->kind->sync != NULL && o->kind->sync(o) == -1) {
		/* Written but maybe not durable: deliver them again later. */
		delivery_failed(o, items[0].alert_id, items[0].attempts);
		ndone = 0;
	}
	recorded = mark_done(o, items, ndone) == 0;
	store_outbox_items_free(items, n);
	/*
	 * A full batch may have more behind it: go on from a fresh turn of the
	 * loop (so ingestion is served in between) rather than at the next
	 * tick, which left a burst of alerts trickling out at 64 a second.
	 * Not when the store could not record them: the same batch would be
	 * written again on every turn; the tick retries it.
	 */
	if (recorded && ndone == max && max > 1) {
		struct timeval now = { 0, 0 };

		evtimer_add(o->again, &now);
	}
}
