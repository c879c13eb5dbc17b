/*
 * tools/cmd_share_nfs.h - "poolctl share nfs": one NFS-Ganesha per
 * department, running as that department's account over the pool mount
 * (docs/shares.md, "NFSv4").
 */
#ifndef POOL_CMD_SHARE_NFS_H
#define POOL_CMD_SHARE_NFS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tools/ctl.h"

struct share_nfs_opts {
	const char *mnt;		/* the pool mount, absolute */
	const char *dept;		/* --dept: that department's config; NULL: the overview */
	const char *account;		/* --account: the user Ganesha runs as */
	const char *clients;		/* Ganesha Clients list */
	const char *sec;		/* Ganesha SecType */
	const char *bind;		/* --bind: Bind_Addr, or NULL */
	const char *state;		/* --state: Ganesha's own files, or NULL */
	const char *conf;		/* --conf: where the config goes, or NULL */
	uint64_t port;			/* NFS_Port */
	bool port_seen;
	bool unit;			/* --unit: the systemd unit, not the config */
};

/*
 * Appends to ctx->out, for the policy document doc in force (its
 * departments), either the overview of every department's export or
 * (o->dept) that department's Ganesha configuration or systemd unit.
 * Returns an exit code; a usage error's message is in ctx->err.
 */
int share_nfs(struct ctl_ctx *ctx, json_t *doc, const struct share_nfs_opts *o);

/* cmd_share.c: a value that cannot break out of a Samba or Ganesha quote */
bool share_conf_safe(const char *s);
/* cmd_share.c: a share name Samba, Windows and Ganesha take: letters, digits, - and _ */
bool share_name_ok(const char *s);

#endif
