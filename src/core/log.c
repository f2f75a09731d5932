/*
 * log.c - OpenBSD-style diagnostics, each line prefixed with the program
 * name, on stderr or (log_to_syslog) through syslog(3); verbosity gates
 * log_info (>0) and log_debug (>1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "complyd/log.h"

static const char	*log_progname = "complyd";
static int		 log_verbose;
static int		 log_syslog;
static FILE		*log_diag_stream;	/* NULL: stderr */

void
log_to_syslog(int on)
{
	log_syslog = on;
	if (on)
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

FILE *
log_diag(void)
{
	return log_diag_stream ? log_diag_stream : stderr;
}

FILE *
log_diag_capture(FILE *f)
{
	FILE *prev = log_diag();

	log_diag_stream = f == stderr ? NULL : f;
	return prev;
}

void
log_init(const char *progname, int verbose)
{
	if (progname != NULL && *progname != '\0')
		log_progname = progname;
	log_verbose = verbose;
}

/* Prints one line; with_errno appends the message of the saved errno. */
static void
vlog(int with_errno, int saved_errno, const char *fmt, va_list ap)
{
	char buf[1024];

	if (log_syslog) {
		vsnprintf(buf, sizeof(buf), fmt, ap);
		if (with_errno)
			syslog(LOG_WARNING, "%s: %s", buf, strerror(saved_errno));
		else
			syslog(LOG_WARNING, "%s", buf);
		return;
	}
	fprintf(stderr, "%s: ", log_progname);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved_errno));
	fputc('\n', stderr);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;	/* before stdio can change it */

	va_start(ap, fmt);
	vlog(1, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(0, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(0, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog(0, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vlog(1, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(0, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
