/*
 * store/convert_recover.c - the last step of encrypting a pool
 * (store/convert.c): once convert/READY exists, the new database and
 * the wrapped keys take the old ones' places. store_open() runs it, so
 * it is apart from the conversion and idempotent: a crash anywhere in
 * the swap leaves a pool the next open completes.
 */
#include "store/convert.h"
#include "store/convert_int.h"

#include "store/internal.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const secret_names[] = { "hash", "sign" };

/* POOLFS_TEST_ENCRYPT_KILL=STEP: SIGKILL at STEP, for tests/mount/t_crypt_convert.sh */
void conv_test_kill(const char *step)
{
	const char *env = getenv("POOLFS_TEST_ENCRYPT_KILL");

	if (env && !strcmp(env, step))
		raise(SIGKILL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

int conv_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

bool conv_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

int store_convert_recover(const char *dir, struct perr *e)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int ret = 0, done = 0;

	strbuf_addf(&a, "%s/convert/READY", dir);
	if (!conv_exists(a.buf))
		goto out;
	done = 1;
	/* each step is idempotent: a crash anywhere here is finished by the next open */
	strbuf_reset(&a);
	strbuf_addf(&a, "%s/convert/db", dir);
	if (conv_exists(a.buf)) {
		strbuf_addf(&b, "%s/convert", dir);
		ret = conv_ready_encrypted(dir, b.buf, e);
		if (ret)
			goto out;
		strbuf_reset(&b);
		strbuf_addf(&b, "%s/db", dir);
		if (conv_exists(b.buf)) {
			struct strbuf old = STRBUF_INIT;

			strbuf_addf(&old, "%s/db.plain", dir);
			ret = rename(b.buf, old.buf) ? -errno : 0;
			strbuf_release(&old);
			if (ret)
				goto fail;
			conv_test_kill("swap");
		}
		if (rename(a.buf, b.buf)) {
			ret = -errno;
			goto fail;
		}
	}
	for (size_t i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++) {
		strbuf_reset(&a);
		strbuf_reset(&b);
		strbuf_addf(&a, "%s/convert/keys/%s.key", dir, secret_names[i]);
		strbuf_addf(&b, "%s/keys/%s.key", dir, secret_names[i]);
		if (conv_exists(a.buf) && rename(a.buf, b.buf)) {
			ret = -errno;
			goto fail;
		}
	}
	strbuf_reset(&b);
	strbuf_addf(&b, "%s/keys", dir);
	if (store_fsync_path(b.buf) || store_fsync_path(dir)) {
		ret = -EIO;
		goto fail;
	}
	/* the plain database goes; its blocks stay on the disk until reused */
	strbuf_reset(&b);
	strbuf_addf(&b, "%s/db.plain", dir);
	ret = conv_rm_rf(b.buf);
	/* and its packs, which no locator of the new database names */
	strbuf_reset(&b);
	strbuf_addf(&b, "%s/packs", dir);
	if (!ret && conv_exists(b.buf))
		ret = conv_rm_rf(b.buf);
	if (ret)
		goto fail;
	strbuf_reset(&a);
	strbuf_addf(&a, "%s/convert/READY", dir);
	if (unlink(a.buf) && errno != ENOENT) {
		ret = -errno;
		goto fail;
	}
	strbuf_reset(&a);
	strbuf_addf(&a, "%s/convert", dir);
	ret = conv_rm_rf(a.buf);
	if (!ret)
		ret = store_fsync_path(dir);
	if (!ret) {
		ret = done;
		goto out;
	}
fail:
	ret = perr_set(e, -ret, "%s: cannot finish the conversion to an encrypted pool: %s",
		       dir, strerror(-ret));
out:
	strbuf_release(&a);
	strbuf_release(&b);
	return ret;
}
