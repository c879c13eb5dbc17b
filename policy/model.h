/*
 * policy/model.h - the parsed policy as plain data, shared by the files of
 * policy/ only (parse, index, views, identity, decide, export, diff).
 *
 * Everything hangs off struct policy and is freed with it: a policy is
 * immutable after policy_parse(), so readers on many threads need no lock.
 * Cross references are indices into the policy's arrays, never pointers
 * into a growing array.
 */
#ifndef POOL_POLICY_MODEL_H
#define POOL_POLICY_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "policy/names.h"
#include "policy/policy.h"
#include "policy/view.h"

#define POL_ID_MAX	63	/* ids fit policy_decision's 64-byte fields */
#define POL_TEXT_MAX	255
#define POL_PATH_MAX	1024
#define POL_NAME_MAX	255	/* one path component */
#define POL_NO_TIME_MIN	INT64_MIN
#define POL_NO_TIME_MAX	INT64_MAX

enum pol_share { POL_SHARE_NONE, POL_SHARE_CONDITIONAL, POL_SHARE_UNCONDITIONAL };
enum pol_open { POL_OPEN_NONE, POL_OPEN_CONDITIONAL, POL_OPEN_OPEN };
enum pol_act { POL_ACT_READ = 1, POL_ACT_WRITE = 2 };
enum pol_role_id { POL_ROLE_SECURITY, POL_ROLE_AUDITOR, POL_ROLE_SYSTEM, POL_NROLES };

extern const char *const pol_role_names[POL_NROLES];
extern const char *const pol_share_names[3];
extern const char *const pol_open_names[3];

/*
 * One reader's view. rules.fields[i].name and rules.rows are borrowed
 * from the entry and grant that own them; the view owns only its arrays.
 */
struct policy_view {
	struct view_rules rules;
	char fp_hex[65];
	struct row_filter *own_rows;	/* an "all" joining borrowed filters, or NULL */
};

struct pol_idlist {
	uint32_t *v;
	size_t n;
};

struct pol_user {
	uint32_t uid;
	char *name;
};

struct pol_dept {
	char *id;
	char *name;
	struct pol_idlist uids, gids;
	struct pol_user *users;
	size_t nusers;
};

struct pol_role {
	bool present;
	struct pol_idlist uids, gids;
};

struct pol_field {
	char *name;
	char *tag;		/* NULL: untagged */
	char *mask;		/* as written, NULL: the tag's default */
	struct mask_spec deflt;	/* effective default: mask, else tag, else none */
};

struct pol_entry {
	char *path, *code, *title;
	size_t provider;	/* index into depts */
	enum pol_share share;
	enum pol_open open;
	int level;		/* 0: not given */
	char *update_cycle;	/* NULL: not given */
	char *format;		/* csv tsv jsonl json or an opaque format */
	char *encoding;		/* utf-8 gb18030 gbk */
	struct pol_field *fields;
	size_t nfields;
	size_t *grants;		/* indices into grants, document order */
	size_t ngrants;
	struct policy_view *deflt_view;	/* unconditional share, no grant; NULL: raw */
	/*
	 * Unconditional share: [ndepts] views of departments with no grant in
	 * force that either hold grants on the entry (the tag defaults met
	 * with their restrictions) or read hashed fields (their own key).
	 * NULL (array or item): deflt_view.
	 */
	struct policy_view **fallback;
	bool deflt_hashes;		/* deflt_view hashes: no department reads it as is */
};

struct pol_mask {
	char *field;
	char *text;
	struct mask_spec spec;
};

struct pol_grant {
	char *id;
	size_t entry, dept;
	unsigned actions;	/* enum pol_act bits */
	bool has_fields;
	char **fields;
	size_t nfields;
	struct pol_mask *masks;
	size_t nmasks;
	struct row_filter *rows;	/* NULL: every row */
	char *valid_from, *valid_until;	/* as written, NULL: unbounded */
	int64_t from, until;		/* valid for from <= now < until */
	char *purpose;
	struct policy_view *view;	/* NULL: raw */
};

/* uid or gid -> department, sorted by id for bsearch */
struct pol_idmap {
	uint32_t id;
	uint32_t dept;
	const char *user;	/* borrowed from pol_dept.users, or NULL */
};

enum pol_node_kind { POL_NODE_ANCESTOR, POL_NODE_ENTRY };

/* A directory named by the catalog: an entry or a directory above one. */
struct pol_node {
	char *path;
	size_t len;
	enum pol_node_kind kind;
	size_t entry;		/* POL_NODE_ENTRY */
	size_t *below;		/* POL_NODE_ANCESTOR: entries under it */
	size_t nbelow;
	size_t nshared;		/* how many of them are not share none */
};

