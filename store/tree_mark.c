/*
 * store/tree_mark.c - a tree change's record says which entries it made
 * and ended; `audit verify` holds the tree to the last word on each.
 *
 * Whoever holds the disk can put an unlinked entry back (its 'd' row
 * from an older copy of the store, tag and all) or undo a rename: each
 * row is one the pool wrote, so nothing at read time can tell. The log
 * can: every create, mkdir, symlink, unlink, rmdir and rename made since
 * this check carries a member
 *
 *   "tree": "+PARENT:INO:NAMEHEX -PARENT:INO:NAMEHEX mark=HEX"
 *
 * one entry per name the change made to lead to inode INO (+) or ended
 * (-, INO the inode it led to), PARENT the directory's inode, NAMEHEX
 * the name's bytes, and a mark over the entries (HMAC under the audit
 * key, store_mark()). verify reads every such record, keeps the last
 * entry for each (parent, name) and requires the tree, read from the
 * same snapshot, to agree: a live entry leading to that inode, or none.
 * Records written before carry no member; an entry whose last change
 * was such a record is not checked. Every end the log names must also
 * have left its history row ('h', what `.snapshots` lists) leading to
 * the inode that ended: a disk holder who deletes one hides an old
 * entry, one who rewrites it (a plain pool) points it elsewhere.
 *
 * The same member holds an inode's mode and owner: create, mkdir,
 * symlink, a rename of a file over a file (the target takes the
 * source's) and every setattr add "=INO:MODE:UID:GID" (mode in octal),
 * the inode's whole triple after the change, under the same mark, and
 * verify requires each inode's record to carry its last word. Times are
 * not held (docs/audit.md).
 */
#include "store/tree_mark.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/codec.h"
#include "store/commit_mark.h"
#include "store/dent.h"
#include "store/inode_rec.h"

#define MARK_TAG	" mark="

static const char label[] = "poolfs tree mark";

struct tree_want {
	uint64_t parent, ino, seq;
	char *name;
	unsigned at;			/* its place in the record */
	bool present;
	bool unsure;			/* in a write that failed: it may not have landed */
	char op[12];
};

struct attr_want {
	uint64_t ino, seq;
	uint32_t mode, uid, gid;
	unsigned at;
	bool unsure;
	char op[12];
};

void tree_mark_entry(struct strbuf *t, bool present, uint64_t parent, const char *name,
		     uint64_t ino)
{
	size_t n = strlen(name);

	if (t->len)
		strbuf_addch(t, ' ');
	strbuf_addf(t, "%c%" PRIu64 ":%" PRIu64 ":", present ? '+' : '-', parent, ino);
	strbuf_grow(t, 2 * n + 1);
	hex_encode((const uint8_t *)name, n, t->buf + t->len);
	strbuf_setlen(t, t->len + 2 * n);
}

void tree_mark_attr(struct strbuf *t, const struct store_attr *a)
{
	if (t->len)
		strbuf_addch(t, ' ');
	strbuf_addf(t, "=%" PRIu64 ":%o:%u:%u", a->ino, (unsigned)a->mode, (unsigned)a->uid,
		    (unsigned)a->gid);
}

/* The mark of entries (len bytes of text) into hex. */
static int mark_of(struct store *s, const char *entries, size_t len,
		   char hex[COMMIT_MARK_HEX + 1])
{
	struct strbuf msg = STRBUF_INIT;
	int ret;

	strbuf_add(&msg, label, sizeof(label));
	strbuf_add(&msg, entries, len);
	ret = store_mark(s, msg.buf, msg.len, hex);
	strbuf_release(&msg);
	return ret;
}

int tree_mark_seal(struct store *s, struct strbuf *t)
{
	char hex[COMMIT_MARK_HEX + 1];
	int ret = mark_of(s, t->buf, t->len, hex);

	if (!ret)
		strbuf_addf(t, MARK_TAG "%s", hex);
	return ret;
}

