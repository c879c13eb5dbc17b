/*
 * tests/test_policy_views.c - the views a policy builds: their rules and
 * fingerprints against tests/policies/base.json, hash keys per reading
 * department, grants that lapse without lifting their restrictions, the
 * warnings of policy check, and the depth limit of row filters.
 *
 * The cases of issues 11 and 18 (a view leaking more than its grant
 * allows) live here; decisions and documents are in test_policy.c.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/strbuf.h"
#include "policy/desens/desens.h"
#include "policy/model.h"
#include "policy/policy.h"
#include "policy/view.h"
#include "tests/policy_util.h"
#include "tests/unit_main.h"

/* ---- views ---- */

static const struct policy_view *view_for(uint32_t uid, uint32_t gid, const char *path,
					  const char *when)
{
	struct policy_caller c = { .uid = uid, .gid = gid };
	struct policy_decision d;

	if (policy_decide(base, &c, path, POLICY_READ, at(when), &d) || !d.allow)
		return NULL;
	return d.view;
}

static void expect_field(const struct view_rules *r, size_t i, const char *name,
			 enum mask_kind kind)
{
	CU_ASSERT_FATAL(i < r->nfields);
	CU_ASSERT_STRING_EQUAL(r->fields[i].name, name);
	CU_ASSERT_EQUAL(r->fields[i].mask.kind, kind);
}

/*
 * Whether v's fingerprint is the SHA-256 of the canonical text of its rules
 * as the first engine of every format wrote it (policy/viewbuild.c).
 */
static bool fingerprint_is_rev1(const struct policy_view *v)
{
	static const char *const formats[] = { "csv", "tsv", "jsonl", "json", "other" };
	const struct view_rules *r = policy_view_rules(v);
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char mask[32];
	bool same;

	strbuf_addf(&sb, "poolfs-view 1\nformat %s\nencoding %s\ndrop_unlisted %d\n",
		    formats[r->format], r->encoding, r->drop_unlisted ? 1 : 0);
	for (size_t i = 0; i < r->nfields; i++) {
		mask_spec_format(&r->fields[i].mask, mask, sizeof(mask));
		strbuf_addstr(&sb, "field ");
		pol_quote(&sb, r->fields[i].name);
		strbuf_addf(&sb, " %s\n", mask);
	}
	strbuf_addstr(&sb, "rows ");
	pol_rows_text(r->rows, &sb);
	strbuf_addch(&sb, '\n');
	if (r->hash_dept) {
		strbuf_addf(&sb, "hash_key %u ", r->hash_key_version);
		pol_quote(&sb, r->hash_dept);
		strbuf_addch(&sb, '\n');
	}
	CU_ASSERT_FATAL(EVP_Digest(sb.buf, sb.len, md, &mdlen, EVP_sha256(), NULL) == 1);
	same = mdlen == sizeof(md) && memcmp(md, r->fingerprint, sizeof(md)) == 0;
	strbuf_release(&sb);
	return same;
}

/*
 * Views are stored per fingerprint: a view the engine now reads otherwise
 * (JSON, revision 2) gets a new one, views of other formats keep theirs.
 */
static void test_view_engine_rev(void)
{
	const struct policy_view *csv = view_for(1002, 2002, P1 "/a.csv", NULL);
	const struct policy_view *jsonl = view_for(1004, 2004, P4 "/a.jsonl", NULL);

	CU_ASSERT_FATAL(csv && jsonl);
	CU_ASSERT_EQUAL(policy_view_rules(jsonl)->format, VIEW_JSONL);
	CU_ASSERT(fingerprint_is_rev1(csv));
	CU_ASSERT(!fingerprint_is_rev1(jsonl));
}

