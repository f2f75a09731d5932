/*
 * ctl_verify.c - `complyctl verify --bundle FILE`: checks an evidence bundle
 * (GET /v1/evidence/export) offline, with no daemon: every entry's hash and
 * the chain from the first entry to the header's head. A bundle proves its
 * own consistency only: --head HEX pins it to a head the auditor got
 * elsewhere (GET /v1/evidence/verify, an earlier export), which is what
 * shows that nothing was cut off its end. Without --bundle the running
 * daemon verifies its own log (ctl_api.c). Exit 0: the chain holds; 1: it
 * does not (the first bad entry and why on stderr); 2: usage or I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "complyd/evidence.h"
#include "complyd/log.h"
#include "ctl.h"

static int
verify_bundle(const char *path, const char *pin)
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
	if (pin != NULL && strcasecmp(pin, v.head) != 0) {
		fprintf(stderr, "%s: NOT verified: its head %s is not the pinned "
		    "head %s\n", path, v.head, pin);
		return 1;
	}
	printf("%s: verified: %lld entries (%lld redacted), head %s%s\n", path,
	    (long long)v.entries, (long long)v.redacted, v.head,
	    pin ? " (the pinned head)" : "");
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: complyctl verify --bundle FILE [--head HEX]\n");
	return 2;
}

int
ctl_verify(int argc, char **argv)
{
	const char	*bundle = NULL, *pin = NULL;
	int		 i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "--head") == 0) {
			if (i + 1 >= argc)
				return usage();
			*(argv[i][2] == 'b' ? &bundle : &pin) = argv[i + 1];
			i++;
		} else if (bundle != NULL || pin != NULL ||
		    strncmp(argv[i], "--bundle", 8) == 0 ||
		    strncmp(argv[i], "--head", 6) == 0)
			return usage();
	/* A head is a SHA-256 in hex: anything else is a typo, not a failed check. */
	if (pin != NULL && (strlen(pin) != 64 || strspn(pin, "0123456789abcdefABCDEF") != 64)) {
		fprintf(stderr, "complyctl verify: --head must be 64 hex digits (a "
		    "SHA-256), got '%s'\n", pin);
		return usage();
	}
	if (bundle != NULL)
		return verify_bundle(bundle, pin);
	if (pin != NULL)
		return usage();
	return ctl_api(argc, argv);
}
