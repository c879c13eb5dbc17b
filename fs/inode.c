/*
 * fs/inode.c - the inode table: what the daemon keeps per kernel inode.
 *
 * An entry lives while the kernel holds references to it (nlookup) or a
 * handle or request pins it. It carries the stage of a file being
 * written, so every writer of one file shares one stage. Virtual inodes
 * (.versions, .snapshots) get numbers with FS_VIRT_BIT set and are also
 * indexed by their key, so a second lookup returns the same inode.
 *
 * A kernel inode number is the store inode number, except that a store
 * inode can be shown under a second one (an alias, FS_ALIAS_BIT): when
 * its old kernel inode must keep showing the file it was, to handles of
 * a file that was unlinked or renamed over (orphaned) or to readers of
 * an older version (split), the name gets an alias at its next lookup.
 * An alias redirects to the store inode it shows, as does the kernel
 * inode of a file moved over another by rename.
 *
 * In a pool mount a directory other than the root also gets a kernel
 * inode per department (key.dept): the kernel hangs dentries, link
 * counts and inotify watches on a directory's inode, and the events of
 * what one department does in it (names created, opened, read) must not
 * reach a watcher of another, who may not list it.
 *
 * The numbers callers see (st_ino, d_ino) are a keyed permutation of the
 * kernel node ids (fs_ino_public): store inodes are numbered in creation
 * order, and a prober's two creates must not tell it how many files were
 * made in between by others.
 *
 * Which of a file's kernel inodes shows the name and which keep a
 * version for their readers: kinode.h.
 *
 * Lock order: fs->table_lock before fs_inode.lock; nothing takes the
 * table lock while holding an inode's lock.
 */
#include "common/alloc.h"
#include "fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "fs/file.h"
#include "fs/inode.h"
#include "fs/kinode.h"
#include "fs/notify.h"
#include "fs/orphan.h"
#include "fs/view.h"

#define FS_TABLE_MIN 1024

static size_t hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= UINT64_C(0xff51afd7ed558ccd);
	v ^= v >> 33;
	v *= UINT64_C(0xc4ceb9fe1a85ec53);
	v ^= v >> 33;
	return (size_t)v;
}

static size_t vkey_hash(const struct fs_vkey *k)
{
	return hash_u64((uint64_t)k->kind ^ hash_u64(k->sino) ^
			hash_u64(k->version + 1) ^ hash_u64((uint64_t)k->vid + 7) ^
			hash_u64((uint64_t)k->dept + 11) ^
			hash_u64((uint64_t)k->as_of.tv_sec * 1000000007u +
				 (uint64_t)k->as_of.tv_nsec));
}

static bool vkey_eq(const struct fs_vkey *a, const struct fs_vkey *b)
{
	return a->kind == b->kind && a->sino == b->sino &&
	       a->version == b->version && a->vid == b->vid && a->dept == b->dept &&
	       a->as_of.tv_sec == b->as_of.tv_sec &&
	       a->as_of.tv_nsec == b->as_of.tv_nsec;
}

int fs_table_init(struct fs *fs)
{
	int err = pthread_mutex_init(&fs->table_lock, NULL);

	if (err)
		return -err;
	fs->nbuckets = FS_TABLE_MIN;
	fs->count = 0;
	fs->next_vino = FS_VIRT_BIT | 1;
	fs->next_alias = FS_ALIAS_BIT | 1;
	fs->buckets = xcalloc(fs->nbuckets, sizeof(*fs->buckets));
	fs->vbuckets = xcalloc(fs->nbuckets, sizeof(*fs->vbuckets));
	fs->rbuckets = xcalloc(fs->nbuckets, sizeof(*fs->rbuckets));
	return 0;
}

static void inode_free(struct fs_inode *n)
{
	/*
	 * Handles the kernel never released: the mount ended with files
	 * open. The whole table goes, so they pin nothing any more.
	 */
	while (n->files) {
		struct fs_file *fh = n->files;

		n->files = fh->next;
		fh->node = NULL;
		fs_file_free(NULL, fh);
	}
	free(n->author);
	if (n->orphan)
		fs_orphan_put(n->orphan);
	if (n->stage) {
		log_warn("inode %llu: uncommitted changes discarded",
			 (unsigned long long)n->ino);
		store_stage_close(n->stage);
	}
	pthread_mutex_destroy(&n->lock);
	free(n->vpath);
	free(n);
}

