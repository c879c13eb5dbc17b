/*
 * tools/cmd_versions.c - "poolctl versions PATH": a file's history.
 *
 * Listing history is a read of the pool, so it is audited like one.
 */
#include "tools/cmd.h"

#include <errno.h>
#include <inttypes.h>

#include "store/audit.h"
#include "store/store.h"

static const char versions_usage[] =
	"usage: poolctl -s STORE versions [--json] PATH\n"
	"\n"
	"Lists every version of the pool file PATH, oldest first: number,\n"
	"commit time (UTC), size in bytes and writer.\n"
	"\n"
	"  --json    one JSON document instead of the table\n";

struct versions_walk {
	struct store *s;
	struct strbuf *out;
	json_t *list;		/* NULL for the table */
};

static json_t *version_json(const struct store_version_info *v, const char *when,
			   const char *tag)
{
	return json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:s}",
			 "version", (json_int_t)v->version,
			 "time", when,
			 "time_ns", (json_int_t)v->time.tv_sec * 1000000000 + v->time.tv_nsec,
			 "size", (json_int_t)v->size,
			 "uid", (json_int_t)v->uid,
			 "gid", (json_int_t)v->gid,
			 "writer", ctl_json_bytes(v->writer, strnlen(v->writer, sizeof(v->writer))),
			 "content_id", tag);
}

static int add_version(void *arg, const struct store_version_info *v)
{
	struct versions_walk *w = arg;
	char when[32], tag[STORE_CONTENT_TAG_HEX + 1];
	int rc;

	cmd_format_time(v->time.tv_sec, when, sizeof(when));
	if (w->list) {
		/* never the content id itself: a plain pool's is a hash of the bytes */
		rc = store_content_tag(w->s, v->content_id, tag);
		if (rc)
			return rc;
		return json_array_append_new(w->list, version_json(v, when, tag)) ? -ENOMEM : 0;
	}
	strbuf_addf(w->out, "%-8" PRIu64 "  %-20s  %12" PRIu64 "  %.*s\n",
		    v->version, when, v->size, (int)sizeof(v->writer), v->writer);
	return 0;
}

static int list_versions(struct ctl_ctx *ctx, const char *path, uint64_t ino, bool json)
{
	struct strbuf table = STRBUF_INIT;
	struct versions_walk w = { ctx->store, &table, NULL };
	struct strbuf subject = STRBUF_INIT;
	int rc;

	if (json && !(w.list = json_array()))
		return cmd_error(ctx, CTL_EXIT_USAGE, "cannot build the JSON output: out of memory");
	rc = store_versions(ctx->store, ino, add_version, &w);
	if (rc) {
		strbuf_addf(&subject, "\"%s\"", path);
		rc = cmd_fail(ctx, rc, NULL, subject.buf);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(ctx, json_pack("{s:o, s:O}", "path",
						   ctl_json_bytes(path, strlen(path)), "versions", w.list));
		goto out;
	}
	strbuf_addf(&ctx->out, "%-8s  %-20s  %12s  %s\n", "VERSION", "TIME", "SIZE", "WRITER");
	strbuf_add(&ctx->out, table.buf, table.len);
out:
	json_decref(w.list);
	strbuf_release(&table);
	strbuf_release(&subject);
	return rc;
}

int cmd_versions(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct audit_rec rec;
	uint64_t ino;
	int n, rc;

	n = cmd_parse(ctx, versions_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "versions: expected one PATH, got %d", n);
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = cmd_resolve_file(ctx, argv[0], &ino);
	if (rc)
		return rc;

	rc = list_versions(ctx, argv[0], ino, json);
	cmd_audit_init(ctx, &rec, "versions", argv[0]);
	rec.result = rc ? -EIO : 0;
	/* an unaudited listing must not reach the caller */
	if (audit_append(ctx->store, &rec)) {
		strbuf_reset(&ctx->out);
		return cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": cannot write the audit record", argv[0]);
	}
	return rc;
}
