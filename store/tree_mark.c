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
 * The same member holds what an inode is: create, mkdir, symlink, a
 * rename of a file over a file (the target takes the source's) and every
 * setattr add "=INO:MODE:UID:GID:T[:MARK]" (mode in octal, T the type
 * f, d or l, MARK a mark of a symlink's target), the inode's state after
 * the change, under the same mark, and verify requires each inode's
 * record to carry its last word; a word written before types were held
 * ends at GID and holds mode and owner only. Where an inode is (its
 * directory, its name, whether it is dead) is what the entry words say
 * of it last, so it needs no word of its own: a record pointed into
 * another directory, or an unlinked one made live again, disagrees.
 * Times are not held (docs/audit.md).
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
	uint8_t type;			/* enum store_ftype; 0: a word from before types were held */
	bool unsure;
	char op[12];
	char target[COMMIT_MARK_HEX + 1];	/* a symlink's: the mark of its target */
};

/*
 * Where the log last put an inode: made the entry w leads to (present),
 * or ended by w (an unlink, a rename away or over it). An end is
 * implicit when w made the name lead to another inode: the inode that
 * led there before was replaced (a rename over a directory or a link);
 * a later word of the same record may still place it elsewhere (an
 * exchange), so implicit ends sort before a record's words.
 */
struct place_want {
	uint64_t ino;
	const struct tree_want *w;
	bool present, implicit, unsure;
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

static const char type_letter[] = "?fdl";	/* by enum store_ftype */
static const char link_label[] = "poolfs link target";

/* The mark of text (len bytes) under lab (a label, its NUL included) into hex. */
static int mark_of(struct store *s, const char *lab, size_t lablen, const char *text,
		   size_t len, char hex[COMMIT_MARK_HEX + 1])
{
	struct strbuf msg = STRBUF_INIT;
	int ret;

	strbuf_add(&msg, lab, lablen);
	strbuf_add(&msg, text, len);
	ret = store_mark(s, msg.buf, msg.len, hex);
	strbuf_release(&msg);
	return ret;
}

/* The mark of a symlink's target (len bytes) into hex. */
static int target_mark(struct store *s, const char *target, size_t len,
		       char hex[COMMIT_MARK_HEX + 1])
{
	return mark_of(s, link_label, sizeof(link_label), target, len, hex);
}

int tree_mark_attr(struct store *s, struct strbuf *t, const struct inode_rec *r)
{
	const struct store_attr *a = &r->attr;
	char hex[COMMIT_MARK_HEX + 1];
	int ret;

	if (a->type < STORE_REG || a->type > STORE_LNK)
		return -EINVAL;
	if (t->len)
		strbuf_addch(t, ' ');
	strbuf_addf(t, "=%" PRIu64 ":%o:%u:%u:%c", a->ino, (unsigned)a->mode, (unsigned)a->uid,
		    (unsigned)a->gid, type_letter[a->type]);
	if (a->type != STORE_LNK)
		return 0;
	ret = target_mark(s, r->target.buf, r->target.len, hex);
	if (!ret)
		strbuf_addf(t, ":%s", hex);
	return ret;
}

int tree_mark_seal(struct store *s, struct strbuf *t)
{
	char hex[COMMIT_MARK_HEX + 1];
	int ret = mark_of(s, label, sizeof(label), t->buf, t->len, hex);

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

/*
 * One attribute word "=INO:MODE:UID:GID[:T[:TARGETMARK]]" of len bytes
 * at p into w (T and the mark are absent from words written before they
 * were held: type 0).
 */
static bool parse_attr(const char *p, size_t len, struct attr_want *w)
{
	char buf[128], *e, *tail;
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
	if (!parse_u32(&q, 8, ':', &w->mode) || w->mode > 07777 || !parse_u32(&q, 10, ':', &w->uid))
		return false;
	tail = strchr(q, ':');
	if (tail)
		*tail++ = 0;
	if (!parse_u32(&q, 10, 0, &w->gid))
		return false;
	if (!tail)
		return true;
	q = tail[0] ? strchr(type_letter + 1, tail[0]) : NULL;
	if (!q)
		return false;
	w->type = (uint8_t)(q - type_letter);
	if (w->type != STORE_LNK)
		return !tail[1];
	if (tail[1] != ':' || strlen(tail + 2) != COMMIT_MARK_HEX ||
	    strspn(tail + 2, "0123456789abcdef") != COMMIT_MARK_HEX)
		return false;
	memcpy(w->target, tail + 2, COMMIT_MARK_HEX + 1);
	return true;
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
	ret = mark_of(s, label, sizeof(label), t, (size_t)(m - t), want);
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
			if (a.ino > l->max_ino)
				l->max_ino = a.ino;
			ALLOC_GROW(l->a, l->na + 1, l->aalloc);
			l->a[l->na++] = a;
			continue;
		}
		if (!parse_entry(p, (size_t)(sp - p), &w)) {
			ret = -EBADMSG;
			goto bad;
		}
		snprintf(w.op, sizeof(w.op), "%s", r->op);
		if (w.ino > l->max_ino)
			l->max_ino = w.ino;
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

static const char *type_name(unsigned type)
{
	return type == STORE_REG ? "a file" : type == STORE_DIR ? "a directory" :
	       type == STORE_LNK ? "a symlink" : "of an unknown type";
}

/* Where inode r (live or dead) is against the log's last word p on it: 0, or 1 with msg. */
static int place_differs(const struct inode_rec *r, const struct place_want *p, char *msg,
			 size_t len)
{
	const struct tree_want *w = p->w;
	char name[128], want[128];	/* a long name shown cut: the message fits a line */
	uint64_t ino = r->attr.ino;

	if (!p->present) {
		if (r->dead)
			return 0;
		snprintf(msg, len, "inode %" PRIu64 ", which record %" PRIu64 " (%s) ended, is live "
			 "in the store (brought back)", ino, w->seq, w->op);
		return 1;
	}
	show_name(w->name, want, sizeof(want));
	if (r->dead) {
		snprintf(msg, len, "inode %" PRIu64 " is dead in the store, but record %" PRIu64
			 " (%s) made it \"%s\" in directory inode %" PRIu64 " (ended)", ino, w->seq,
			 w->op, want, w->parent);
		return 1;
	}
	if (r->parent == w->parent && r->name.len == strlen(w->name) &&
	    !memcmp(r->name.buf, w->name, r->name.len))
		return 0;
	show_name(r->name.buf, name, sizeof(name));
	snprintf(msg, len, "inode %" PRIu64 " is \"%s\" in directory inode %" PRIu64 ", but "
		 "record %" PRIu64 " (%s) made it \"%s\" in directory inode %" PRIu64 " (moved)",
		 ino, name, r->parent, w->seq, w->op, want, w->parent);
	return 1;
}

/* Inode r's type, target, mode and owner against the log's last word w on them: 0, or 1 with msg. */
static int attr_differs(struct store *s, const struct inode_rec *r, const struct attr_want *w,
			char *msg, size_t len)
{
	char hex[COMMIT_MARK_HEX + 1];
	int ret;

	if (w->type && r->attr.type != w->type) {
		snprintf(msg, len, "inode %" PRIu64 " is %s, but record %" PRIu64 " (%s) made it %s "
			 "(type changed)", w->ino, type_name(r->attr.type), w->seq, w->op,
			 type_name(w->type));
		return 1;
	}
	if (w->type == STORE_LNK) {
		ret = target_mark(s, r->target.buf, r->target.len, hex);
		if (ret)
			return ret;
		if (strcmp(hex, w->target)) {
			snprintf(msg, len, "symlink inode %" PRIu64 " does not lead where record %"
				 PRIu64 " (%s) made it lead (target changed)", w->ino, w->seq, w->op);
			return 1;
		}
	}
	if (r->attr.mode == w->mode && r->attr.uid == w->uid && r->attr.gid == w->gid)
		return 0;
	snprintf(msg, len, "inode %" PRIu64 " has mode %04o, uid %u, gid %u, but record %" PRIu64
		 " (%s) made them mode %04o, uid %u, gid %u (attributes changed)", w->ino,
		 (unsigned)r->attr.mode, (unsigned)r->attr.uid, (unsigned)r->attr.gid, w->seq, w->op,
		 (unsigned)w->mode, (unsigned)w->uid, (unsigned)w->gid);
	return 1;
}

/*
 * Inode ino's record against the log's last words on it: where it is (p)
 * and what it is (a); either may be NULL, or skipped when its seq is not
 * before *seq. 0 when they agree; -EBADMSG with *seq and msg set to the
 * earlier word that disagrees; another errno when the record is unread.
 */
static int check_inode(struct store *s, rocksdb_readoptions_t *ro, uint64_t ino,
		       const struct place_want *p, const struct attr_want *a, uint64_t *seq,
		       char *msg, size_t len)
{
	uint64_t pseq = p ? p->w->seq : UINT64_MAX, aseq = a ? a->seq : UINT64_MAX;
	uint64_t first = pseq < aseq ? pseq : aseq;
	struct inode_rec r;
	char one[400];
	int ret;

	if (*seq && first >= *seq)
		return 0;
	inode_rec_init(&r);
	ret = inode_read_at(s, ro, ino, &r);
	if (ret == -ENOENT || ret == -EBADMSG) {
		snprintf(msg, len, "inode %" PRIu64 ", which record %" PRIu64 " (%s) made or changed, "
			 "%s in the store (edited)", ino, first, pseq < aseq ? p->w->op : a->op,
			 ret == -ENOENT ? "is missing" : "fails its check");
		*seq = first;
		ret = -EBADMSG;
		goto out;
	}
	if (ret)
		goto out;
	/* the earlier disagreeing word names the problem */
	for (int pass = 0; pass < 2; pass++) {
		bool place = (pass == 0) == (pseq <= aseq);

		ret = 0;
		if (place && p && (!*seq || pseq < *seq))
			ret = place_differs(&r, p, one, sizeof(one));
		else if (!place && a && (!*seq || aseq < *seq))
			ret = attr_differs(s, &r, a, one, sizeof(one));
		if (ret < 0)
			goto out;
		if (ret) {
			*seq = place ? pseq : aseq;
			snprintf(msg, len, "%s", one);
			ret = -EBADMSG;
			goto out;
		}
	}
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

/*
 * Where the words v[0..n) on one entry, in log order, put inodes: each
 * word places or ends its inode, and a word that makes the name lead to
 * another inode ends the one it led to (as check_hist() reads them).
 */
static void add_places(const struct tree_want *v, size_t n, struct place_want **p,
		       size_t *np, size_t *alloc)
{
	uint64_t prev = 0;
	bool prev_unsure = false;

	for (size_t i = 0; i < n; i++) {
		const struct tree_want *w = &v[i];

		ALLOC_GROW(*p, *np + 2, *alloc);
		if (w->present && prev && prev != w->ino)
			(*p)[(*np)++] = (struct place_want){ prev, w, false, true,
							     w->unsure || prev_unsure };
		(*p)[(*np)++] = (struct place_want){ w->ino, w, w->present, false, w->unsure };
		prev = w->present ? w->ino : 0;
		prev_unsure = w->unsure;
	}
}

static int place_cmp(const void *a, const void *b)
{
	const struct place_want *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->w->seq != y->w->seq)
		return x->w->seq < y->w->seq ? -1 : 1;
	if (x->implicit != y->implicit)
		return x->implicit ? -1 : 1;
	return x->w->at < y->w->at ? -1 : x->w->at > y->w->at;
}

/*
 * Every inode the log names against its last words: where it is (p,
 * sorted by place_cmp) and what it is (l->a), one record read each.
 */
static int check_inodes(struct store *s, rocksdb_readoptions_t *ro, struct tree_log *l,
			const struct place_want *p, size_t np, uint64_t *seq, char *msg,
			size_t len)
{
	size_t i = 0, k = 0;
	int ret = 0, r;

	if (l->na)
		qsort(l->a, l->na, sizeof(l->a[0]), attr_cmp);
	while (i < np || k < l->na) {
		uint64_t ino = k == l->na || (i < np && p[i].ino < l->a[k].ino) ? p[i].ino :
			       l->a[k].ino;
		const struct place_want *pw = NULL;
		const struct attr_want *aw = NULL;

		/* the last word of each kind on ino */
		for (; i < np && p[i].ino == ino; i++)
			pw = &p[i];
		for (; k < l->na && l->a[k].ino == ino; k++)
			aw = &l->a[k];
		if (pw && pw->unsure)
			pw = NULL;
		if (aw && aw->unsure)
			aw = NULL;
		if (!pw && !aw)
			continue;
		r = check_inode(s, ro, ino, pw, aw, seq, msg, len);
		if (r && r != -EBADMSG)
			return r;
		if (r)
			ret = r;
	}
	return ret;
}

int tree_log_check(struct store *s, rocksdb_readoptions_t *ro, struct tree_log *l,
		   uint64_t *seq, char *msg, size_t len)
{
	struct place_want *places = NULL;
	size_t np = 0, palloc = 0;
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
		add_places(l->v + i, j - i, &places, &np, &palloc);
		/* the last word on each entry */
		w = &l->v[j - 1];
		if (!(*seq && w->seq >= *seq) && !w->unsure) {
			r = check_one(s, ro, w, one, sizeof(one));
			if (r == -EBADMSG) {
				*seq = w->seq;
				snprintf(msg, len, "%s", one);
				ret = r;
			} else if (r) {
				goto out;
			}
		}
		r = check_hist(s, ro, l->v + i, j - i, &hseq, one, sizeof(one));
		if (r == -EBADMSG && (!*seq || hseq < *seq)) {
			*seq = hseq;
			snprintf(msg, len, "%s", one);
			ret = r;
		} else if (r && r != -EBADMSG) {
			goto out;
		}
	}
	if (np)
		qsort(places, np, sizeof(places[0]), place_cmp);
	r = check_inodes(s, ro, l, places, np, seq, msg, len);
	if (!r || r == -EBADMSG)
		r = r ? r : ret;
out:
	free(places);
	return r;
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
