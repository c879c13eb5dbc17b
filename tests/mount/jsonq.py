#!/usr/bin/env python3
"""tests/mount/jsonq.py - small queries on poolctl's --json output (stdin).

    jsonq.py count          number of entries of the list (the document, or
                            the first list found in an object, e.g.
                            {"versions": [...]})
    jsonq.py get KEY        the value of KEY, searched depth-first
    jsonq.py versions       one line per entry: "version size"
    jsonq.py valid          exit 0 when stdin is one JSON document

Exits 2 with a one-line message when stdin is not JSON or lacks the thing
asked for, so a test reports that instead of comparing an empty string.
"""
import json
import sys


def first_list(doc):
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for v in doc.values():
            if isinstance(v, list):
                return v
    return None


def find(doc, key):
    if isinstance(doc, dict):
        if key in doc:
            return doc[key]
        for v in doc.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(doc, list):
        for v in doc:
            r = find(v, key)
            if r is not None:
                return r
    return None


def main(argv):
    raw = sys.stdin.read()
    try:
        doc = json.loads(raw)
    except ValueError as e:
        print("not JSON (%s): %r" % (e, raw[:120]), file=sys.stderr)
        return 2
    if not argv or argv[0] == "valid":
        return 0
    if argv[0] == "count":
        lst = first_list(doc)
        if lst is None:
            print("no list in %r" % raw[:120], file=sys.stderr)
            return 2
        print(len(lst))
    elif argv[0] == "get":
        v = find(doc, argv[1])
        if v is None:
            print("no key %s in %r" % (argv[1], raw[:200]), file=sys.stderr)
            return 2
        print(v)
    elif argv[0] == "versions":
        lst = first_list(doc)
        if lst is None:
            print("no list in %r" % raw[:120], file=sys.stderr)
            return 2
        for e in lst:
            print(e.get("version", e.get("number", "?")), e.get("size", "?"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