static void test_views(void)
{
	const struct policy_view *g1 = view_for(1002, 2002, P1 "/a.csv", NULL);
	const struct policy_view *g2 = view_for(1003, 2003, P1 "/a.csv", "2025-06-01");
	const struct policy_view *g3 = view_for(1004, 2004, P1 "/a.csv", "2027-06-01");
	const struct policy_view *dflt = view_for(1003, 2003, P2 "/a.csv", NULL);
	const struct policy_view *g4 = view_for(1001, 2001, P2 "/a.csv", NULL);
	const struct policy_view *g5 = view_for(1004, 2004, P4 "/a.jsonl", NULL);
	const struct view_rules *r;
	char hex[65];

	CU_ASSERT_FATAL(g1 && g2 && g3 && dflt && g4 && g5);
	r = policy_view_rules(g1);
	CU_ASSERT(r->drop_unlisted);
	CU_ASSERT_EQUAL(r->format, VIEW_CSV);
	CU_ASSERT_STRING_EQUAL(r->encoding, "utf-8");
	CU_ASSERT_EQUAL(r->nfields, 3);
	expect_field(r, 0, "身份证号", MASK_HASH);
	expect_field(r, 1, "姓名", MASK_NAME);
	expect_field(r, 2, "区县", MASK_NONE);
	CU_ASSERT_FATAL(r->rows != NULL);
	CU_ASSERT_EQUAL(r->rows->op, ROW_IN);
	CU_ASSERT_STRING_EQUAL(r->rows->field, "区县");
	CU_ASSERT_EQUAL(r->rows->nvalues, 1);
	CU_ASSERT_STRING_EQUAL(r->rows->values[0], "宣州区");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", r->fingerprint[i]);
	CU_ASSERT_STRING_EQUAL(policy_view_fingerprint(g1), hex);
	CU_ASSERT_STRING_EQUAL(policy_view_fingerprint(NULL), "raw");

	/* tag defaults: undeclared columns are dropped, declared ones listed */
	r = policy_view_rules(dflt);
	CU_ASSERT(r->drop_unlisted);
	CU_ASSERT_EQUAL(r->nfields, 4);
	expect_field(r, 0, "身份证号", MASK_ID_CARD);
	expect_field(r, 1, "姓名", MASK_NAME);
	expect_field(r, 2, "参保状态", MASK_NONE);
	expect_field(r, 3, "邮箱", MASK_EMAIL);
	CU_ASSERT_PTR_NULL(r->rows);

	r = policy_view_rules(g4);	/* "none" lifts 姓名, 邮箱 dropped */
	CU_ASSERT_EQUAL(r->nfields, 2);
	expect_field(r, 0, "身份证号", MASK_ID_CARD);
	expect_field(r, 1, "邮箱", MASK_DROP);

	r = policy_view_rules(g5);
	CU_ASSERT_EQUAL(r->format, VIEW_JSONL);
	CU_ASSERT_STRING_EQUAL(r->encoding, "gb18030");
	CU_ASSERT_EQUAL(r->nfields, 2);
	expect_field(r, 0, "身份证号", MASK_ID_CARD);
	expect_field(r, 1, "出生日期", MASK_YEAR);
	CU_ASSERT_FATAL(r->rows && r->rows->op == ROW_ANY && r->rows->nsubs == 2);
	CU_ASSERT_EQUAL(r->rows->subs[0].op, ROW_PREFIX);
	CU_ASSERT_STRING_EQUAL(r->rows->subs[0].values[0], "宣州");
	CU_ASSERT_EQUAL(r->rows->subs[1].op, ROW_EQ);

	/* same rules, same fingerprint; built once, so the same pointer */
	CU_ASSERT_STRING_EQUAL(policy_view_fingerprint(g2), policy_view_fingerprint(g3));
	CU_ASSERT_STRING_NOT_EQUAL(policy_view_fingerprint(g1), policy_view_fingerprint(g2));
	CU_ASSERT_PTR_EQUAL(g1, view_for(1002, 2002, P1 "/b.csv", NULL));
}

/* ---- the leaks of issues 11 and 18: hash keys, lapsed grants, depth, warnings ---- */