void fs_table_release(struct fs *fs)
{
	for (size_t i = 0; i < fs->nbuckets; i++) {
		struct fs_inode *n = fs->buckets[i];

		while (n) {
			struct fs_inode *next = n->next;

			inode_free(n);
			n = next;
		}
	}
	free(fs->buckets);
	free(fs->vbuckets);
	free(fs->rbuckets);
	fs->buckets = fs->vbuckets = fs->rbuckets = NULL;
	free(fs->depts);
	fs->depts = NULL;
	pthread_mutex_destroy(&fs->table_lock);
}

/* Doubles the table when it gets crowded. */
static void table_grow(struct fs *fs)
{
	size_t nb = fs->nbuckets * 2;
	struct fs_inode **b, **vb, **rb;

	if (fs->count < fs->nbuckets * 2)
		return;
	b = xcalloc(nb, sizeof(*b));
	vb = xcalloc(nb, sizeof(*vb));
	rb = xcalloc(nb, sizeof(*rb));
	for (size_t i = 0; i < fs->nbuckets; i++) {
		struct fs_inode *n = fs->rbuckets[i], *next;

		for (; n; n = next) {
			size_t h = hash_u64(n->redirect) % nb;

			next = n->rnext;
			n->rnext = rb[h];
			rb[h] = n;
		}
	}
	for (size_t i = 0; i < fs->nbuckets; i++) {
		struct fs_inode *n = fs->buckets[i], *next;

		for (; n; n = next) {
			size_t h = hash_u64(n->ino) % nb;

			next = n->next;
			n->next = b[h];
			b[h] = n;
			if (n->key.kind != FS_REAL) {
				h = vkey_hash(&n->key) % nb;
				n->vnext = vb[h];
				vb[h] = n;
			}
		}
	}
	free(fs->buckets);
	free(fs->vbuckets);
	free(fs->rbuckets);
	fs->buckets = b;
	fs->vbuckets = vb;
	fs->rbuckets = rb;
	fs->nbuckets = nb;
}

struct fs_inode *fs_redirects(struct fs *fs, uint64_t sino)
{
	return fs->rbuckets[hash_u64(sino) % fs->nbuckets];
}

/* n joins the entries that redirect to to. */
static void redirect_link(struct fs *fs, struct fs_inode *n, uint64_t to)
{
	size_t h = hash_u64(to) % fs->nbuckets;

	__atomic_store_n(&n->redirect, to, __ATOMIC_RELEASE);
	n->rnext = fs->rbuckets[h];
	fs->rbuckets[h] = n;
}

static void redirect_unlink(struct fs *fs, struct fs_inode *n)
{
	struct fs_inode **p = &fs->rbuckets[hash_u64(n->redirect) % fs->nbuckets];

	while (*p != n)
		p = &(*p)->rnext;
	*p = n->rnext;
}

struct fs_inode *fs_table_find(struct fs *fs, uint64_t ino)
{
	struct fs_inode *n = fs->buckets[hash_u64(ino) % fs->nbuckets];

	while (n && n->ino != ino)
		n = n->next;
	return n;
}

/*
 * The newest alias of store inode sino that shows the name (not
 * orphaned) in view vid to department dept, or NULL. Caller holds the
 * table lock. A file has at most one such kernel inode per view: the
 * kernel keeps a page cache and an i_size per kernel inode, and a
 * writer's bytes reach only those of the one it writes through, so a
 * reader that follows the writing through another would read stale
 * pages and stop short at a stale size (kinode.h).
 */
static struct fs_inode *live_alias(struct fs *fs, uint64_t sino, uint32_t vid, uint32_t dept)
{
	struct fs_inode *k, *n = NULL;

