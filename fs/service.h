/*
 * fs/service.h - the daemon as a system service: what it tells systemd
 * (sd_notify), the metrics file it keeps for monitoring, and what it
 * says about itself to `poolctl status` (docs/admin-guide.md).
 */
#ifndef POOL_FS_SERVICE_H
#define POOL_FS_SERVICE_H

#include "fs/fs.h"
#include "tools/ctl.h"

/*
 * Sends state ("READY=1", "STOPPING=1") to systemd when it started us
 * with a notify socket (Type=notify); nothing otherwise. Never fails
 * the daemon: a lost notice makes systemd time out, which it reports.
 */
void fs_service_notify(const char *state);

/*
 * Records what `poolctl status` reports about this mount; the strings
 * must live as long as the daemon. Call before fs_control_start().
 */
void fs_service_set_info(const char *mountpoint, const struct fs *fs, const char *metrics);
int fs_service_info(struct ctl_mount_info *out);

/*
 * The operations table with each operation counted by name for the
 * metrics; the wrappers call through inner, which must outlive them.
 */
const struct fuse_lowlevel_ops *fs_metrics_ops(const struct fuse_lowlevel_ops *inner);

/*
 * Writes the metrics to path (absolute) now, then every interval
 * seconds from a thread, each time to path.tmp renamed over path, so a
 * reader never sees half a file. Returns 0 or a negative errno with the
 * reason on stderr. fs_metrics_stop() writes a last snapshot.
 */
int fs_metrics_start(const char *path, unsigned interval);
void fs_metrics_stop(void);

#endif
