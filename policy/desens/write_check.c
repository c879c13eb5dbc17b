/*
 * policy/desens/write_check.c - the check of a commit by a writer who may not
 * read the file raw (see write_check.h).
 *
 * Three things keep the engine reading the previous bytes as it did:
 * - the header (CSV, TSV) names the same fields in the same order, so no
 *   column changes its label;
 * - the kept bytes end where a record ends (a line end, parsed as one by
 *   the engine), so the writer's bytes never finish a record it cannot
 *   see, e.g. turn a filtered-out row's region into one its filter lets
 *   through; a JSON array has no such place: it is rewritten whole;
 * - the new content parses in the entry's format (every record has the
 *   header's fields), so readers get a view, not EIO.
 * The engine itself (desens with rules that change nothing) is the
 * parser, so "parses" means what it means for every reader.
 */
#include "common/alloc.h"
#include "policy/desens/write_check.h"


#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/desens.h"

#define HEAD_MAX	(1u << 20)	/* a header longer than this is refused */

struct write_check {
	enum view_format format;
	struct view_rules rules;	/* no fields: parse only */
	uint64_t keep;
	struct desens *whole;		/* parses the new content */
	struct desens *prefix;		/* parses its first keep bytes */
	struct strbuf old_head, new_head;	/* first bytes, up to HEAD_MAX */
	uint64_t new_len;
	uint8_t last_kept;		/* the new content's byte at keep - 1 */
	int err;			/* the first parse error, with perr */
	struct perr perr;
	struct strbuf sink;		/* the engine's output, thrown away */
};

static enum view_format format_of(const char *format)
{
	static const char *const names[] = { "csv", "tsv", "jsonl", "json" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (format && strcmp(format, names[i]) == 0)
			return (enum view_format)i;
	return VIEW_OTHER;
}

int write_check_new(const char *format, const char *encoding, uint64_t keep,
		    struct write_check **out, struct perr *e)
{
	struct write_check *w;
	int err = 0;

	*out = NULL;
	w = xcalloc(1, sizeof(*w));
	w->format = format_of(format);
	w->keep = keep;
	strbuf_init(&w->old_head, 0);
	strbuf_init(&w->new_head, 0);
	strbuf_init(&w->sink, 0);
	w->rules.format = w->format;
	w->rules.encoding = xstrdup(encoding && encoding[0] ? encoding : "utf-8");
	if (w->format != VIEW_OTHER) {
		err = desens_new(&w->rules, NULL, 0, &w->whole, e);
		if (err == 0 && keep)
			err = desens_new(&w->rules, NULL, 0, &w->prefix, e);
		if (err < 0)
			goto err_out;
	}
	*out = w;
	return 0;

err_out:
	write_check_free(w);
	return err;
}

void write_check_free(struct write_check *w)
{
	if (!w)
		return;
	desens_free(w->whole);
	desens_free(w->prefix);
	free(w->rules.encoding);
	strbuf_release(&w->old_head);
	strbuf_release(&w->new_head);
	strbuf_release(&w->sink);
	free(w);
}

static void head_add(struct strbuf *head, const void *buf, size_t len)
{
	if (head->len < HEAD_MAX)
		strbuf_add(head, buf, len < HEAD_MAX - head->len ? len : HEAD_MAX - head->len);
}

int write_check_old(struct write_check *w, const void *buf, size_t len)
{
	head_add(&w->old_head, buf, len);
	return 0;
}

static void feed(struct write_check *w, struct desens *d, const void *buf, size_t len)
{
	int err;

	if (w->err || !d || !len)
		return;
	err = desens_feed(d, buf, len, &w->sink, &w->perr);
	strbuf_reset(&w->sink);
	if (err < 0)
		w->err = err;
}

int write_check_feed(struct write_check *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t at = w->new_len;

	head_add(&w->new_head, buf, len);
	w->new_len += len;
	if (w->keep > at && w->keep <= w->new_len) {
		w->last_kept = p[w->keep - 1 - at];
		feed(w, w->prefix, p, (size_t)(w->keep - at));
	} else if (w->keep > at) {
		feed(w, w->prefix, p, len);
	}
	feed(w, w->whole, buf, len);
	return 0;
}

/*
 * The names of the header, the first record of head, as NUL-terminated
 * strings one after the other in out: unquoted (CSV), spaces around
 * them dropped, as the engine matches them. -EIO when head holds no
 * whole first record the way the engine reads one.
 */
static int header_names(const struct strbuf *head, bool whole, uint8_t delim, bool quotes,
			struct strbuf *out)
{
	const uint8_t *p = (const uint8_t *)head->buf, *end = p + head->len;
	static const uint8_t bom8[] = { 0xef, 0xbb, 0xbf }, bom18[] = { 0x84, 0x31, 0x95, 0x33 };
	struct strbuf name = STRBUF_INIT;
	int err = 0;