	/* the newest match, as when they were one list, newest first */
	for (k = fs_redirects(fs, sino); k; k = k->rnext)
		if (k->redirect == sino && !k->orphaned && k->key.kind == FS_REAL &&
		    k->key.vid == vid && k->key.dept == dept && (!n || k->rseq > n->rseq))
			n = k;
	return n;
}

static struct fs_inode *table_add(struct fs *fs, uint64_t ino,
				  const struct fs_vkey *key, const char *vpath)
{
	struct fs_inode *n = xcalloc(1, sizeof(*n));
	size_t h;

	if (vpath)
		n->vpath = xstrdup(vpath);
	if (pthread_mutex_init
(&n->lock, NULL)) {
		free(n->vpath);
		free(n);
		return NULL;
	}
	n->ino = ino;
	n->key = *key;
	n->cache_version = FS_CACHE_UNKNOWN;
	table_grow(fs);
	h = hash_u64(ino) % fs->nbuckets;
	n->next = fs->buckets[h];
	fs->buckets[h] = n;
	if (key->kind != FS_REAL) {
		h = vkey_hash(key) % fs->nbuckets;
		n->vnext = fs->vbuckets[h];
		fs->vbuckets[h] = n;
	}
	fs->count++;
	/*
	 * A store inode's own entry made again (a handle's pin, a lookup)
	 * after the kernel forgot it, while an alias shows the name: the
	 * alias stays the name's one live kernel inode (see live_alias).
	 */
	if (key->kind == FS_REAL && ino == key->sino && live_alias(fs, ino, 0, 0))
		n->orphaned = true;
	return n;
}

static void table_unlink(struct fs *fs, struct fs_inode *n)
{
	struct fs_inode **p = &fs->buckets[hash_u64(n->ino) % fs->nbuckets];

	while (*p != n)
		p = &(*p)->next;
	*p = n->next;
	if (n->key.kind != FS_REAL) {
		p = &fs->vbuckets[vkey_hash(&n->key) % fs->nbuckets];
		while (*p != n)
			p = &(*p)->vnext;
		*p = n->vnext;
	}
	fs->count--;
}

static void take_ref(struct fs_inode *n, bool lookup)
{
	if (lookup)
		n->nlookup++;
	else
		n->pins++;
}

/* Caller holds the table lock. */
static void maybe_free(struct fs *fs, struct fs_inode *n)
{
	struct fs_inode *fwd;

	if (n->nlookup || n->pins)
		return;
	if (n->redirect)
		redirect_unlink(fs, n);
	fwd = n->forward;
	table_unlink(fs, n);
	inode_free(n);
	if (fwd) {
		fwd->pins--;
		maybe_free(fs, fwd);
	}
}

struct fs_inode *fs_inode_get(struct fs *fs, uint64_t ino, bool lookup)
{
	struct fs_inode *n;
	struct fs_vkey key = { .kind = FS_REAL, .sino = ino };

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, ino);
	if (!n)
		n = table_add(fs, ino, &key, NULL);
	if (n)
		take_ref(n, lookup);
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

struct fs_inode *fs_inode_get_live(struct fs *fs, uint64_t sino)
{
	return fs_inode_get_view(fs, sino, 0, 0);
}

struct fs_inode *fs_inode_get_view(struct fs *fs, uint64_t sino, uint32_t vid,
				   uint32_t dept)
{
	struct fs_vkey key = { .kind = FS_REAL, .sino = sino, .vid = vid, .dept = dept };
	struct fs_inode *n;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, sino);
	/*
	 * The store inode's own kernel inode shows it raw, to everyone,
	 * unless an alias took the name over while it was forgotten.
	 */
	if (!n && !vid && !dept)
		n = live_alias(fs, sino, 0, 0);
	if ((n && n->orphaned) || vid || dept) {
		n = live_alias(fs, sino, vid, dept);
		if (!n) {
			n = table_add(fs, fs->next_alias++, &key, NULL);
			if (n) {
				n->rseq = ++fs->next_rseq;
				redirect_link(fs, n, sino);
			}
		}
	} else if (!n) {
		n = table_add(fs, sino, &key, NULL);
	}
	if (n)
		n->nlookup++;
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

