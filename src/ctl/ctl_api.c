/*
 * ctl_api.c - complyctl's commands that talk to a running daemon: one HTTP
 * request over the daemon's unix socket (DESIGN: --socket, else the first
 * unix: listener of -c FILE), the JSON answer printed on stdout.
 *
 * Over the socket a peer with uid 0 or the daemon's uid is admin; anyone
 * else sends the token in COMPLYD_TOKEN. The request is HTTP/1.0 with
 * Connection: close, so the answer ends where the stream does.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cJSON.h>

#include "complyd/config.h"
#include "complyd/log.h"
#include "complyd/sock.h"
#include "complyd/util.h"
#include "ctl.h"

#define API_MAX_ANSWER	(64 << 20)	/* bytes read back at most */
#define DEFAULT_CONF	"/etc/complyd/complyd.yaml"
#define API_TIMEOUT	300	/* seconds: a reload replays the whole journal */
#define API_MAX_RULES	(4 << 20)	/* bytes of rule files a backtest sends */

/* Options that become query parameters: --OPT VALUE -> ?param=VALUE. */
static const struct query_opt {
	const char	*opt, *param;
} query_opts[] = {
#define Q_DUE_BEFORE	(1u << 0)
	{ "due-before",	"due_before" },
#define Q_STATUS	(1u << 1)
	{ "status",	"status" },
#define Q_STATE		(1u << 2)
	{ "state",	"state" },
#define Q_TENANT	(1u << 3)
	{ "tenant",	"tenant" },
#define Q_OBLIGATION	(1u << 4)
	{ "obligation",	"obligation" },
#define Q_SINCE		(1u << 5)
	{ "since",	"since" },
#define Q_UNTIL		(1u << 6)
	{ "until",	"until" },
#define Q_LIMIT		(1u << 7)
	{ "limit",	"limit" },
#define Q_FROM		(1u << 8)
	{ "from",	"from" },
#define Q_TO		(1u << 9)
	{ "to",		"to" },
#define Q_FORMAT	(1u << 10)
	{ "format",	"format" },
};
#define NQUERY	(sizeof(query_opts) / sizeof(query_opts[0]))

/* What a command sends as its body. */
enum api_body {
	BODY_NONE,
	BODY_NOTE,		/* {"note": ...} from --note */
	BODY_RULE_FILES		/* the *.yaml of its DIR argument, and its options */
};

/*
 * One row per command: the route it calls (a %s in the path takes the
 * command's ID argument), the options it takes (query parameters, or
 * members of a BODY_RULE_FILES body), its body, and whether the answer is
 * a verdict ({"ok": false} exits 1).
 */
static const struct api_cmd {
	const char	*name;
	const char	*method;
	const char	*path;
	unsigned	 query;
	enum api_body	 body;
	int		 verdict;
} api_cmds[] = {
	{ "alerts",	"GET",	"/v1/alerts",	Q_STATUS | Q_STATE | Q_TENANT |
	    Q_OBLIGATION | Q_SINCE | Q_UNTIL | Q_LIMIT, BODY_NONE, 0 },
	{ "ack",	"POST",	"/v1/alerts/%s/ack",	0, BODY_NOTE, 0 },
	{ "resolve",	"POST",	"/v1/alerts/%s/resolve", 0, BODY_NOTE, 0 },
	{ "deadlines",	"GET",	"/v1/deadlines",	Q_DUE_BEFORE, BODY_NONE, 0 },
	{ "reload",	"POST",	"/v1/rules/reload",	0, BODY_NONE, 0 },
	{ "rules",	"GET",	"/v1/rules",		0, BODY_NONE, 0 },
	{ "backtest",	"POST",	"/v1/rules/backtest",	Q_FROM | Q_TO | Q_TENANT,
	    BODY_RULE_FILES, 0 },
	{ "report",	"GET",	"/v1/reports/evidence",	Q_FROM | Q_TO | Q_TENANT |
	    Q_FORMAT, BODY_NONE, 0 },
	{ "verify",	"GET",	"/v1/evidence/verify",	0, BODY_NONE, 1 },
};

static const struct api_cmd *
find_cmd(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(api_cmds) / sizeof(api_cmds[0]); i++)
		if (strcmp(api_cmds[i].name, name) == 0)
			return &api_cmds[i];
	return NULL;
}