static const char leak_doc[] =
	"{\"version\": 1, \"departments\": ["
	" {\"id\": \"a\", \"name\": \"A\", \"members\": {\"uids\": [1]}},"
	" {\"id\": \"b\", \"name\": \"B\", \"members\": {\"uids\": [2]}},"
	" {\"id\": \"p\", \"name\": \"P\", \"members\": {\"uids\": [3]}}],"
	" \"catalog\": ["
	" {\"path\": \"/e1\", \"code\": \"E1\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"conditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"tag\": \"id_card\"}, {\"name\": \"name\", \"tag\": \"name\"}]},"
	" {\"path\": \"/e2\", \"code\": \"E2\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"conditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"tag\": \"id_card\"}]},"
	" {\"path\": \"/e3\", \"code\": \"E3\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"unconditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"tag\": \"id_card\"}, {\"name\": \"name\", \"tag\": \"name\"},"
	"  {\"name\": \"region\", \"tag\": \"region\"}, {\"name\": \"phone\", \"tag\": \"phone\"}]},"
	" {\"path\": \"/e4\", \"code\": \"E4\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"unconditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"mask\": \"hash\"}]}],"
	" \"grants\": ["
	" {\"id\": \"ga1\", \"entry\": \"E1\", \"department\": \"a\", \"actions\": [\"read\"],"
	"  \"masks\": {\"id\": \"hash\"}},"
	" {\"id\": \"gb1\", \"entry\": \"E1\", \"department\": \"b\", \"actions\": [\"read\"],"
	"  \"masks\": {\"id\": \"hash\"}},"
	" {\"id\": \"ga2\", \"entry\": \"E2\", \"department\": \"a\", \"actions\": [\"read\"],"
	"  \"masks\": {\"id\": \"hash\"}},"
	" {\"id\": \"lapse\", \"entry\": \"E3\", \"department\": \"a\", \"actions\": [\"read\"],"
	"  \"fields\": [\"id\", \"name\", \"region\"], \"masks\": {\"name\": \"none\", \"id\": \"hash\"},"
	"  \"rows\": {\"region\": {\"in\": [\" X\", \"\xef\xbc\xb8\", \"e\xcc\x81\", \"plain\","
	"   \"x\xcc\x81\", \"\xe5\xae\xa3\xe3\x80\x80\", \"a\xe3\x80\x80" "b\"]}},"
	"  \"valid_from\": \"2020-01-01\", \"valid_until\": \"2021-01-01\"}]}";

static struct policy *leak_policy(void)
{
	struct policy *p = NULL;
	struct perr e = PERR_INIT;

	if (policy_parse(leak_doc, strlen(leak_doc), &p, &e))
		fprintf(stderr, "\nleak_doc: %s\n", e.msg);
	return p;
}

static const struct view_rules *rules_of(struct policy *p, uint32_t uid, const char *path,
					 const char *when)
{
	struct policy_caller c = { .uid = uid, .gid = 9999 };
	struct policy_decision d;

	if (policy_decide(p, &c, path, POLICY_READ, at(when), &d) || !d.allow)
		return NULL;
	return policy_view_rules(d.view);
}

static const char *fp_of(struct policy *p, uint32_t uid, const char *path)
{
	struct policy_caller c = { .uid = uid, .gid = 9999 };
	struct policy_decision d;

	if (policy_decide(p, &c, path, POLICY_READ, T0, &d) || !d.allow)
		return "denied";
	return policy_view_fingerprint(d.view);
}

static int count_hashed_keyless(const struct policy_view *v, void *arg)
{
	const struct view_rules *r = policy_view_rules(v);

	for (size_t i = 0; i < r->nfields; i++)
		if (r->fields[i].mask.kind == MASK_HASH && !r->hash_dept)
			++*(int *)arg;
	return 0;
}

