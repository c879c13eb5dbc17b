#!/usr/bin/env python3
"""promcheck.py FILE [NAME{LABEL=VALUE,...}]...

Checks FILE against the Prometheus text exposition format as
node_exporter's textfile collector reads it, and prints the value of
each sample asked for (0 when absent, one per line). Exit 1 with a line
per problem when the format is wrong:
  - every line is "# HELP", "# TYPE" or "name{labels} value";
  - a family's "# TYPE" (counter, gauge, histogram) comes before its samples,
    once; counters end in _total; values parse as floats;
  - histograms: buckets cumulative (non-decreasing in le), a +Inf bucket
    equal to _count, per label set.
"""
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def labels_of(text):
    out = {}
    pos = 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError("bad labels: " + text)
        out[m.group(1)] = m.group(2)
        pos = m.end()
    return out


def family(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return name


def main():
    path = sys.argv[1]
    problems = []
    types = {}
    samples = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram"):
                problems.append("%d: bad TYPE line: %s" % (n, line))
            elif parts[2] in types:
                problems.append("%d: second TYPE for %s" % (n, parts[2]))
            else:
                types[parts[2]] = parts[3]
                if parts[3] == "counter" and not parts[2].endswith("_total"):
                    problems.append("%d: counter %s does not end in _total" % (n, parts[2]))
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("%d: not a sample: %r" % (n, line))
            continue
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        try:
            lab = labels_of(labels)
            val = float(value)
        except ValueError as e:
            problems.append("%d: %s" % (n, e))
            continue
        if family(name, types) not in types:
            problems.append("%d: sample of %s before its TYPE" % (n, name))
        samples.append((name, lab, val))
    # histograms
    for fam, t in types.items():
        if t != "histogram":
            continue
        groups = {}
        for name, lab, val in samples:
            if name == fam + "_bucket":
                key = tuple(sorted((k, v) for k, v in lab.items() if k != "le"))
                groups.setdefault(key, []).append((float(lab["le"]), val))
        for key, buckets in groups.items():
            prev = -1
            for le, v in buckets:
                if v < prev:
                    problems.append("%s%s: bucket le=%s below the one before" % (fam, key, le))
                prev = v
            inf = [v for le, v in buckets if le == float("inf")]
            count = [v for name, lab, v in samples if name == fam + "_count" and
                     tuple(sorted(lab.items())) == key]
            if not inf or not count or inf[0] != count[0]:
                problems.append("%s%s: +Inf bucket %s, count %s" % (fam, key, inf, count))
    for p in problems:
        print("FORMAT: " + p)
    if problems:
        sys.exit(1)
    for want in sys.argv[2:]:
        m = re.match(r'^([^{]+)(\{(.*)\})?$', want)
        name, lab = m.group(1), labels_of(m.group(3) or "")
        total = 0.0
        for sname, slab, val in samples:
            if sname == name and all(slab.get(k) == v for k, v in lab.items()):
                total += val
        print("%g" % total)


if __name__ == "__main__":
    main()
