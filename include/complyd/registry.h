/*
 * registry.h - contracts, datasets and facilities keyed by (tenant, id), each
 * a list of versions over event time: a record from a file holds from the
 * beginning of time, an upsert or an event-supplied fact from its event time.
 */
#ifndef COMPLYD_REGISTRY_H
#define COMPLYD_REGISTRY_H

#include <cjson/cJSON.h>
#include <yaml.h>

#include "complyd/when.h"

enum rec_kind { REC_CONTRACT, REC_DATASET, REC_FACILITY, REC__COUNT };

struct registry;

/*
 * Called after a record changed: the engine re-checks rules on it. tenant and
 * id are the registry's own: valid as long as it is, and the same pointers
 * each time the same record changes.
 */
typedef void (*registry_change_fn)(void *arg, enum rec_kind k, const char *tenant,
    const char *id, instant_t at);

struct registry *registry_new(void);
void registry_free(struct registry *r);
/* "contract" -> REC_CONTRACT, ...; -1 if unknown. Accepts singular and plural. */
int rec_kind_parse(const char *s);
const char *rec_kind_name(enum rec_kind k);

/*
 * Loads every *.yaml / *.yml file of dir (or one file). Each is a mapping of
 * contracts/datasets/facilities lists; every record needs id and tenant.
 * Errors print as file:line:col: error: ...; bad records are skipped, the rest load.
 * Returns the number of records loaded, and adds the error count to *nerrors.
 */
int registry_load(struct registry *r, const char *path, int *nerrors);
/* Loads the records of one YAML mapping node (test cases embed metadata). */
struct ydoc;
int registry_load_node(struct registry *r, struct ydoc *d, yaml_node_t *root);
/* The record as it stood at t (latest version from <= t), or NULL. */
/*
 * A counter that moves whenever a tree registry_get handed out may stop
 * being that record as it stood (a version added or replaced, a tree
 * unpacked into the cache): what holds trees by address checks it.
 */
const uint64_t *registry_generation(const struct registry *r);
/*
 * For running tenants apart (a replay on several threads): the part, of
 * nparts, a tenant (len bytes) belongs to; and r's records moved into
 * nparts new registries by that rule, r left without records. Each part
 * has its own copy of the key dictionary and its own cache: parts can be
 * used from different threads, r no longer.
 */
int registry_part_of(const char *tenant, size_t len, int nparts);
struct registry **registry_split(struct registry *r, int nparts);
const cJSON *registry_get(const struct registry *r, enum rec_kind k,
    const char *tenant, const char *id, instant_t t);
/*
 * Hints that (k, tenant, id) is looked up soon, in two steps over a batch of
 * look-ups: registry_prefetch starts loading its bucket and returns its
 * hash; registry_prefetch_record, once the buckets are in, its record.
 * Neither changes anything.
 */
uint64_t registry_prefetch(const struct registry *r, enum rec_kind k,
    const char *tenant, const char *id);
void registry_prefetch_record(const struct registry *r, enum rec_kind k,
    uint64_t h);
/* 1 if the record exists at any time. */
int registry_has(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id);
/* Replaces the record from time t on (takes ownership of rec). */
void registry_put(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, cJSON *rec);
/*
 * Sets one field of an existing record from time t on (a fact from the feed);
 * returns 0, or -1 if the record does not exist (facts never create records).
 * Takes ownership of val.
 */
int registry_set_field(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, const char *field, cJSON *val);
/*
 * Sets several fields at once (one new version; NULL values are skipped);
 * takes ownership of vals. 0, or -1 if the record does not exist.
 */
int registry_set_fields(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, char *const *fields, cJSON **vals, int n);
/*
 * With keep = 0, a change replaces the version in force instead of adding one:
 * for replays in time order, where the past is never asked for again.
 */
void registry_keep_history(struct registry *r, int keep);
/* Calls fn for each record (its latest version) of kind k. */
void registry_each(const struct registry *r, enum rec_kind k,
    void (*fn)(void *arg, const char *tenant, const char *id, const cJSON *rec),
    void *arg);
size_t registry_count(const struct registry *r, enum rec_kind k);
void registry_on_change(struct registry *r, registry_change_fn fn, void *arg);

#endif
