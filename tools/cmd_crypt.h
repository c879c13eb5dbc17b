/*
 * tools/cmd_crypt.h - poolctl commands for encryption at rest and
 * integrity: key rotate, scrub, crypto (tools/cmd_crypt.c).
 */
#ifndef POOL_CMD_CRYPT_H
#define POOL_CMD_CRYPT_H

struct ctl_ctx;

int cmd_key_rotate(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_scrub(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_crypto(struct ctl_ctx *ctx, int argc, char **argv);

#endif
