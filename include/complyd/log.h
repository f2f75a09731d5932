/*
 * log.h - diagnostics in the OpenBSD style: log_warnx for our own messages,
 * log_warn adds strerror(errno), fatal/fatalx print and exit(1).
 */
#ifndef COMPLYD_LOG_H
#define COMPLYD_LOG_H

#include <stdio.h>

void log_init(const char *progname, int verbose);
/* Sends the log to syslog(3) (daemon facility) instead of stderr. */
void log_to_syslog(int on);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Where the loaders' "file:line:col: error: ..." lines go: stderr, unless
 * log_diag_capture named another stream (the daemon collects a candidate
 * rule set's errors for its API answer). log_diag_capture returns the
 * stream it replaces, to be given back when the capture ends.
 */
FILE *log_diag(void);
FILE *log_diag_capture(FILE *f);

#endif
