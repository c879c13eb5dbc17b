/*
 * policy/policy.h - the sharing policy and the one question the daemon asks:
 * "may this caller do this to this path, and which view do they get?"
 *
 * A struct policy is immutable once parsed and reference counted, so the
 * daemon can swap in a new one atomically while requests still hold the
 * old one. Nothing here knows about FUSE.
 */
#ifndef POOL_POLICY_H
#define POOL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

struct policy;			/* opaque, immutable, refcounted */
struct policy_view;		/* opaque: rules for one reader's view; owned by the policy */

/*
 * Parses and validates a policy document. Errors name the JSON path and
 * the reason in e, e.g. `grants[2].entry: no catalog entry with code "X"`.
 * The result holds one reference.
 */
int policy_parse(const char *json, size_t len, struct policy **out, struct perr *e);

/*
 * The built-in allow-all policy: everyone may do everything and reads are
 * raw. Only tests and the demo of the foundation use it (mount option
 * -o allow_all); a pool with a real policy never falls back to it.
 */
struct policy *policy_allow_all(void);

/*
 * What a parsed policy holds that is legal but likely not meant, as
 * "warning: <where>: <what>" lines ("" for none), owned by p: row-filter
 * values a data file may spell otherwise (surrounding whitespace, not
 * NFC, compatibility characters) and grants whose lapse changes a view
 * of an unconditional entry.
 */
const char *policy_warnings(const struct policy *p);

/* How many departments, catalog entries and grants p holds (0 for allow-all). */
void policy_counts(const struct policy *p, size_t *depts, size_t *entries, size_t *grants);

struct policy *policy_get(struct policy *p);	/* takes a reference */
void policy_put(struct policy *p);		/* drops one; frees at zero */

enum policy_action {
	POLICY_LOOKUP,		/* see that a name exists, stat it */
	POLICY_LIST,		/* readdir */
	POLICY_READ,		/* open for reading, read, readlink, getxattr */
	POLICY_WRITE,		/* open for writing, truncate, setattr */
	POLICY_CREATE,		/* create, mkdir, symlink, rename into */
	POLICY_DELETE,		/* unlink, rmdir, rename out of */
};

struct policy_caller {
	uint32_t uid, gid;
	const uint32_t *groups;		/* supplementary groups */
	int ngroups;
	int32_t pid;
	const char *mount_dept;		/* -o dept=ID, or NULL for a pool mount */
};

struct policy_decision {
	int allow;			/* 1 allow, 0 deny */
	int err;			/* when denied: -EACCES, -ENOENT (hidden), -EIO */
	char dept[64];			/* resolved department id, "" if none */
	char user[64];			/* resolved user name, "" if none */
	char grant[64];			/* grant id behind an allow, "" for provider/raw */
	char code[64];			/* catalog code of the entry holding path, "" if none */
	char reason[256];		/* one line: why */
	const struct policy_view *view;	/* NULL: raw content; else the view rules */
};

/*
 * Decides action on path (an absolute pool path) for caller at time now.
 * Deny by default. d->view is valid while the caller holds a reference
 * on p. Returns 0 (the decision is in d) or a negative errno when the
 * question itself could not be answered (then d says deny).
 */
int policy_decide(const struct policy *p, const struct policy_caller *c,
		  const char *path, enum policy_action action, time_t now,
		  struct policy_decision *d);

/*
 * Whether uid or gid alone settles the caller's department (or the
 * policy allows all): then its supplementary groups change no decision,
 * and a daemon need not read them. Never when a role names gids.
 */
bool policy_groups_moot(const struct policy *p, uint32_t uid, uint32_t gid);

/*
 * What policy_decide() answers, in short (policy/decide.c has the why):
 * - identity: -o dept=ID (must exist), else uid, else primary gid, else
 *   supplementary groups (two departments there: none). No department:
 *   -EACCES for everything, "/" included. uid 0 and roles get no data.
 * - "/", directories above entries and /.poolfs/{catalog.json,whoami}:
 *   LOOKUP, LIST and READ for every known department, nothing else; a
 *   branch leading only to entries the caller may not see is -ENOENT.
 *   Paths outside every entry: -ENOENT, CREATE -EACCES.
 * - inside an entry: the provider everything raw (but not DELETE of the
 *   entry's own directory); share none: -ENOENT to all others; a grant in
 *   force with the action (LOOKUP needs read or write; WRITE, CREATE and
 *   DELETE need write) gives grant and view; unconditional share reads
 *   through the tag defaults without a grant; a conditional entry's own
 *   directory answers LOOKUP to all (the catalog is public in the pool).
 * - d->view is the caller's read view on every allow inside an entry,
 *   also for write actions (stat sizes and O_RDWR depend on it).
 *
 * Paths and views below. The daemon strips `DIR/.versions/NAME/N` and
 * `/.snapshots/<time>/...` to the current path before asking: a past
 * version is decided and desensitized like the file it belongs to.
 */

