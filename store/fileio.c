/*
 * store/fileio.c - pread()/pwrite() of whole buffers, for the staging
 * spill files, the packs and the audit journal, and fsync() by path.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

int store_pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int store_pwritev_full(int fd, struct iovec *iov, int cnt, uint64_t off)
{
	for (;;) {
		ssize_t n;

		for (; cnt > 0 && !iov->iov_len; iov++, cnt--)
			;
		if (!cnt)
			return 0;
		n = pwritev(fd, iov, cnt, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (uint64_t)n;
		for (; cnt > 0 && (size_t)n >= iov->iov_len; iov++, cnt--)
			n -= (ssize_t)iov->iov_len;
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
}

int store_pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	struct iovec v = { (void *)buf, len };

	return store_pwritev_full(fd, &v, 1, off);
}

int store_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}
