/*
 * store/status.h - what `poolctl status` reads from a store, each in
 * time that does not grow with the data: the audit head from memory,
 * the view cache from its use rows only.
 */
#ifndef POOL_STORE_STATUS_H
#define POOL_STORE_STATUS_H

#include <stdint.h>

struct store;

/* The last durable audit record: its seq (0: none yet), chain hash, time. */
struct store_audit_head {
	uint64_t seq;
	uint8_t hash[32];
	int64_t time_ns;
	char algo[16];			/* "sha256" or "sm3" */
};

int store_audit_head(struct store *s, struct store_audit_head *h);

/* Cached desensitized views and the bytes they hold; a scan of the views' use rows. */
int store_view_usage(struct store *s, uint64_t *views, uint64_t *bytes);

#endif