/* The socket path: --socket, else the first unix: listener of the config. */
static int
socket_path(const char *sock, const char *conf, struct sbuf *out)
{
	struct config	 cf;
	int		 i, rc = -1;

	if (sock != NULL) {
		sbuf_puts(out, sock);
		return 0;
	}
	if (config_load(conf, &cf) == -1)
		return -1;
	for (i = 0; i < cf.nlisten && rc == -1; i++)
		if (strncmp(cf.listen[i], "unix:", 5) == 0) {
			sbuf_puts(out, cf.listen[i] + 5);
			rc = 0;
		}
	if (rc == -1)
		log_warnx("%s: api.listen has no unix: socket; give --socket", conf);
	config_free(&cf);
	return rc;
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un	 sun;
	struct timeval		 tmo = { API_TIMEOUT, 0 };
	int			 fd;

	if (sock_unix_addr(&sun, path) == -1) {
		log_warnx("%s: socket path too long", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("%s", path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends the request and reads the whole answer into *ans. */
static int
exchange(int fd, const char *method, const char *target, const char *body,
    struct sbuf *ans)
{
	struct sbuf	 req;
	const char	*tok = getenv("COMPLYD_TOKEN");
	char		 buf[65536];
	ssize_t		 r;
	int		 rc;

	sbuf_init(&req);
	sbuf_printf(&req, "%s %s HTTP/1.0\r\nHost: localhost\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n", method, target,
	    body ? strlen(body) : 0);
	if (body != NULL)
		sbuf_puts(&req, "Content-Type: application/json\r\n");
	if (tok != NULL && *tok != '\0')
		sbuf_printf(&req, "Authorization: Bearer %s\r\n", tok);
	sbuf_puts(&req, "\r\n");
	if (body != NULL)
		sbuf_puts(&req, body);
	rc = sock_write_all(fd, 1, req.s, req.len);
	sbuf_free(&req);
	if (rc == -1) {
		log_warn("write");
		return -1;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				log_warnx("the daemon did not answer within %d s",
				    API_TIMEOUT);
			else
				log_warn("read");
			return -1;
		}
		if (ans->len + (size_t)r > API_MAX_ANSWER) {
			log_warnx("the daemon's answer is over %d bytes", API_MAX_ANSWER);
			return -1;
		}
		sbuf_add(ans, buf, (size_t)r);
	}
	return 0;
}

/*
 * Prints the body; 0 for a 2xx answer (unless a verdict says "ok": false),
 * else the error on stderr and 1.
 */
static int
show_answer(const struct api_cmd *c, const struct sbuf *ans)
{
	const char	*cmd = c->name;
	const char	*body;
	int		 code;
	cJSON		*j, *err, *msg, *e;

	if (ans->s == NULL || sscanf(ans->s, "HTTP/%*d.%*d %d", &code) != 1 ||
	    (body = strstr(ans->s, "\r\n\r\n")) == NULL) {
		log_warnx("%s: the daemon's answer is not HTTP", cmd);
		return 1;
	}
	body += 4;
	if (code >= 200 && code < 300) {
		fputs(body, stdout);
		if (*body != '\0' && body[strlen(body) - 1] != '\n')
			putchar('\n');
		if (!c->verdict)
			return 0;
		j = cJSON_Parse(body);
		code = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) ? 0 : 1;
		cJSON_Delete(j);
		return code;
	}
	j = cJSON_Parse(body);
	err = cJSON_GetObjectItemCaseSensitive(j, "error");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	log_warnx("%s: %d %s", cmd, code, cJSON_IsString(msg) ?
	    msg->valuestring : body);
	/* A rule set's errors, one a line as lint prints them. */
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(err, "errors"))
		if (cJSON_IsString(e))
			fprintf(stderr, "%s\n", e->valuestring);
	cJSON_Delete(j);
	return 1;
}

/*
 * Appends v percent-encoded for a query string (RFC 3986 unreserved kept;
 * '+' is encoded, as the daemon's query parser reads it as a space).
 */
static void
query_escape(struct sbuf *b, const char *v)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~:", *p) != NULL)
			sbuf_add(b, (const char *)p, 1);
		else
			sbuf_printf(b, "%%%02X", *p);
}

static void
usage(const struct api_cmd *c)
{
	size_t i;

	fprintf(stderr, "usage: complyctl %s [--socket PATH | -c FILE]%s", c->name,
	    strchr(c->path, '%') ? " ID" : c->body == BODY_RULE_FILES ? " DIR" : "");
	for (i = 0; i < NQUERY; i++)
		if (c->query & (1u << i))
			fprintf(stderr, " [--%s VALUE]", query_opts[i].opt);
	fprintf(stderr, "%s\n", c->body == BODY_NOTE ? " [--note TEXT]" : "");
}

/* An alert id goes into the path as it is: only id characters are taken. */
static int
path_arg_ok(const char *v)
{
	return *v != '\0' && strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") == strlen(v);
}

/* Reads file path (at most left bytes) into b; 0, or -1 after saying why. */
static int
read_text(const char *path, size_t left, struct sbuf *b)
{
	char	 buf[65536];
	size_t	 r;
	FILE	*f;
	int	 bad;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0 && r <= left) {
		sbuf_add(b, buf, r);
		left -= r;
	}
	bad = ferror(f);
	fclose(f);
	if (bad)
		log_warnx("%s: cannot read it", path);
	else if (r > 0)
		log_warnx("%s: the rule files are over %d bytes", path, API_MAX_RULES);
	return bad || r > 0 ? -1 : 0;
}

