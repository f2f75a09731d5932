/*
 * http_int.h - what the HTTP API's route files share with http.c's
 * dispatcher: the request context and the JSON replies.
 */
#ifndef COMPLYD_HTTP_INT_H
#define COMPLYD_HTTP_INT_H

#include <event2/http.h>
#include <cjson/cJSON.h>

#include "complyd/daemon.h"

struct reqctx {
	struct daemon		*d;
	struct evhttp_request	*req;
	const struct principal	*who;
	char			 param[128];	/* the path's '*' segment (an alert id) */
};

/* Sends body (consumed) as the JSON answer with status code. */
void reply_json(struct evhttp_request *req, int code, cJSON *body);
/* Sends {"error": {"code": what, "message": msg}} with status code. */
void reply_error(struct evhttp_request *req, int code, const char *what,
    const char *msg);
/* Whether principal p may see tenant's data. */
int may_see(const struct principal *p, const char *tenant);

/* http_alerts.c: GET /v1/alerts, POST /v1/alerts/{id}/ack and /resolve. */
void route_alerts(struct reqctx *c);
void route_alert_ack(struct reqctx *c);
void route_alert_resolve(struct reqctx *c);
/*
 * A time bound as GET /v1/alerts reads since= and until=: an instant (RFC
 * 3339 with offset) or a date (00:00 Asia/Tokyo of it). 0, or -1.
 */
int http_parse_bound(const char *v, int64_t *ms);

/* http_backtest.c: POST /v1/rules/backtest. */
void route_backtest(struct reqctx *c);

#endif
