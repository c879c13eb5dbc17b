/*
 * tools/cmd_backup.h - "poolctl backup create|list|verify|restore|prune"
 * (tools/cmd_backup.c) and what poolctl does around a create.
 */
#ifndef POOL_CMD_BACKUP_H
#define POOL_CMD_BACKUP_H

#include "tools/ctl.h"

int cmd_backup_create(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_backup_list(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_backup_verify(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_backup_restore(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_backup_prune(struct ctl_ctx *ctx, int argc, char **argv);

/*
 * For a caller who is not root, through the daemon (which writes as
 * root): DEST must resolve to a directory owned by root that nobody else
 * may write, reached through directories only root may change (sticky
 * ones allowed), none on a FUSE file system or a medium a user brought
 * (tools/cmd_backup_dest.c). 0 with *real the resolved path (caller
 * frees), else the exit code of the error said in ctx.
 */
int backup_remote_dest(struct ctl_ctx *ctx, const char *dest, char **real);

struct backup_progress;		/* opaque */

/*
 * For poolctl, before it runs argv: when argv is "backup create ...
 * DEST", makes DEST absolute in argv (a daemon's working directory is not
 * the caller's) and, when stderr is a terminal, starts a thread that
 * shows on it how much has reached DEST. NULL for any other command.
 * backup_progress_stop() ends the line and frees; argv must stay as it
 * is until then.
 */
struct backup_progress *backup_progress_start(int argc, char **argv, const char *store_dir);
void backup_progress_stop(struct backup_progress *p);

#endif
