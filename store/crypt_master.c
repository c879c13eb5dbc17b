/*
 * store/crypt_master.c - the master key of an encrypted pool: a key file
 * outside the store (32 random bytes, mode 0400, in a 0700 directory) or
 * a passphrase stretched by scrypt (store/crypt.h).
 */
#include "store/crypt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "common/alloc.h"
#include "common/codec.h"
#include "common/error.h"
#include "common/strbuf.h"

/* ---- master key files ---- */

int crypt_master_load(const char *path, uint8_t master[CRYPT_KEY_LEN], struct perr *e)
{
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return perr_set(e, errno, "key file \"%s\": %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size != CRYPT_KEY_LEN) {
		ret = perr_set(e, EINVAL, "key file \"%s\": not a key (expected %d bytes)",
			       path, CRYPT_KEY_LEN);
		goto out;
	}
	n = read(fd, master, CRYPT_KEY_LEN);
	if (n != CRYPT_KEY_LEN)
		ret = perr_set(e, n < 0 ? errno : EIO, "key file \"%s\": cannot read it", path);
out:
	close(fd);
	return ret;
}

/* mkdir -p of path's parent, new directories 0700. */
static int make_parents(const char *path)
{
	struct strbuf d = STRBUF_INIT;
	int ret = 0;

	strbuf_addstr(&d, path);
	for (char *p = d.buf + 1; *p && !ret; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d.buf, 0700) && errno != EEXIST)
			ret = -errno;
		*p = '/';
	}
	strbuf_release(&d);
	return ret;
}

int crypt_master_create(const char *path, uint8_t master[CRYPT_KEY_LEN], struct perr *e)
{
	int fd, ret;

	ret = make_parents(path);
	if (ret)
		return perr_set(e, -ret, "key file \"%s\": cannot make its directory: %s", path,
				strerror(-ret));
	if (RAND_bytes(master, CRYPT_KEY_LEN) != 1)
		return perr_set(e, EIO, "key file \"%s\": no random bytes for a key", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0)
		return errno == EEXIST ? -EEXIST :
		       perr_set(e, errno, "key file \"%s\": %s", path, strerror(errno));
	if (write(fd, master, CRYPT_KEY_LEN) != CRYPT_KEY_LEN || fsync(fd)) {
		ret = perr_set(e, errno ? errno : EIO, "key file \"%s\": %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return ret;
	}
	if (close(fd))
		return perr_set(e, errno, "key file \"%s\": %s", path, strerror(errno));
	return 0;
}

/* ---- passphrases ---- */

/* Beyond these an open would take seconds and gigabytes; no pool is made so. */
#define KDF_MAX_N	(1u << 20)
#define KDF_MAX_R	32
#define KDF_MAX_P	16

int crypt_kdf_new(struct crypt_kdf *k)
{
	if (RAND_bytes(k->salt, sizeof(k->salt)) != 1)
		return -EIO;
	k->n = CRYPT_SCRYPT_N;
	k->r = CRYPT_SCRYPT_R;
	k->p = CRYPT_SCRYPT_P;
	return 0;
}

int crypt_kdf_derive(const struct crypt_kdf *k, const void *pass, size_t len,
		     uint8_t master[CRYPT_KEY_LEN])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[7], *p = params;
	uint64_t n = k->n, maxmem;
	uint32_t r = k->r, par = k->p;
	int ret = -EIO;

	if (n < 2 || n > KDF_MAX_N || (n & (n - 1)) || !r || r > KDF_MAX_R || !par ||
	    par > KDF_MAX_P)
		return -EINVAL;
	/* what OpenSSL's scrypt allocates (B and V), with room to spare */
	maxmem = 128ull * r * (n + 2 + par) + (1u << 20);
	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SCRYPT, NULL);
	ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!ctx)
		goto out;
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)k->salt,
						 sizeof(k->salt));
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par);
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, master, CRYPT_KEY_LEN, params) == 1)
		ret = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}

int crypt_passphrase_read(const char *path, struct strbuf *out, struct perr *e)
{
	bool in = !strcmp(path, "-");
	char buf[4096];
	ssize_t n;
	int fd, ret = 0;

	strbuf_reset(out);
	fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return perr_set(e, errno, "passphrase file \"%s\": %s", path, strerror(errno));
	/* a passphrase is short; a file of megabytes is a mistake */
	while ((n = read(fd, buf, sizeof(buf))) > 0 && out->len < 65536)
		strbuf_add(out, buf, (size_t)n);
	if (n < 0)
		ret = perr_set(e, errno, "passphrase file \"%s\": %s", path, strerror(errno));
	else if (out->len >= 65536)
		ret = perr_set(e, EINVAL, "passphrase file \"%s\": too long", path);
	if (!in)
		close(fd);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!ret && out->len && out->buf[out->len - 1] == '\n')
		strbuf_setlen(out, out->len - 1);
	if (!ret && out->len && out->buf[out->len - 1] == '\r')
		strbuf_setlen(out, out->len - 1);
	if (!ret && !out->len)
		ret = perr_set(e, EINVAL, "passphrase file \"%s\": empty passphrase", path);
	return ret;
}