uint32_t fs_inode_vid(struct fs *fs, uint64_t ino)
{
	struct fs_inode *n;
	uint32_t vid = 0;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, ino);
	if (n)
		vid = n->key.vid;
	pthread_mutex_unlock(&fs->table_lock);
	return vid;
}

uint64_t fs_inode_kversion(struct fs *fs, uint64_t ino)
{
	struct fs_inode *n;
	uint64_t v = 0;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, ino);
	if (n)
		v = n->kversion;
	pthread_mutex_unlock(&fs->table_lock);
	return v;
}

struct fs_orphan *fs_inode_orphan(struct fs *fs, uint64_t ino)
{
	struct fs_orphan *o = NULL;
	struct fs_inode *n;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, ino);
	if (n && n->orphan) {
		o = n->orphan;
		fs_orphan_get(o);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return o;
}

struct fs_inode *fs_inode_find(struct fs *fs, uint64_t ino)
{
	struct fs_inode *n;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, ino);
	if (n)
		n->pins++;
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

struct fs_inode *fs_vnode_get(struct fs *fs, const struct fs_vkey *key,
			      const char *path, bool lookup)
{
	struct fs_inode *n;

	pthread_mutex_lock(&fs->table_lock);
	n = fs->vbuckets[vkey_hash(key) % fs->nbuckets];
	while (n && !vkey_eq(&n->key, key))
		n = n->vnext;
	if (!n)
		n = table_add(fs, fs->next_vino++, key, path);
	if (n)
		take_ref(n, lookup);
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

void fs_inode_put(struct fs *fs, struct fs_inode *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&fs->table_lock);
	n->pins--;
	maybe_free(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

void fs_inode_forget(struct fs *fs, uint64_t ino, uint64_t nlookup)
{
	struct fs_inode *n;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, ino);
	if (n) {
		if (nlookup > n->nlookup) {
			log_warn("inode %llu: kernel forgot %llu of %llu references",
				 (unsigned long long)ino, (unsigned long long)nlookup,
				 (unsigned long long)n->nlookup);
			nlookup = n->nlookup;
		}
		n->nlookup -= nlookup;
		maybe_free(fs, n);
	}
	pthread_mutex_unlock(&fs->table_lock);
}

/*
 * Kernel inodes that stand for a file renamed over point at the file
 * that replaced it; chains are cut short here, as the inode in the
 * middle may already be forgotten when its own replacement comes.
 */
void fs_inode_redirect(struct fs *fs, uint64_t ino, uint64_t to)
{
	struct fs_inode *n, *next, *moved = NULL;

	pthread_mutex_lock(&fs->table_lock);
	for (n = fs_redirects(fs, ino); n; n = next) {
		next = n->rnext;
		if (n->redirect == ino) {
			redirect_unlink(fs, n);
			n->rnext = moved;
			moved = n;
		}
	}
	for (; moved; moved = next) {
		next = moved->rnext;
		redirect_link(fs, moved, to);
	}
	n = fs_table_find(fs, ino);
	if (n && n->key.kind == FS_REAL) {
		if (n->redirect)
			redirect_unlink(fs, n);
		else
			n->rseq = ++fs->next_rseq;
		redirect_link(fs, n, to);
	}
	pthread_mutex_unlock(&fs->table_lock);
}

void fs_inode_views(struct fs *fs, uint64_t sino, uint64_t **out, size_t *count)
{
	struct fs_inode *n;
	uint64_t *v;
	size_t k = 0, max = 1;

	pthread_mutex_lock(&fs->table_lock);
	for (n = fs_redirects(fs, sino); n; n = n->rnext)
		max++;
	v = xreallocarray(NULL, max, sizeof(*v));
	v[k++] = sino;
	for (n = fs_redirects(fs, sino); n; n = n->rnext)
		if (n->redirect == sino)
			v[k++] = n->ino;
	pthread_mutex_unlock(&fs->table_lock);
	*out = v;
	*count = k;
}

void fs_invalidate_sino(struct fs *fs, uint64_t sino)
{
	uint64_t *inos;
	size_t n;

	fs_inode_views(fs, sino, &inos, &n);
	for (size_t i = 0; i < n; i++)
		fs_notify_inode(fs, inos[i]);
	free(inos);
}

void fs_inode_list(struct fs *fs, uint64_t **out, size_t *count)
{
	uint64_t *v;
	size_t k = 0;

	pthread_mutex_lock(&fs->table_lock);
	v = xreallocarray(NULL, fs->count + 1, sizeof(*v));
	for (size_t i = 0; i < fs->nbuckets; i++)
		for (struct fs_inode *n = fs->buckets[i]; n; n = n->next)
			v[k++] = n->ino;
	pthread_mutex_unlock(&fs->table_lock);
	*out = v;
	*count = k;
}

void fs_inode_each(struct fs *fs, void (*fn)(struct fs *, struct fs_inode *))
{
	pthread_mutex_lock(&fs->table_lock);
	for (size_t i = 0; i < fs->nbuckets; i++)
		for (struct fs_inode *n = fs->buckets[i]; n; n = n->next)
			fn(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

uint32_t fs_dept_kid(struct fs *fs, const char *dept)
{
	size_t i;

	if (fs->allow_all || fs->dept)
		return 0;
	if (!dept || !dept[0] || strlen(dept) >= sizeof(fs->depts[0]))
		return FS_VID_NONE;
	pthread_mutex_lock(&fs->table_lock);
	for (i = 0; i < fs->ndepts; i++)
		if (!strcmp(fs->depts[i], dept))
			break;
	if (i == fs->ndepts) {
		ALLOC_GROW(fs->depts, fs->ndepts + 1, fs->adepts);
		memcpy(fs->depts[fs->ndepts++], dept, strlen(dept) + 1);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return (uint32_t)i + 1;
}

double fs_cache_timeout(const struct fs *fs)
{
	return fs->allow_all ? FS_TIMEOUT : 0;
}

/* ---- inode numbers callers see ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND \
	do { \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

/* SipHash-2-4 of one 64-bit word under key k. */
static uint64_t siphash_u64(const uint8_t k[16], uint64_t m)
{
	uint64_t k0, k1, v0, v1, v2, v3, b = (uint64_t)8 << 56;

	memcpy(&k0, k, 8);
	memcpy(&k1, k + 8, 8);
	v0 = k0 ^ UINT64_C(0x736f6d6570736575);
	v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
	v2 = k0 ^ UINT64_C(0x6c7967656e657261);
	v3 = k1 ^ UINT64_C(0x7465646279746573);
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* A keyed permutation of 64-bit numbers: a four-round Feistel network. */
static uint64_t feistel(const uint8_t k[16], uint64_t x)
{
	uint32_t l = (uint32_t)(x >> 32), r = (uint32_t)x, t;

	for (uint64_t round = 0; round < 4; round++) {
		t = r;
		r = l ^ (uint32_t)siphash_u64(k, round << 32 | r);
		l = t;
	}
	return (uint64_t)l << 32 | r;
}

uint64_t fs_ino_public(const struct fs *fs, uint64_t ino)
{
	uint64_t v = feistel(fs->ino_key, ino);

	/* cycle-walking keeps it a permutation of the non-zero numbers */
	while (v == 0)
		v = feistel(fs->ino_key, v);
	return v;
}

int fs_ino_key_init(struct fs *fs)
{
	static const char label[] = "poolfs inode numbers";
	uint8_t secret[64], md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c;
	ssize_t len;
	int ok;

	/* the pool's own secret: numbers stay the same from mount to mount */
	len = store_secret(fs->store, "hash", secret, sizeof(secret));
	if (len < 0)
		return (int)len;
	c = EVP_MD_CTX_new();
	ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(c, label, sizeof(label)) == 1 &&
	     EVP_DigestUpdate(c, secret, (size_t)len) == 1 &&
	     EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == sizeof(md);
	EVP_MD_CTX_free(c);
	memset(secret, 0, sizeof(secret));
	if (!ok)
		return -EIO;
	memcpy(fs->ino_key, md, sizeof(fs->ino_key));
	memset(md, 0, sizeof(md));
	return 0;
}
