/*
 * http_int.h - what the HTTP API's route files share with http.c's
 * dispatcher: the request context and the JSON replies.
 */
#ifndef COMPLYD_HTTP_INT_H
#define COMPLYD_HTTP_INT_H

#include <event2/http.h>
#include <cjson/cJSON.h>

#include "complyd/daemon.h"
#include "complyd/util.h"

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

/* http_backtest.c: POST /v1/rules/backtest. */
void route_backtest(struct reqctx *c);
/* The stored record of alert id (its text body) with its "history"; NULL if unreadable. */
cJSON *alert_with_history(struct store *st, const char *id, const char *body);

/* http_evidence.c: GET /v1/evidence/verify, /v1/evidence/export, /v1/reports/evidence. */
void route_evidence_verify(struct reqctx *c);
void route_evidence_export(struct reqctx *c);
void route_report(struct reqctx *c);

/* report.c: the evidence report, built as JSON and rendered as CSV or HTML. */
struct report_query {
	int64_t		 from_ms, to_ms;	/* the period [from, to) */
	const char	*tenant;		/* NULL: every tenant visible */
	const struct principal *who;		/* whose tenants it shows */
};
/* The report for q (caller frees), or NULL on a storage error. */
cJSON *report_build(struct store *st, const struct report_query *q,
    int64_t now_ms);
/* Appends the report as CSV: a header row, then one row per alert (RFC 4180). */
void report_csv(struct sbuf *b, const cJSON *rep);
/* Appends the report as one self-contained HTML page (no scripts). */
void report_html(struct sbuf *b, const cJSON *rep);

#endif