static void test_hash_keys(void)
{
	struct policy *p = leak_policy();
	const struct view_rules *a1, *b1, *a2, *a4, *b4;
	int keyless = 0;

	CU_ASSERT_FATAL(p != NULL);
	a1 = rules_of(p, 1, "/e1/x.csv", NULL);
	b1 = rules_of(p, 2, "/e1/x.csv", NULL);
	a2 = rules_of(p, 1, "/e2/y.csv", NULL);
	CU_ASSERT_FATAL(a1 && b1 && a2);
	/* the same rules read by two departments: two keys, two cached views */
	CU_ASSERT_STRING_NOT_EQUAL(fp_of(p, 1, "/e1/x.csv"), fp_of(p, 2, "/e1/x.csv"));
	CU_ASSERT_FATAL(a1->hash_dept && b1->hash_dept && a2->hash_dept);
	CU_ASSERT_STRING_EQUAL(a1->hash_dept, "a");
	CU_ASSERT_STRING_EQUAL(b1->hash_dept, "b");
	CU_ASSERT_STRING_EQUAL(a2->hash_dept, "a");
	CU_ASSERT_EQUAL(a1->hash_key_version, VIEW_HASH_KEY_VERSION);
	/* a hashing tag default is per department too */
	a4 = rules_of(p, 1, "/e4/z.csv", NULL);
	b4 = rules_of(p, 2, "/e4/z.csv", NULL);
	CU_ASSERT_FATAL(a4 && b4 && a4->hash_dept && b4->hash_dept);
	CU_ASSERT_STRING_EQUAL(a4->hash_dept, "a");
	CU_ASSERT_STRING_EQUAL(b4->hash_dept, "b");
	CU_ASSERT_STRING_NOT_EQUAL(fp_of(p, 1, "/e4/z.csv"), fp_of(p, 2, "/e4/z.csv"));
	CU_ASSERT_PTR_NULL(rules_of(p, 3, "/e4/z.csv", NULL));	/* the provider: raw */
	/* no view anyone may be given hashes without a reader's key */
	CU_ASSERT(policy_entry_views(p, "/e4/z.csv", (time_t)-1, count_hashed_keyless,
				     &keyless) >= 2);
	CU_ASSERT(policy_entry_views(p, "/e1/x.csv", (time_t)-1, count_hashed_keyless,
				     &keyless) >= 2);
	CU_ASSERT_EQUAL(keyless, 0);
	policy_put(p);
}

static void test_lapsed_grant(void)
{
	struct policy *p = leak_policy();
	const struct view_rules *in, *out, *none;

	CU_ASSERT_FATAL(p != NULL);
	in = rules_of(p, 1, "/e3/x.csv", "2020-06-01");
	out = rules_of(p, 1, "/e3/x.csv", NULL);
	none = rules_of(p, 2, "/e3/x.csv", NULL);
	CU_ASSERT_FATAL(in && out && none);
	CU_ASSERT(in->drop_unlisted);
	CU_ASSERT_EQUAL(in->nfields, 3);
	expect_field(in, 1, "name", MASK_NONE);
	/* expired: the projection and the row filter stay, the lift goes */
	CU_ASSERT(out->drop_unlisted);
	CU_ASSERT_EQUAL(out->nfields, 3);
	expect_field(out, 0, "id", MASK_REDACT);	/* hash met id_card */
	expect_field(out, 1, "name", MASK_NAME);
	expect_field(out, 2, "region", MASK_NONE);
	CU_ASSERT_FATAL(out->rows != NULL);
	CU_ASSERT_EQUAL(out->rows->op, ROW_IN);
	CU_ASSERT_STRING_EQUAL(out->rows->field, "region");
	CU_ASSERT_PTR_NULL(out->hash_dept);
	/* before it starts alike */
	CU_ASSERT_PTR_NOT_NULL(rules_of(p, 1, "/e3/x.csv", "2019-06-01"));
	CU_ASSERT_PTR_NOT_NULL(rules_of(p, 1, "/e3/x.csv", "2019-06-01")->rows);
	/* a write-only grant's holder is shown the view it reads, for writes too */
	{
		struct policy_caller c = { .uid = 1006, .gid = 2006 };
		struct policy_decision r, w;

		CU_ASSERT_EQUAL(policy_decide(base, &c, P2 "/a.csv", POLICY_READ, T0, &r), 0);
		CU_ASSERT_EQUAL(policy_decide(base, &c, P2 "/a.csv", POLICY_WRITE, T0, &w), 0);
		CU_ASSERT(r.allow && w.allow && r.view);
		CU_ASSERT_PTR_EQUAL(r.view, w.view);
	}
	/* no grant at all: tag defaults over the declared fields, others dropped */
	CU_ASSERT(none->drop_unlisted);
	CU_ASSERT_EQUAL(none->nfields, 4);
	expect_field(none, 3, "phone", MASK_PHONE);
	CU_ASSERT_PTR_NULL(none->rows);
	policy_put(p);
}

static void expect_warning(const char *all, const char *want)
{
	if (!strstr(all, want))
		fprintf(stderr, "\nmissing warning: %s\nin:\n%s", want, all);
	CU_ASSERT_PTR_NOT_NULL(strstr(all, want));
}

