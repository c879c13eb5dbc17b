/*
 * tools/cmd_stats.c - "poolctl stats": how big the pool is and how much
 * chunk-level deduplication saves.
 */
#include "tools/cmd.h"

#include <inttypes.h>

#include "store/store.h"

static const char stats_usage[] =
	"usage: poolctl -s STORE stats [--json]\n"
	"\n"
	"Prints live files and directories, versions ever committed, logical\n"
	"bytes (all versions) against stored bytes (unique chunks), the\n"
	"dedupe ratio, the cached desensitized views, and the pack files\n"
	"(whether the pool writes them, how many, their bytes on disk, the\n"
	"bytes still in use and the garbage, which pack GC reclaims).\n"
	"\n"
	"  --json    one JSON document instead of the table\n";

static json_t *stats_json(const struct store_stats *st, double ratio)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:b, s:I, s:I, s:I, s:I}",
			 "files", (json_int_t)st->files,
			 "dirs", (json_int_t)st->dirs,
			 "versions", (json_int_t)st->versions,
			 "logical_bytes", (json_int_t)st->logical_bytes,
			 "stored_bytes", (json_int_t)st->stored_bytes,
			 "chunks", (json_int_t)st->chunks,
			 "dedupe_ratio", st->stored_bytes ? json_real(ratio) : json_null(),
			 "views", (json_int_t)st->views,
			 "view_bytes", (json_int_t)st->view_bytes,
			 "writes_packs", st->writes_packs,
			 "packs", (json_int_t)st->packs,
			 "pack_bytes", (json_int_t)st->pack_bytes,
			 "pack_live_bytes", (json_int_t)st->pack_live,
			 "pack_garbage_bytes", (json_int_t)st->pack_garbage);
}

static void stats_table(struct strbuf *out, const struct store_stats *st, double ratio)
{
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "files", st->files);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "dirs", st->dirs);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "versions", st->versions);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "logical bytes", st->logical_bytes);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "stored bytes", st->stored_bytes);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "chunks", st->chunks);
	if (st->stored_bytes)
		strbuf_addf(out, "%-15s %.2f\n", "dedupe ratio", ratio);
	else
		strbuf_addf(out, "%-15s -\n", "dedupe ratio");
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "views", st->views);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "view bytes", st->view_bytes);
	strbuf_addf(out, "%-15s %s\n", "writes packs", st->writes_packs ? "yes" : "no");
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "packs", st->packs);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "pack bytes", st->pack_bytes);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "pack live", st->pack_live);
	strbuf_addf(out, "%-15s %" PRIu64 "\n", "pack garbage", st->pack_garbage);
}

int cmd_stats(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct store_stats st;
	double ratio;
	int n, rc;

	n = cmd_parse(ctx, stats_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "stats: unexpected argument \"%s\"", argv[0]);
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = store_stats(ctx->store, &st);
	if (rc)
		return cmd_fail(ctx, rc, NULL, "stats");

	/*
	 * Stored bytes hold the cached views too, so the views count on the
	 * logical side: a pool whose copies all dedupe shows it, views or not.
	 * Two decimals are all a person or a script compares.
	 */
	ratio = st.stored_bytes ? (double)(st.logical_bytes + st.view_bytes) /
				  (double)st.stored_bytes : 0.0;
	ratio = (double)(uint64_t)(ratio * 100 + 0.5) / 100;
	if (json)
		return cmd_print_json(ctx, stats_json(&st, ratio));
	stats_table(&ctx->out, &st, ratio);
	return CTL_EXIT_OK;
}
