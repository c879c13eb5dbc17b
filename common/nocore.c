/*
 * common/nocore.c - a crash of poolfs or poolctl leaves no core file.
 *
 * A core holds the process's memory: the data key and the audit keys
 * unsealed, raw versions and views being built, the spill key that
 * seals STORE/staging. Written where core_pattern says (the cwd, or
 * /var/lib/systemd/coredump, kept for days), it would give whoever
 * holds that disk what the encrypted store keeps from them. Both knobs
 * are set: PR_SET_DUMPABLE 0 stops a dump to a file outright, and the
 * limit 0 is what systemd-coredump and apport honour for a dump piped
 * to them when the host has set fs.suid_dumpable to 2.
 */
#include "common/nocore.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/log.h"

int nocore(void)
{
	const struct rlimit none = { 0, 0 };
	int err;

	if (setrlimit(RLIMIT_CORE, &none)) {
		err = errno;
		log_err("cannot set the core size limit to 0: %s", strerror(err));
		return -err;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		err = errno;
		log_err("cannot make the process undumpable: %s", strerror(err));
		return -err;
	}
	return 0;
}
