/*
 * tools/cmd_status.h - "poolctl status" (tools/cmd_status.c).
 */
#ifndef POOL_CMD_STATUS_H
#define POOL_CMD_STATUS_H

#include "tools/ctl.h"

int cmd_status(struct ctl_ctx *ctx, int argc, char **argv);

#endif
