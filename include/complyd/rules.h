/*
 * rules.h - a loaded rule set: laws (versions, parameters, macros, facts the
 * feed supplies to records) and rules of five kinds. Loaded whole or not at
 * all; every error reported as file:line:col: error: ... before failing.
 */
#ifndef COMPLYD_RULES_H
#define COMPLYD_RULES_H

#include <cjson/cJSON.h>
#include <yaml.h>

#include "complyd/expr.h"
#include "complyd/registry.h"
#include "complyd/util.h"
#include "complyd/when.h"

struct ydoc;

struct law_version {
	char	*id;
	date_t	 from;		/* inclusive; DATE_NONE = since ever */
	date_t	 until;		/* exclusive; DATE_NONE = still in force */
	cJSON	*terms;		/* per-version words (親事業者/委託事業者 ...) */
};

/* A fact: an event type that sets a field of a record (received_on from subcontract.received). */
struct fact {
	char		*on;		/* event type */
	enum rec_kind	 kind;
	int		 keep;		/* its fields survive an upsert that omits them */
	struct expr	*id;		/* which record */
	int		 nset;
	char		**fields;
	struct expr	**values;
};

struct law {
	char		*id;
	char		*file;
	cJSON		*meta;		/* names, citation, source, version_by, ... as written */
	struct law_version *versions;
	int		 nversions;
	cJSON		*params;	/* name -> value */
	struct hmap	 macros;	/* name -> struct expr_macro * (own + shared) */
	struct fact	*facts;
	int		 nfacts;
};

enum rule_kind_id {
	RK_MATCH, RK_DEADLINE, RK_PERIODIC, RK_THRESHOLD, RK_RECORD, RK__COUNT
};

/* A named detail the rule adds to its alerts. */
struct detail {
	char		*name;
	struct expr	*value;
};

struct rule {
	char		*id;
	char		*obligation;
	char		*file;
	int		 line;
	int		 id_line, id_col;	/* where its id is written (duplicates) */
	struct law	*law;
	enum rule_kind_id kind;
	int		 index;		/* position in the rule set */
	cJSON		*articles;	/* law version id -> article */
	const char	**article_of;	/* by law version index: its article or NULL */
	cJSON		*meta;		/* title, seed columns, tags: copied to `rules` output */
	char		*severity;
	char		*subject_label;	/* alert subject.kind */
	int		 subject;	/* enum rec_kind or -1: record the key names */
	struct tmpl	*msg_ja, *msg_en;
	struct expr	*version_at;	/* date the law version follows, NULL = event/open time */
	struct expr	*when;		/* applicability / condition, may be NULL */
	struct expr	*key;		/* key for event-driven rules */
	char		**on;		/* event types the rule reacts to (NULL-terminated) */
	struct detail	*details;
	int		 ndetails;
	date_t		 eff_from, eff_until;
	void		*kd;		/* kind-specific, owned by the kind */
	uint64_t	 hits;
	char		 hash[17];	/* of the rule's YAML text, for `rules` and evidence */
};

/* An exception: alerts of (rule or obligation, tenant, key) are suppressed until expiry. */
struct suppression {
	char	*rule;		/* rule id or obligation id */
	char	*tenant;	/* "*" for any */
	char	*key;		/* "*" for any */
	char	*justification, *approver;
	date_t	 expires;	/* last day it holds */
	char	*file;
	int	 line;
};

struct ruleset {
	struct law	**laws;
	int		 nlaws;
	struct rule	**rules;
	int		 nrules;
	struct suppression *sups;
	int		 nsups;
	struct calendar	*cal;
	char		*cal_path;	/* the calendar's file (realpath), or NULL */
	struct hmap	 by_type;	/* event type -> struct rule_list * */
	struct hmap	 facts_by_type;	/* event type -> struct fact_list * */
	char		 hash[65];	/* sha256 over all loaded files */
	char		**files;	/* loaded rule files */
	int		 nfiles;
};

struct rule_list {
	struct rule	**v;
	int		 n;
};
struct fact_list {
	struct fact	**v;
	int		 n;
};

/*
 * Loads every rule file of a directory (or the listed files). Files whose
 * root has `laws:` (the law-list catalog) and files under tests/ are skipped.
 * A holiday calendar is loaded from `calendar:` of a law or from
 * cal_path. Returns NULL if any error was reported (*nerrors counts them).
 */
struct ruleset *ruleset_load(const char *const *paths, int npaths,
    const char *cal_path, int *nerrors);
void ruleset_free(struct ruleset *rs);
/* The law version in force on day d, or NULL. */
const struct law_version *law_version_at(const struct law *l, date_t d);
/* The rule's article for version v, or NULL if the rule does not apply under v. */
const char *rule_article(const struct rule *r, const struct law_version *v);

/* Loader context handed to kind parsers. */
struct loader {
	struct ydoc	*doc;
	struct law	*law;
	struct ruleset	*rs;
	int		 nerrors;
	struct hmap	 used_macros;	/* names expanded by some expression */
	struct hmap	 obligations;	/* ids of the law list (law-list.yaml), if there is one */
	int		 catalog;	/* a law list was among the files */
};
/* Compiles the expression in scalar node n ("what" names it in errors); NULL on error. */
struct expr *loader_expr(struct loader *ld, yaml_node_t *n, unsigned vars,
    enum etype want, const char *what);
/*
 * Checks the static type of e (compiled from node n) against `ok`, a mask of
 * TB(T_...); any and null always pass. -1, reported as "WHAT must give WANT,
 * not TYPE", if it cannot be.
 */
int loader_check_type(struct loader *ld, yaml_node_t *n, const struct expr *e,
    const char *what, unsigned ok, const char *want);
/* Parses a list of "N" day counts for warnings ("warn: [7]" or "warn: 7"). */
int loader_int_list(struct loader *ld, yaml_node_t *n, int **out, int *count);

#endif
