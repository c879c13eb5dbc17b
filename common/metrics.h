/*
 * common/metrics.h - the daemon's counters for monitoring.
 *
 * Process-wide counters bumped where the work happens (fs/, store/) with
 * relaxed atomics: a counter is read only by the metrics writer, which
 * needs each value, not an order between them. fs/metrics.c writes them
 * in the Prometheus text format (docs/admin-guide.md "Monitoring").
 */
#ifndef POOL_METRICS_H
#define POOL_METRICS_H

#include <stdint.h>

#include "common/strbuf.h"

enum metric {
	METRIC_DENIALS,		/* requests refused (EACCES, EPERM) */
	METRIC_READ_BYTES,	/* bytes handed to readers */
	METRIC_WRITE_BYTES,	/* bytes accepted from writers */
	METRIC_COMMITS,		/* versions committed */
	METRIC_VIEW_BUILDS,	/* desensitized views built */
	METRIC_AUDIT_RECORDS,	/* audit records written */
	METRIC_NR
};

void metric_add(enum metric m, uint64_t n);
uint64_t metric_get(enum metric m);
/* One audit append that took ns nanoseconds, into the latency histogram. */
void metric_audit_latency(uint64_t ns);

/*
 * Appends the counters above and the audit latency histogram to sb,
 * with # HELP and # TYPE lines; labels ("mountpoint=\"/srv\"") go on
 * every sample and are already escaped.
 */
void metrics_format(struct strbuf *sb, const char *labels);

/* Appends s escaped for a label value (backslash, quote, newline). */
void metrics_escape(struct strbuf *sb, const char *s);

#endif