struct strbuf;
struct view_rules;

/* The rules behind a decision's view; valid while p is referenced. */
const struct view_rules *policy_view_rules(const struct policy_view *v);
/* Hex SHA-256 of the view's canonical rules (64 chars), for cache keys and audit. */
const char *policy_view_fingerprint(const struct policy_view *v);

/* ---- identity and roles ---- */

/*
 * 1 when uid, or one of gids, holds role ("security_admin", "auditor",
 * "system_admin"), 0 when not, -EINVAL for another role name. Roles never
 * grant data access. The allow-all policy gives every role to uid 0 only.
 */
int policy_role_has(const struct policy *p, uint32_t uid, const uint32_t *gids,
		    int ngids, const char *role);

/*
 * The caller's resolved identity as a JSON object (/.poolfs/whoami):
 * uid, gid, groups, department (null when none), department_name, user,
 * via (mount|uid|gid|group), roles, reason. Appends to out; returns 0.
 */
int policy_whoami_json(const struct policy *p, const struct policy_caller *c,
		       struct strbuf *out);

/* ---- the tree the catalog implies ---- */

enum policy_path_kind {
	POLICY_PATH_OUTSIDE,	/* no catalog entry at or above it */
	POLICY_PATH_ROOT,	/* "/" */
	POLICY_PATH_ANCESTOR,	/* a directory above one or more entries */
	POLICY_PATH_ENTRY,	/* an entry's own directory */
	POLICY_PATH_INSIDE,	/* below an entry's directory */
	POLICY_PATH_META,	/* /.poolfs and the files in it */
	POLICY_PATH_INVALID,	/* not absolute, "//", ".", "..", trailing "/" */
};

enum policy_path_kind policy_path_kind(const struct policy *p, const char *path);

struct policy_entry_info {
	char path[1024];	/* the entry's directory */
	char code[64];
	char title[256];
	char provider[64];	/* department id */
	char share[16];		/* unconditional conditional none */
	char open[16];		/* open conditional none */
	char format[32];
	char encoding[16];
	int level;		/* 0 when the policy gives none */
	int is_root;		/* path is the entry's directory itself */
};

/*
 * The catalog entry holding path, for user.catalog.* xattrs. Returns 0,
 * or -ENOENT when path is outside every entry. Says nothing about who
 * may see it: decide first.
 */
int policy_entry_for_path(const struct policy *p, const char *path,
			  struct policy_entry_info *out);

/*
 * Calls fn with the directory path of every catalog entry, in document
 * order; fn returning non-zero stops and that value is returned. The
 * allow-all policy has no entries.
 */
int policy_entry_paths(const struct policy *p, int (*fn)(const char *path, void *arg),
		       void *arg);

/* ---- documents for people and tools ---- */

/*
 * /.poolfs/catalog.json: the entries the caller may see, with metadata,
 * fields and the caller's access (via, grant, window, per-field masks).
 * Appends to out. -EACCES when the caller maps to no department.
 */
int policy_catalog_json(const struct policy *p, const struct policy_caller *c,
			time_t now, struct strbuf *out);

/* The policy as a JSON document policy_parse() accepts. Appends to out. */
int policy_export_json(const struct policy *p, struct strbuf *out);

/*
 * Human-readable changes from old to new, one per line ("+ dept x",
 * "- grant g1", "~ grant g2: valid_until 2027-01-01 → 2026-06-01").
 * Either may be NULL (an empty policy). Returns the number of lines.
 */
int policy_diff(const struct policy *old, const struct policy *new,
		struct strbuf *out);

/*
 * `poolctl explain`: the decision with identity, entry, grant, fields,
 * masks, row filter, view fingerprint and why, as text lines appended to
 * out. d (may be NULL) gets the decision. Returns like policy_decide().
 */
int policy_explain(const struct policy *p, const struct policy_caller *c,
		   const char *path, enum policy_action action, time_t now,
		   struct policy_decision *d, struct strbuf *out);

/* ---- views ahead of reads (views_of.c) ---- */

/*
 * Calls fn once for each distinct view (by fingerprint) that readers of
 * path get at now: the grants on path's entry that allow read and are in
 * force, and the tag defaults of an unconditional share. now (time_t)-1
 * widens it to every view any caller may ever be given for path, by any
 * grant: whether path's bytes and size depend on the caller. fn may be
 * NULL. Returns the number of views, or the first negative value fn
 * returns (which stops the walk). 0 outside entries, for entry
 * directories, share-none entries and the allow-all policy. Views are
 * valid while p is referenced.
 */
int policy_entry_views(const struct policy *p, const char *path, time_t now,
		       int (*fn)(const struct policy_view *v, void *arg), void *arg);

#endif
