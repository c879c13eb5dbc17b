/*
 * common/metrics.c - the counters of common/metrics.h and their text.
 */
#include "common/metrics.h"

#include <inttypes.h>

static uint64_t counters[METRIC_NR];

/* seconds; the last bucket is +Inf. A group commit waits for an fsync. */
static const char *const bucket_le[] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	"0.025", "0.05", "0.1", "0.25", "1", "+Inf"
};
static const uint64_t bucket_ns[] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	25000000, 50000000, 100000000, 250000000, 1000000000, UINT64_MAX
};
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))

_Static_assert(sizeof(bucket_le) / sizeof(bucket_le[0]) == NBUCKETS, "one name per bucket");

/* not cumulative here: the writer adds them up, so one append is one add */
static uint64_t latency_bucket[NBUCKETS];
static uint64_t latency_sum_ns;
static uint64_t latency_count;

static const struct {
	const char *name;
	const char *help;
} names[METRIC_NR] = {
	[METRIC_DENIALS] = { "poolfs_denials_total", "Requests refused by the policy or the mount (EACCES, EPERM)." },
	[METRIC_READ_BYTES] = { "poolfs_read_bytes_total", "Bytes returned to readers, desensitized or raw." },
	[METRIC_WRITE_BYTES] = { "poolfs_written_bytes_total", "Bytes accepted from writers." },
	[METRIC_COMMITS] = { "poolfs_commits_total", "Versions committed." },
	[METRIC_VIEW_BUILDS] = { "poolfs_view_builds_total", "Desensitized views built into the view cache." },
	[METRIC_AUDIT_RECORDS] = { "poolfs_audit_records_total", "Audit records written." },
};

void metric_add(enum metric m, uint64_t n)
{
	__atomic_add_fetch(&counters[m], n, __ATOMIC_RELAXED);
}

uint64_t metric_get(enum metric m)
{
	return __atomic_load_n(&counters[m], __ATOMIC_RELAXED);
}

void metric_audit_latency(uint64_t ns)
{
	size_t i = 0;

	while (ns > bucket_ns[i])
		i++;
	__atomic_add_fetch(&latency_bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&latency_sum_ns, ns, __ATOMIC_RELAXED);
	__atomic_add_fetch(&latency_count, 1, __ATOMIC_RELAXED);
}

void metrics_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			strbuf_addch(sb, '\\');
		if (*s == '\n')
			strbuf_addstr(sb, "\\n");
		else
			strbuf_addch(sb, *s);
	}
}

void metrics_format(struct strbuf *sb, const char *labels)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0, count, sum;

	for (int m = 0; m < METRIC_NR; m++) {
		strbuf_addf(sb, "# HELP %s %s\n# TYPE %s counter\n", names[m].name,
			    names[m].help, names[m].name);
		strbuf_addf(sb, "%s{%s} %" PRIu64 "\n", names[m].name, labels,
			    metric_get((enum metric)m));
	}
	/*
	 * The count is read first: appends landing meanwhile may make the
	 * buckets add up to more, never to less, so +Inf >= count holds.
	 */
	count = __atomic_load_n(&latency_count, __ATOMIC_RELAXED);
	sum = __atomic_load_n(&latency_sum_ns, __ATOMIC_RELAXED);
	strbuf_addstr(sb, "# HELP poolfs_audit_append_seconds Time an audit append "
		      "waited until its record was durable.\n"
		      "# TYPE poolfs_audit_append_seconds histogram\n");
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += __atomic_load_n(&latency_bucket[i], __ATOMIC_RELAXED);
		if (i == NBUCKETS - 1 && cum < count)
			cum = count;
		strbuf_addf(sb, "poolfs_audit_append_seconds_bucket{%s%sle=\"%s\"} %" PRIu64 "\n",
			    labels, sep, bucket_le[i], cum);
	}
	strbuf_addf(sb, "poolfs_audit_append_seconds_sum{%s} %.9f\n", labels, (double)sum / 1e9);
	strbuf_addf(sb, "poolfs_audit_append_seconds_count{%s} %" PRIu64 "\n", labels,
		    cum > count ? cum : count);
}