static void test_warnings(void)
{
	struct policy *p = leak_policy();
	const char *w;

	CU_ASSERT_FATAL(p != NULL);
	w = policy_warnings(p);
	expect_warning(w, "warning: grants[3].rows.region.in[0]: \" X\" has surrounding whitespace");
	expect_warning(w, "warning: grants[3].rows.region.in[1]: \"\xef\xbc\xb8\" holds compatibility characters");
	expect_warning(w, "warning: grants[3].rows.region.in[2]: \"e\xcc\x81\" may not be in Unicode NFC");
	CU_ASSERT_PTR_NULL(strstr(w, "in[3]"));
	/* the exact forms: x + U+0301 has no precomposed form, so it is NFC */
	CU_ASSERT_PTR_NULL(strstr(w, "in[4]"));
	/* a padding U+3000 is whitespace only: trimmed, NFC and NFKC agree */
	expect_warning(w, "warning: grants[3].rows.region.in[5]: \"\xe5\xae\xa3\xe3\x80\x80\" has "
		       "surrounding whitespace (values compare trimmed)\n");
	expect_warning(w, "warning: grants[3].rows.region.in[6]: \"a\xe3\x80\x80" "b\" holds compatibility");
	expect_warning(w, "warning: grants[3]: grant \"lapse\" is valid from 2020-01-01 until "
		       "2021-01-01: outside that window for a on /e3: id redact (was hash),"
		       " name name (was none)\n");
	CU_ASSERT_STRING_EQUAL(policy_warnings(base), "warning: grants[5]: grant \"g6\" expires "
			       "2026-12-31T23:59:59Z: then for shuiwu on " P2 ": write access "
			       "is lost\n");
	policy_put(p);
}

/* A grant's row filter of `levels` nested "any"s around one condition. */
static int parse_depth(int levels, struct policy **out)
{
	struct strbuf doc = STRBUF_INIT;
	struct perr e = PERR_INIT;
	int rc;

	strbuf_addstr(&doc, "{\"version\": 1, \"departments\": ["
		      "{\"id\": \"a\", \"name\": \"A\"}, {\"id\": \"p\", \"name\": \"P\"}],"
		      "\"catalog\": [{\"path\": \"/e\", \"code\": \"E\", \"title\": \"t\","
		      "\"provider\": \"p\", \"share\": \"conditional\", \"format\": \"csv\","
		      "\"fields\": [{\"name\": \"f\"}]}], \"grants\": [{\"id\": \"g\","
		      "\"entry\": \"E\", \"department\": \"a\", \"actions\": [\"read\"], \"rows\": ");
	for (int i = 1; i < levels; i++)
		strbuf_addstr(&doc, "{\"any\": [");
	strbuf_addstr(&doc, "{\"f\": {\"eq\": \"x\"}}");
	for (int i = 1; i < levels; i++)
		strbuf_addstr(&doc, "]}");
	strbuf_addstr(&doc, "}]}");
	rc = policy_parse(doc.buf, doc.len, out, &e);
	if (rc)
		CU_ASSERT_STRING_EQUAL(e.msg, "grants[0].rows: row filter nested deeper than 32 levels");
	strbuf_release(&doc);
	return rc;
}

static void test_filter_depth(void)
{
	struct policy *p = NULL;
	struct policy_caller c = { .uid = 0, .gid = 0, .mount_dept = "a" };
	struct policy_decision d;
	struct desens *ds = NULL;
	struct perr e = PERR_INIT;

	CU_ASSERT_EQUAL(parse_depth(FILTER_DEPTH_MAX + 1, &p), -EINVAL);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL_FATAL(parse_depth(FILTER_DEPTH_MAX, &p), 0);
	/* what check accepts, the engine opens */
	CU_ASSERT_EQUAL_FATAL(policy_decide(p, &c, "/e/x.csv", POLICY_READ, T0, &d), 0);
	CU_ASSERT_FATAL(d.allow && d.view);
	CU_ASSERT_EQUAL(desens_new(policy_view_rules(d.view), NULL, 0, &ds, &e), 0);
	desens_free(ds);
	policy_put(p);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "views", test_views },
		{ "views: fingerprints name the engine revision", test_view_engine_rev },
		{ "hash keys per department", test_hash_keys },
		{ "lapsed grants keep their restrictions", test_lapsed_grant },
		{ "warnings", test_warnings },
		{ "row filter depth", test_filter_depth },
	};

	return unit_tests_run("policy_views", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
