/*
 * ctl_verify.c - `complyctl verify --bundle FILE`: checks an evidence bundle
 * (GET /v1/evidence/export) offline, with no daemon: every entry's hash and
 * the chain from the first entry to the header's head. Without --bundle the
 * running daemon verifies its own log (ctl_api.c). Exit 0: the chain holds;
 * 1: it does not (the first bad entry and why on stderr); 2: usage or I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "complyd/evidence.h"
#include "complyd/log.h"
#include "ctl.h"

static int
verify_bundle(const char *path)
{
	struct evidence_verdict	 v;
	FILE			*f;
	int			 rc;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		log_warnx("%s: %s", path, strerror(errno));
		return 2;
	}
	rc = evidence_bundle_verify(f, &v);
	if (f != stdin)
		fclose(f);
	if (rc == -1) {
		log_warnx("%s: cannot be read", path);
		return 2;
	}
	if (!v.ok) {
		fprintf(stderr, "%s: NOT verified: entry %lld: %s\n", path,
		    (long long)v.first_bad_seq, v.reason);
		return 1;
	}
	printf("%s: verified: %lld entries, head %s\n", path, (long long)v.entries,
	    v.head);
	return 0;
}

int
ctl_verify(int argc, char **argv)
{
	int	 i;

	if (argc == 3 && strcmp(argv[1], "--bundle") == 0)
		return verify_bundle(argv[2]);
	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "--bundle", 8) == 0) {
			fprintf(stderr, "usage: complyctl verify --bundle FILE\n");
			return 2;
		}
	return ctl_api(argc, argv);
}