	if (head->len >= 3 && !memcmp(p, bom8, 3))
		p += 3;
	else if (head->len >= 4 && !memcmp(p, bom18, 4))
		p += 4;
	for (;;) {
		size_t a, b;

		strbuf_reset(&name);
		if (quotes && p < end && *p == '"') {
			for (p++;; p++) {
				if (p == end) {
					err = -EIO;
					goto out;
				}
				if (*p == '"' && (p + 1 == end || p[1] != '"'))
					break;
				if (*p == '"')
					p++;
				strbuf_addch(&name, (char)*p);
			}
			p++;
		} else {
			while (p < end && *p != delim && *p != '\r' && *p != '\n' &&
			       !(quotes && *p == '"'))
				strbuf_addch(&name, (char)*p++);
		}
		a = 0;
		b = name.len;
		while (a < b && name.buf[a] == ' ')
			a++;
		while (b > a && name.buf[b - 1] == ' ')
			b--;
		strbuf_add(out, name.buf + a, b - a);
		strbuf_addch(out, '\0');
		if (p < end && *p == delim) {
			p++;
			continue;
		}
		/* a line end, or the end of a file that is all header */
		if ((p < end && (*p == '\r' || *p == '\n')) || (p == end && whole))
			break;
		err = -EIO;
		goto out;
	}
out:
	strbuf_release(&name);
	return err;
}

static int refuse(struct perr *e, const char *why)
{
	return perr_set(e, EACCES, "%s", why);
}

static int check_header(struct write_check *w, struct perr *e)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	bool csv = w->format == VIEW_CSV;
	uint8_t delim = csv ? ',' : '\t';
	int err = 0;

	if (!w->old_head.len)
		goto out;
	if (header_names(&w->old_head, w->old_head.len < HEAD_MAX, delim, csv, &a) < 0 ||
	    header_names(&w->new_head, w->new_len <= HEAD_MAX, delim, csv, &b) < 0) {
		err = refuse(e, "the header cannot be read with certainty");
		goto out;
	}
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
		err = refuse(e, "the header must keep its field names and their order");
out:
	strbuf_release(&a);
	strbuf_release(&b);
	return err;
}

int write_check_finish(struct write_check *w, struct perr *e)
{
	struct perr pe = PERR_INIT;
	bool cut = w->keep && w->keep < w->new_len;
	int err;

	if (w->format == VIEW_OTHER)
		return 0;
	if (!w->err && desens_finish(w->whole, &w->sink, &w->perr) < 0)
		w->err = -EIO;
	/* an empty file has no records to read otherwise */
	if (!w->new_len)
		return 0;
	if (w->err)
		return perr_set(e, EACCES, "the new content does not parse: %s",
				perr_msg(&w->perr, -w->err));
	if (w->format == VIEW_JSON && cut)
		return refuse(e, "a JSON array is rewritten whole, not changed in place "
			      "or extended");
	if (cut) {
		err = desens_finish(w->prefix, &w->sink, &pe);
		if (err < 0 || (w->last_kept != '\n' &&
				(w->format == VIEW_JSONL || w->last_kept != '\r')))
			return refuse(e, "the written bytes continue a record the writer "
				      "did not write");
	}
	if (w->format == VIEW_CSV || w->format == VIEW_TSV)
		return check_header(w, e);
	return 0;
}
