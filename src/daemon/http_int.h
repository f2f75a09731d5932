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

#endif