struct policy {
	int refs;
	bool allow_all;
	int version;
	struct pol_role roles[POL_NROLES];
	struct pol_dept *depts;
	size_t ndepts;
	struct pol_entry *entries;
	size_t nentries;
	struct pol_grant *grants;
	size_t ngrants;

	struct pol_idmap *uidmap, *gidmap;
	size_t nuidmap, ngidmap;
	struct pol_node *nodes;
	size_t nnodes;
	uint32_t *slots;	/* open addressing: node index + 1, 0 empty */
	size_t nslots;

	struct strbuf warnings;	/* "warning: ..." lines for `policy check` */
	/* filled while parsing: ids and codes to their indices */
	struct pol_names dept_ids, entry_codes, grant_ids;
};

/* policy.c */
void pol_free(struct policy *p);
long pol_dept_find(const struct policy *p, const char *id);
long pol_entry_find_code(const struct policy *p, const char *code);
long pol_grant_find(const struct policy *p, const char *id);

/* tags.c: field tags; mask names are mask_spec_parse()'s (policy/desens/mask.c) */
int pol_tag_default(const char *tag, struct mask_spec *out);
/* Appends the known tags, comma-separated, for error messages. */
void pol_tag_list(struct strbuf *out);

/* nearmatch.c: what makes a row-filter value a near-match (bits), 0 for none */
#define POL_NEAR_SPACE	1u	/* surrounding whitespace */
#define POL_NEAR_NFC	2u	/* not in Unicode NFC (once trimmed) */
#define POL_NEAR_NFKC	4u	/* compatibility characters (NFKC folds them) */
unsigned pol_near_match(const char *value);

/* check.c: rules over the whole parsed policy, after its views are built */
struct pol_ctx;
int pol_check_duties(struct pol_ctx *x);
int pol_check_oracles(struct pol_ctx *x);
void pol_lapse_warnings(struct policy *p);
/*
 * Appends what department loses of grant gi's view outside its window on
 * an unconditional entry (" 姓名 name (was none); write access is lost");
 * returns how many changes.
 */
int pol_lapse_changes(const struct policy *p, size_t gi, struct strbuf *out);

/* date.c: "YYYY-MM-DD" (UTC day; end=1 gives the next midnight) or RFC 3339 */
int pol_time_parse(const char *s, int end, int64_t *out);

/* index.c */
int pol_index_build(struct policy *p, struct perr *e);
const struct pol_node *pol_node_find(const struct policy *p, const char *path, size_t len);

/* viewbuild.c */
int pol_views_build(struct policy *p);
/* The view of department dept on unconditional entry en when no grant is in force. */
const struct policy_view *pol_fallback_view(const struct pol_entry *en, size_t dept);
bool pol_view_hashes(const struct policy_view *v);
void pol_view_free(struct policy_view *v);
void pol_rows_clear(struct row_filter *r);
void pol_rows_text(const struct row_filter *r, struct strbuf *out);
void pol_quote(struct strbuf *out, const char *s);

/* identity.c */
enum pol_via { POL_VIA_NONE, POL_VIA_MOUNT, POL_VIA_UID, POL_VIA_GID, POL_VIA_GROUP };

struct pol_ident {
	long dept;		/* -1: none */
	const char *user;	/* NULL: not named by the policy */
	enum pol_via via;
	uint32_t via_id;
	char why[160];		/* when dept < 0 */
};

void pol_identify(const struct policy *p, const struct policy_caller *c,
		  struct pol_ident *id);
const char *pol_via_name(enum pol_via via);
/* The first role whose uids (gids: 1, its gids) name id, or -1. */
long pol_role_named(const struct policy *p, int gids, uint32_t id);

/* decide.c; *node is the entry's node for ENTRY and INSIDE, the node for ANCESTOR */
enum policy_path_kind pol_classify(const struct policy *p, const char *path,
				   const struct pol_node **node);
struct pol_trace {
	struct pol_ident ident;
	long entry;		/* -1: path outside every entry */
	long grant;		/* the grant applied, or the invalid one that denied */
};

int pol_decide(const struct policy *p, const struct policy_caller *c,
	       const char *path, enum policy_action action, time_t now,
	       struct policy_decision *d, struct pol_trace *t);
void pol_decide_entry(const struct policy *p, const struct pol_ident *id,
		      size_t ei, bool is_root, enum policy_action action,
		      time_t now, struct policy_decision *d, long *grant);

#endif
