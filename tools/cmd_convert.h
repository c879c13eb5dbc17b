/*
 * tools/cmd_convert.h - poolctl's offline conversions: encrypt, key
 * reencrypt (tools/cmd_convert.c).
 */
#ifndef POOL_CMD_CONVERT_H
#define POOL_CMD_CONVERT_H

struct ctl_ctx;

int cmd_encrypt(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_key_reencrypt(struct ctl_ctx *ctx, int argc, char **argv);
/* The --reencrypt of key rotate, after the rotation; ctx->store is open. */
int cmd_key_rotate_reencrypt(struct ctl_ctx *ctx);

#endif
