/*
 * tools/ctl_input.c - poolctl reads the FILE a command names, so the
 * daemon (root) never opens a path from a caller: the file is read with
 * the rights of whoever runs poolctl and travels as bytes in the request.
 */
#include "tools/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first non-option word after the command's own words, or NULL. */
static const char *file_arg(int argc, char **argv, int shift)
{
	bool only_positional = false;

	/* --help anywhere: the command prints its usage and reads nothing */
	for (int i = shift; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help"))
			return NULL;
	for (int i = shift; i < argc; i++) {
		if (!only_positional && !strcmp(argv[i], "--")) {
			only_positional = true;
			continue;
		}
		if (only_positional || argv[i][0] != '-' || !argv[i][1])
			return argv[i];
	}
	return NULL;
}

static int read_fd(int fd, const char *name, struct strbuf *out, struct perr *e)
{
	char why[128];
	ssize_t n;

	for (;;) {
		if (out->len > CTL_MAX_INPUT)
			return perr_set(e, EFBIG, "%s: larger than %u MiB", name, CTL_MAX_INPUT >> 20);
		strbuf_grow(out, 65536);
		n = read(fd, out->buf + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctl_strerror(-errno, why, sizeof(why));
			strbuf_setlen(out, out->len);
			return perr_set(e, errno, "%s: %s", name, why);
		}
		if (n == 0)
			break;
		strbuf_setlen(out, out->len + (size_t)n);
	}
	return 0;
}

int ctl_read_input(int argc, char **argv, struct strbuf *input, bool *has,
		   struct perr *e)
{
	const struct cmd *c;
	const char *name;
	struct stat st;
	char why[128];
	bool group;
	int shift, fd, rc;

	*has = false;
	c = cmd_find(argc, argv, &shift, &group);
	if (!c || !(c->flags & CMD_INPUT))
		return 0;
	name = file_arg(argc, argv, shift);
	if (!name)
		return 0;
	strbuf_reset(input);
	if (!strcmp(name, "-")) {
		rc = read_fd(STDIN_FILENO, "standard input", input, e);
		goto out;
	}
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ctl_strerror(-errno, why, sizeof(why));
		return perr_set(e, errno, "%s: %s", name, why);
	}
	if (fstat(fd, &st)) {
		ctl_strerror(-errno, why, sizeof(why));
		rc = perr_set(e, errno, "%s: %s", name, why);
		close(fd);
		return rc;
	}
	/* a pipe is fine (<(...)); a device or directory is a mistake */
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(fd);
		return perr_set(e, EINVAL, "%s: not a regular file", name);
	}
	rc = read_fd(fd, name, input, e);
	close(fd);
out:
	if (rc)
		return rc;
	*has = true;
	return 0;
}