/* One entry "+P:I:HEX" of len bytes at p into w; false when it is none. */
static bool parse_entry(const char *p, size_t len, struct tree_want *w)
{
	const char *end = p + len, *q;
	char *e, *hex;
	size_t hn;
	bool bad;

	if (len < 6 || (p[0] != '+' && p[0] != '-'))
		return false;
	w->present = p[0] == '+';
	errno = 0;
	w->parent = strtoull(p + 1, &e, 10);
	if (errno || e == p + 1 || *e != ':')
		return false;
	q = e + 1;
	w->ino = strtoull(q, &e, 10);
	if (errno || e == q || *e != ':' || !w->parent || !w->ino)
		return false;
	q = e + 1;
	hn = (size_t)(end - q);
	if (!hn || hn % 2 || hn / 2 > STORE_NAME_MAX)
		return false;
	hex = xstrndup(q, hn);	/* hex_decode wants the digits alone */
	w->name = xcalloc(1, hn / 2 + 1);
	bad = hex_decode(hex, (uint8_t *)w->name, hn / 2) || memchr(w->name, 0, hn / 2);
	free(hex);
	if (bad) {
		free(w->name);
		w->name = NULL;
		return false;
	}
	return true;
}

/* a uint32 in base at p, ended by stop; false when it is none */
static bool parse_u32(const char **p, int base, char stop, uint32_t *out)
{
	unsigned long long v;
	char *e;

	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	v = strtoull(*p, &e, base);
	if (errno || e == *p || *e != stop || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	*p = e + 1;
	return true;
}

/* One attribute word "=INO:MODE:UID:GID" of len bytes at p into w. */
static bool parse_attr(const char *p, size_t len, struct attr_want *w)
{
	char buf[80], *e;
	const char *q;

	if (len < 8 || len >= sizeof(buf) || p[0] != '=')
		return false;
	memcpy(buf, p, len);
	buf[len] = 0;
	errno = 0;
	w->ino = strtoull(buf + 1, &e, 10);
	if (errno || e == buf + 1 || *e != ':' || !w->ino || buf[1] < '0' || buf[1] > '9')
		return false;
	q = e + 1;
	return parse_u32(&q, 8, ':', &w->mode) && w->mode <= 07777 &&
	       parse_u32(&q, 10, ':', &w->uid) && parse_u32(&q, 10, 0, &w->gid);
}

int tree_log_add(struct store *s, struct tree_log *l, const struct audit_rec *r, char *msg,
		 size_t len)
{
	const char *t = r->tree, *m = strstr(t, MARK_TAG), *p, *sp;
	char want[COMMIT_MARK_HEX + 1];
	size_t first = l->n, first_a = l->na;
	unsigned at = 0;
	int ret;

	if (!m || m == t || strlen(m + strlen(MARK_TAG)) != COMMIT_MARK_HEX) {
		ret = -EBADMSG;
		goto bad;
	}
	ret = mark_of(s, t, (size_t)(m - t), want);
	if (ret)
		return ret;
	if (strcmp(want, m + strlen(MARK_TAG))) {
		ret = -EBADMSG;
		goto bad;
	}
	for (p = t; p < m; p = sp + 1) {
		struct tree_want w = { .seq = r->seq, .at = at++ };

		sp = memchr(p, ' ', (size_t)(m - p));
		if (!sp)
			sp = m;
		if (*p == '=') {
			struct attr_want a = { .seq = r->seq, .at = w.at };

			if (!parse_attr(p, (size_t)(sp - p), &a)) {
				ret = -EBADMSG;
				goto bad;
			}
			snprintf(a.op, sizeof(a.op), "%s", r->op);
			ALLOC_GROW(l->a, l->na + 1, l->aalloc);
			l->a[l->na++] = a;
			continue;
		}
		if (!parse_entry(p, (size_t)(sp - p), &w)) {
			ret = -EBADMSG;
			goto bad;
		}
		snprintf(w.op, sizeof(w.op), "%s", r->op);
		ALLOC_GROW(l->v, l->n + 1, l->alloc);
		l->v[l->n++] = w;
	}
	return 0;
bad:
	while (l->n > first)
		free(l->v[--l->n].name);
	l->na = first_a;
	snprintf(msg, len, "record %" PRIu64 " (%s %s): its tree entries do not carry this "
		 "pool's mark (edited)", r->seq, r->op, r->path);
	return ret;
}

static int want_cmp(const void *a, const void *b)
{
	const struct tree_want *x = a, *y = b;
	int c;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

static int attr_cmp(const void *a, const void *b)
{
	const struct attr_want *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* name fit for a one-line message */
static void show_name(const char *name, char *out, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	out[i] = 0;
}

/* The tree's word on w: 0 when it agrees, else -EBADMSG with msg; another errno: unread. */
static int check_one(struct store *s, rocksdb_readoptions_t *ro, const struct tree_want *w,
		     char *msg, size_t len)
{
	uint8_t key[KEY_MAX];
	size_t klen = dent_key(key, w->parent, w->name), vlen = 0;
	char *err = NULL, *v, name[STORE_NAME_MAX + 1];
	struct dent d;
	int ret = 0;

	v = rocksdb_get_cf(s->db, ro, s->cf[CF_TREE], (const char *)key, klen, &vlen, &err);
	if (err) {
		rocksdb_free(err);
		return -EIO;
	}
	show_name(w->name, name, sizeof(name));
	if (v && dent_decode(s, key, klen, v, vlen, &d)) {
		snprintf(msg, len, "the entry \"%s\" in directory inode %" PRIu64 ", last changed "
			 "by record %" PRIu64 " (%s), fails its check in the store (edited)", name,
			 w->parent, w->seq, w->op);
		ret = -EBADMSG;
	} else if (v && !w->present) {
		snprintf(msg, len, "the entry \"%s\" in directory inode %" PRIu64 ", ended by record "
			 "%" PRIu64 " (%s), is in the store again (brought back)", name, w->parent,
			 w->seq, w->op);
		ret = -EBADMSG;
	} else if (!v && w->present) {
		snprintf(msg, len, "the entry \"%s\" in directory inode %" PRIu64 ", which record "
			 "%" PRIu64 " (%s) made lead to inode %" PRIu64 ", is missing from the store "
			 "(the change undone)", name, w->parent, w->seq, w->op, w->ino);
		ret = -EBADMSG;
	} else if (v && d.child != w->ino) {
		snprintf(msg, len, "the entry \"%s\" in directory inode %" PRIu64 " leads to inode "
			 "%" PRIu64 ", but record %" PRIu64 " (%s) made it lead to inode %" PRIu64
			 " (changed)", name, w->parent, d.child, w->seq, w->op, w->ino);
		ret = -EBADMSG;
	}
	rocksdb_free(v);
	return ret;
}

/* Inode w->ino's record against w: 0 when it agrees, else as check_one(). */
static int check_attr(struct store *s, rocksdb_readoptions_t *ro, const struct attr_want *w,
		      char *msg, size_t len)
{
	struct inode_rec r;
	int ret;

	inode_rec_init(&r);
	ret = inode_read_at(s, ro, w->ino, &r);
	if (ret == -ENOENT || ret == -EBADMSG)
		snprintf(msg, len, "inode %" PRIu64 ", whose mode and owner record %" PRIu64
			 " (%s) set, %s in the store (edited)", w->ino, w->seq, w->op,
			 ret == -ENOENT ? "is missing" : "fails its check");
	else if (!ret && (r.attr.mode != w->mode || r.attr.uid != w->uid || r.attr.gid != w->gid))
		snprintf(msg, len, "inode %" PRIu64 " has mode %04o, uid %u, gid %u, but record %"
			 PRIu64 " (%s) made them mode %04o, uid %u, gid %u (attributes changed)",
			 w->ino, (unsigned)r.attr.mode, (unsigned)r.attr.uid, (unsigned)r.attr.gid,
			 w->seq, w->op, (unsigned)w->mode, (unsigned)w->uid, (unsigned)w->gid);
	else
		goto out;
	ret = -EBADMSG;
out:
	inode_rec_release(&r);
	return ret;
}

/* Every child the history rows of parent/name lead to, as ro sees them (rows failing their tag: none). */
static int hist_children(struct store *s, rocksdb_readoptions_t *ro, uint64_t parent,
			 const char *name, uint64_t **kids, size_t *n)
{
	uint8_t prefix[KEY_MAX];
	size_t plen = dent_prefix(prefix, 'h', parent), nlen = strlen(name), alloc = 0;
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[CF_TREE]);

	memcpy(prefix + plen, name, nlen);
	plen += nlen;
	*n = 0;
	for (rocksdb_iter_seek(it, (const char *)prefix, plen); rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v = rocksdb_iter_value(it, &vlen);
		struct dent d;

		if (klen < plen || memcmp(k, prefix, plen))
			break;
		/* longer names share the prefix; ours is exactly name + died */
		if (klen != plen + 8 || dent_decode(s, k, klen, v, vlen, &d))
			continue;
		ALLOC_GROW(*kids, *n + 1, alloc);
		(*kids)[(*n)++] = d.child;
	}
	return store_iter_end(s, it, "tree history", 0);
}

/*
 * The history of one entry (its words v[0..n), in log order) against its
 * 'h' rows: every end the log made (a '-', or a '+' over a name that led
 * to another inode) left a row leading to the inode that ended, which is
 * what `.snapshots` lists. -EBADMSG with *seq and msg for the first end
 * without its row.
 */
static int check_hist(struct store *s, rocksdb_readoptions_t *ro, const struct tree_want *v,
		      size_t n, uint64_t *seq, char *msg, size_t len)
{
	uint64_t prev = 0, *kids = NULL, ended;
	char name[128];			/* a long name shown cut: the message fits a line */
	size_t nkids = 0, k;
	bool read = false;
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		const struct tree_want *w = &v[i];

		/* an end in a failed write may not have landed; after it, what led where is unknown */
		ended = w->unsure ? 0 : !w->present ? w->ino : prev != w->ino ? prev : 0;
		prev = w->present && !w->unsure ? w->ino : 0;
		if (!ended)
			continue;
		if (!read) {
			ret = hist_children(s, ro, w->parent, w->name, &kids, &nkids);
			read = true;
		}
		for (k = 0; k < nkids && kids[k] != ended; k++)
			;
		if (k < nkids) {
			kids[k] = 0;	/* each row stands for one end */
			continue;
		}
		if (ret)
			break;
		show_name(w->name, name, sizeof(name));
		snprintf(msg, len, "the entry \"%s\" in directory inode %" PRIu64 ", which led to "
			 "inode %" PRIu64 " until record %" PRIu64 " (%s), is missing from its "
			 "history (hidden from .snapshots, or changed)", name, w->parent, ended,
			 w->seq, w->op);
		*seq = w->seq;
		ret = -EBADMSG;
	}
	free(kids);
	return ret;
}

int tree_log_check(struct store *s, rocksdb_readoptions_t *ro, struct tree_log *l,
		   uint64_t *seq, char *msg, size_t len)
{
	char one[400];
	uint64_t hseq = 0;
	int ret = 0, r;
	size_t j;

	*seq = 0;
	if (l->n)
		qsort(l->v, l->n, sizeof(l->v[0]), want_cmp);
	for (size_t i = 0; i < l->n; i = j) {
		const struct tree_want *w;

		for (j = i + 1; j < l->n && l->v[j].parent == l->v[i].parent &&
		     !strcmp(l->v[j].name, l->v[i].name); j++)
			;
		/* the last word on each entry */
		w = &l->v[j - 1];
		if (!(*seq && w->seq >= *seq) && !w->unsure) {
			r = check_one(s, ro, w, one, sizeof(one));
			if (r == -EBADMSG) {
				*seq = w->seq;
				snprintf(msg, len, "%s", one);
				ret = r;
			} else if (r) {
				return r;
			}
		}
		r = check_hist(s, ro, l->v + i, j - i, &hseq, one, sizeof(one));
		if (r == -EBADMSG && (!*seq || hseq < *seq)) {
			*seq = hseq;
			snprintf(msg, len, "%s", one);
			ret = r;
		} else if (r && r != -EBADMSG) {
			return r;
		}
	}
	if (l->na)
		qsort(l->a, l->na, sizeof(l->a[0]), attr_cmp);
	for (size_t i = 0; i < l->na; i++) {
		const struct attr_want *w = &l->a[i];

		if (i + 1 < l->na && l->a[i + 1].ino == w->ino)
			continue;
		if ((*seq && w->seq >= *seq) || w->unsure)
			continue;
		r = check_attr(s, ro, w, one, sizeof(one));
		if (r == -EBADMSG) {
			*seq = w->seq;
			snprintf(msg, len, "%s", one);
			ret = r;
		} else if (r) {
			return r;
		}
	}
	return ret;
}

void tree_log_unsure(struct tree_log *l, uint64_t from, uint64_t to)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].seq >= from && l->v[i].seq <= to)
			l->v[i].unsure = true;
	for (size_t i = 0; i < l->na; i++)
		if (l->a[i].seq >= from && l->a[i].seq <= to)
			l->a[i].unsure = true;
}

void tree_log_release(struct tree_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	free(l->a);
	memset(l, 0, sizeof(*l));
}