/*
 * {"files": {NAME: TEXT, ...}} of the *.yaml files directly in dir (the
 * daemon skips law catalogs and test cases, as lint does), with the
 * options given as members; NULL after saying why.
 */
static char *
rule_files_body(const char *dir, const char *const *vals)
{
	char		 path[4096];
	size_t		 i, n, total = 0;
	struct dirent	*de;
	struct stat	 st;
	struct sbuf	 text;
	cJSON		*o = cJSON_CreateObject(), *files;
	char		*body = NULL;
	DIR		*dp;
	int		 bad = 0;

	files = cJSON_AddObjectToObject(o, "files");
	if ((dp = opendir(dir)) == NULL) {
		log_warn("%s", dir);
		cJSON_Delete(o);
		return NULL;
	}
	while (!bad && (de = readdir(dp)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= 5 ||
		    strcmp(de->d_name + n - 5, ".yaml") != 0 ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || stat(path, &st) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		sbuf_init(&text);
		if (read_text(path, API_MAX_RULES - total, &text) == -1)
			bad = 1;
		else
			cJSON_AddStringToObject(files, de->d_name, text.s);
		total += text.len;
		sbuf_free(&text);
	}
	closedir(dp);
	if (!bad && cJSON_GetArraySize(files) == 0) {
		log_warnx("%s: no *.yaml rule files", dir);
		bad = 1;
	}
	for (i = 0; i < NQUERY; i++)
		if (vals[i] != NULL)
			cJSON_AddStringToObject(o, query_opts[i].param, vals[i]);
	if (!bad)
		body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return body;
}

/*
 * The request target and body from the command line; 0, or 2 (usage) after
 * printing why, or 1 if the body's files could not be read.
 */
static int
parse_args(const struct api_cmd *c, int argc, char **argv, const char **sock,
    const char **conf, struct sbuf *target, char **body)
{
	struct option	 opts[NQUERY + 3];
	const char	*vals[NQUERY] = { NULL }, *note = NULL;
	int		 ch, n = 0, takes_id = strchr(c->path, '%') != NULL;
	int		 nargs = takes_id || c->body == BODY_RULE_FILES;
	size_t		 i;
	cJSON		*o;

	memset(opts, 0, sizeof(opts));
	opts[n++] = (struct option){ "socket", required_argument, NULL, 's' };
	if (c->body == BODY_NOTE)
		opts[n++] = (struct option){ "note", required_argument, NULL, 'n' };
	for (i = 0; i < NQUERY; i++)
		if (c->query & (1u << i))
			opts[n++] = (struct option){ query_opts[i].opt,
			    required_argument, NULL, 256 + (int)i };
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (ch == 's')
			*sock = optarg;
		else if (ch == 'c')
			*conf = optarg;
		else if (ch == 'n')
			note = optarg;
		else if (ch >= 256)
			vals[ch - 256] = optarg;
		else {
			usage(c);
			return 2;
		}
	}
	if (argc - optind != nargs || (takes_id && !path_arg_ok(argv[optind]))) {
		usage(c);
		return 2;
	}
	if (takes_id)
		sbuf_printf(target, c->path, argv[optind]);
	else
		sbuf_puts(target, c->path);
	if (c->body == BODY_RULE_FILES)
		return (*body = rule_files_body(argv[optind], vals)) ? 0 : 1;
	for (n = 0, i = 0; i < NQUERY; i++)
		if (vals[i] != NULL) {
			sbuf_printf(target, "%c%s=", n++ ? '&' : '?',
			    query_opts[i].param);
			query_escape(target, vals[i]);
		}
	if (c->body == BODY_NOTE) {
		o = cJSON_CreateObject();
		if (note != NULL)
			cJSON_AddStringToObject(o, "note", note);
		*body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	return 0;
}

static int
run_api(const struct api_cmd *c, int argc, char **argv)
{
	const char	*sock = NULL, *conf = DEFAULT_CONF;
	struct sbuf	 path, target, ans;
	char		*body = NULL;
	int		 fd, rc;

	sbuf_init(&path);
	sbuf_init(&target);
	sbuf_init(&ans);
	if ((rc = parse_args(c, argc, argv, &sock, &conf, &target, &body)) == 0) {
		rc = 2;
		if (socket_path(sock, conf, &path) == 0 &&
		    (fd = connect_unix(path.s)) != -1) {
			rc = exchange(fd, c->method, target.s, body, &ans) == -1 ?
			    1 : show_answer(c, &ans);
			close(fd);
		}
	}
	free(body);
	sbuf_free(&path);
	sbuf_free(&target);
	sbuf_free(&ans);
	return rc;
}

int
ctl_api(int argc, char **argv)
{
	const struct api_cmd *c = find_cmd(argv[0]);

	if (c == NULL) {
		log_warnx("%s: the daemon has no API route for this", argv[0]);
		return 2;
	}
	return run_api(c, argc, argv);
}
