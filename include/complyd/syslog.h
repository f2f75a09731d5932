/*
 * syslog.h - syslog on the wire, both ways: RFC 6587 framing of streams
 * (octet counting and LF), parsing RFC 5424 and RFC 3164 messages into the
 * event they carry (JSON in the message body, or RFC 5424 structured data),
 * and formatting alerts as RFC 5424 with structured data for syslog-ng.
 */
#ifndef COMPLYD_SYSLOG_H
#define COMPLYD_SYSLOG_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "complyd/util.h"

#define SYSLOG_MAX_MSG	(64 * 1024)

/* Splits a byte stream into messages. */
struct syslog_framer {
	char	*buf;
	size_t	 len, cap;
	size_t	 max;		/* longest message accepted */
	int	 skipping;	/* discarding the rest of an oversized LF frame */
};
void framer_init(struct syslog_framer *f, size_t max_msg);
void framer_free(struct syslog_framer *f);
/*
 * Appends n bytes and calls msg(arg, m, len) for each complete message: a
 * frame that starts with "DIGITS SP" is octet-counted, else it ends at LF
 * (a trailing CR is dropped). An oversized or malformed frame calls
 * bad(arg, reason) and is skipped. Returns the number of messages delivered.
 */
int framer_feed(struct syslog_framer *f, const char *data, size_t n,
    void (*msg)(void *, const char *, size_t),
    void (*bad)(void *, const char *), void *arg);

struct syslog_msg {
	int		 pri;		/* -1 if absent */
	int		 rfc5424;	/* else RFC 3164 */
	char		 hostname[256];
	char		 app[64];
	char		 msgid[64];
	const char	*sd;		/* RFC 5424 structured data ("-" or "[...]") */
	size_t		 sdlen;
	const char	*msg;		/* the body (BOM skipped) */
	size_t		 msglen;
};
/* Parses one message; 0, or -1 with a reason in err. */
int syslog_parse(const char *s, size_t n, struct syslog_msg *m, char *err,
    size_t errlen);
/*
 * The event the message carries, as a JSON object: the body when it is a JSON
 * object, else the params of an SD element named "event" or "event@NNNN"
 * (each PARAM-NAME a top-level field). NULL with err when there is none.
 */
cJSON *syslog_event(const struct syslog_msg *m, char *err, size_t errlen);
/*
 * Formats an alert as one RFC 5424 message: PRI from severity, APP-NAME
 * complyd, MSGID the alert status, SD [alert@32473 id= tenant= obligation=
 * law= law_version= key= status= state=] and the JSON record as MSG.
 */
void syslog_format_alert(struct sbuf *out, const cJSON *alert,
    const char *hostname);

#endif
