#!/usr/bin/env python3
"""tests/mount/diffcheck.py - differential test of the desensitization
engine against Python's own readers, for t_diff.sh.

    diffcheck.py gen SEED DIR [--names]   policy.json, inputs and manifest
                                          in DIR for one round
    diffcheck.py write DIR MNT            (as the provider) copies the inputs
                                          into their entries, waits for commit
    diffcheck.py read DIR MNT             (as the grantee) reads every view
                                          into DIR/views/NAME (or NAME.err)
    diffcheck.py check DIR FAILDIR        compares; failing cases go to FAILDIR

Inputs are random CSV, TSV and JSON Lines files: LF, CR and CRLF line ends
mixed, quotes, doubled quotes, embedded line ends, a BOM or not, UTF-8 or
GB18030, 18-digit ID numbers and phone numbers, JSON fields nested in
objects and arrays, and now and then the things readers split
differently (a CR inside an unquoted field carrying a whole row, blanks
before a quote, text after a closing quote, a blank or "sep=" first line,
quoted TSV). The rules (one grant per entry) mask, drop and filter at
random.

Properties, with the input read the way Python reads it (csv.reader over
open(newline=''); for TSV also the quote-literal reading of cut/awk; for
JSON Lines both Python's universal newlines and a split at LF):
  (a) the engine refused the file (EIO), or every record of the view is
      exactly the masked, filtered record of the input, and the view reads
      the same in every reading;
  (b) no raw ID or phone number of a masked or dropped field, nor of a
      filtered-out record, appears anywhere in the view's bytes;
and where the readings of the input disagree, the engine must refuse.

The expected view follows docs/desensitization.md ("Formats", "Names and
filter values"): header names and JSON keys are the rules' fields once
normalized (NFC, then surrounding whitespace removed: str.isspace(), U+200B,
U+FEFF), at any depth in JSON; filter values compare normalized the same
way, in NFC for eq, in and prefix and in NFKC for ne.

--names (t_diff.sh passes it unless DIFF_NAMES=0) also spells field names
padded and in NFD, and filter values on both sides padded, in NFD, full
width or with a CJK compatibility ideograph, and now and then writes one
name twice in different spellings.
"""
import csv
import errno
import io
import json
import os
import random
import re
import shutil
import sys
import time
import unicodedata

DEPTS = {"provider": ("gongan", 1001, 2001), "reader": ("renshe", 1002, 2002)}
ENTRIES = [  # (dir name, code, format, encoding)
    ("csv8", "341800-DF-0001", "csv", "utf-8"),
    ("csvgb", "341800-DF-0002", "csv", "gb18030"),
    ("tsv8", "341800-DF-0003", "tsv", "utf-8"),
    ("tsvgb", "341800-DF-0004", "tsv", "gb18030"),
    ("jsonl8", "341800-DF-0005", "jsonl", "utf-8"),
    ("jsonlgb", "341800-DF-0006", "jsonl", "gb18030"),
]
ROOT = "/差分测试"
FIELDS = [("身份证号", "id_card"), ("手机号", "phone"), ("姓名", "name"),
          ("住址", "address"), ("区县", "region"), ("备注", "text"),
          ("Ünterschrift", "name")]
TAG_MASK = {"id_card": "id_card", "phone": "phone", "name": "name",
            "address": "address"}
EXTRA = ["编号", "说明"]
REGIONS = ["宣州区", "郎溪县", "广德市", "宁国市", "泾县", "宣州区 "]
# with --names also values with letters, so that NFD and full-width spellings
# of them differ from the plain ones (CJK has no NFD; 郎 has U+F92C)
REGIONS_X = REGIONS[:5] + ["Zürich区", "ABC开发区"]
SURN = "张王李赵刘陈杨黄欧阳"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀"
MASKS = ["none", "redact", "drop", "name", "phone", "id_card", "address",
         "hash", "keep(0,0)", "keep(1,1)", "keep(2,3)", "keep(3,4)", "keep(6,4)"]


# What the engine trims around names and filter values: Python's
# str.isspace(), plus U+200B and U+FEFF (policy/desens/nfc_table.h, nfc_space_tab).
# No white space lies above U+3000.
SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\u200b\ufeff"


def norm(s, form="NFC"):
    """A name or filter value as the engine compares it: the normal form,
    then its surrounding whitespace removed (the engine trims after
    normalizing, so NFKC's space in U+00B4 at an end goes too)."""
    return unicodedata.normalize(form, s).strip(SPACE)


# ---- masks (DESIGN.md "Masks", docs/desensitization.md) ---------------

def keep(s, f, l):
    n = len(s)
    if n == 0:
        return ""
    if n <= f + l:
        return "*" * n
    return s[:f] + "*" * (n - f - l) + (s[n - l:] if l else "")


def apply_mask(m, s):
    """The masked value, or None for hash (checked by shape)."""
    if m == "none":
        return s
    if m == "redact":
        return ""
    if m == "hash":
        return None
    if m == "id_card":
        if len(s) == 18:
            return keep(s, 6, 4)
        if len(s) == 15:
            return keep(s, 6, 3)
        return "*" * len(s)
    k = {"name": (1, 0), "phone": (3, 4), "address": (6, 0), "bank_card": (6, 4)}
    if m in k:
        return keep(s, *k[m])
    mt = re.fullmatch(r"keep\((\d+),(\d+)\)", m)
    assert mt, m
    return keep(s, int(mt.group(1)), int(mt.group(2)))


def value_ok(m, raw, got):
    want = apply_mask(m, raw)
    if want is None:
        return got == "" if raw == "" else re.fullmatch(r"[0-9a-f]{64}", got or "") is not None
    return got == want


# ---- the rules of one grant, as a reader of DESIGN.md computes them ----

class Rules:
    def __init__(self, grant):
        self.fields = grant.get("fields")
        self.masks = grant.get("masks", {})
        self.rows = grant.get("rows")
        self.tags = dict(FIELDS)

    def action(self, name):
        """'drop', or the mask of a kept column ('none': raw)."""
        name = norm(name)
        if self.fields is not None and name not in self.fields:
            return "drop"
        if name not in self.tags:
            return "none"
        return self.masks.get(name, TAG_MASK.get(self.tags[name], "none"))

    def filtered_names(self):
        out = set()

        def walk(c):
            for k, v in c.items():
                if k in ("all", "any"):
                    for s in v:
                        walk(s)
                else:
                    out.add(k)
        if self.rows:
            walk(self.rows)
        return out

    def slots(self):
        """Names the engine knows (policy/viewbuild.c, desens.c): every
        listed field when the grant lists fields, else the masked ones,
        and the filtered ones. Only these are checked for duplicates and
        depth in JSON."""
        out = set(self.filtered_names())
        for name in self.tags:
            if self.fields is not None and name not in self.fields:
                continue
            if self.fields is not None or self.action(name) != "none":
                out.add(name)
        return out

    def needed(self):
        """Names that must be present: masked (not none/drop) or filtered."""
        need = set(self.filtered_names())
        for name in self.tags:
            if self.fields is not None and name not in self.fields:
                continue
            if self.action(name) not in ("none", "drop"):
                need.add(name)
        return need

    def passes(self, get):
        """get(name) -> str or None (missing, null)."""
        def ev(c):
            ok = True
            for k, v in c.items():
                if k == "all":
                    ok = ok and all(ev(s) for s in v)
                elif k == "any":
                    ok = ok and any(ev(s) for s in v)
                else:
                    x = get(k)
                    # both sides trimmed; eq, in, prefix in NFC, ne in NFKC
                    for op, arg in v.items():
                        if x is None:
                            ok = False
                        elif op == "eq":
                            ok = ok and norm(x) == norm(arg)
                        elif op == "ne":
                            ok = ok and norm(x, "NFKC") != norm(arg, "NFKC")
                        elif op == "in":
                            ok = ok and norm(x) in [norm(a) for a in arg]
                        elif op == "prefix":
                            ok = ok and norm(x).startswith(norm(arg))
            return ok
        return ev(self.rows) if self.rows else True


# ---- generation ------------------------------------------------------

NAMES = False


def gen_grant(r, fmt):
    names = [f for f, _ in FIELDS]
    g = {}
    if r.random() < 0.5:
        g["fields"] = [n for n in names if r.random() < 0.7] or [names[0]]
    pool = g.get("fields", names)
    masks = {}
    for n in pool:
        if r.random() < 0.5:
            masks[n] = r.choice(MASKS)
    if masks:
        g["masks"] = masks

    def leaf():
        f = r.choice(["区县", "区县", "区县", "姓名", "备注"])
        op = r.choice(["eq", "ne", "in", "prefix"])
        if f == "区县":
            v = r.choice(REGIONS_X if NAMES else REGIONS[:5])
            if op == "in":
                return {f: {op: [spell_value(r, x, True) for x in
                                 r.sample(REGIONS_X + REGIONS[5:] if NAMES else REGIONS,
                                          r.randint(1, 3))]}}
            if op == "prefix":
                v = v[:r.randint(1, 2)]
            return {f: {op: spell_value(r, v, True)}}
        if f == "姓名":
            return {f: {op: [spell_value(r, r.choice(SURN), True)] if op == "in"
                        else spell_value(r, r.choice(SURN), True)}}
        return {f: {op: ["x"] if op == "in" else spell_value(r, "#", True)}}
    x = r.random()
    if x < 0.35:
        g["rows"] = leaf()
    elif x < 0.55:
        g["rows"] = {r.choice(["all", "any"]): [leaf() for _ in range(r.randint(1, 3))]}
    return g


def gen_policy(r):
    cat, grants = [], []
    for i, (d, code, fmt, enc) in enumerate(ENTRIES):
        cat.append({"path": ROOT + "/" + d, "code": code, "title": "差分 " + d,
                    "provider": "gongan", "share": "conditional", "open": "none",
                    "level": 3, "update_cycle": "daily", "format": fmt,
                    "encoding": enc,
                    "fields": [{"name": n, "tag": t} for n, t in FIELDS]})
        g = gen_grant(r, fmt)
        g.update({"id": "d%d" % (i + 1), "entry": code, "department": "renshe",
                  "actions": ["read"], "valid_from": "2026-01-01",
                  "valid_until": "2099-01-01", "purpose": "差分测试"})
        grants.append(g)
    return {"version": 1,
            # root, a department member below, needs no role to apply locally,
            # and a role holder is no member (separation of duties)
            "roles": {"security_admin": {"uids": [1500]}, "auditor": {"uids": [1501]},
                      "system_admin": {"uids": [1502]}},
            "departments": [
                {"id": "gongan", "name": "市公安局", "members": {"uids": [1001], "gids": [2001]}},
                {"id": "renshe", "name": "市人社局", "members": {"uids": [1002], "gids": [2002]}},
                # root (the test itself) must reach the mount's root
                {"id": "shuju", "name": "市数据资源局", "members": {"gids": [0]}}],
            "catalog": cat, "grants": grants}


class Gen:
    def __init__(self, r):
        self.r = r
        self.n = 0

    def uid(self):
        self.n += 1
        return self.n

    def idno(self):
        r = self.r
        s = "%s%04d%02d%02d%03d" % (r.choice(["341802", "341821", "110101", "440305"]),
                                    r.randint(1950, 2010), r.randint(1, 12),
                                    r.randint(1, 28), self.uid() % 1000)
        s += r.choice("0123456789X")
        x = r.random()
        if x < 0.05:
            return s[:6] + s[8:17]		# 15-digit
        if x < 0.08:
            return ""
        return s

    def phone(self):
        return "1%d%09d" % (self.r.randint(3, 9), (self.uid() * 7919 + self.r.randrange(10**6)) % 10**9)

    def name(self):
        r = self.r
        s = r.choice(["张", "王", "李", "欧阳", "赵"]) + "".join(r.choice(GIVEN) for _ in range(r.randint(1, 2)))
        if r.random() < 0.05:
            s += r.choice(['"', ",", "\n", "\r\n", " ", "\t"]) + r.choice(GIVEN)
        return s

    def free(self):
        r = self.r
        s = "#%d" % self.uid()
        for _ in range(r.randint(0, 6)):
            s += r.choice(["a", "b", " ", ",", '"', '""', "\n", "\r\n", "\r", "\t", "中",
                           "'", ";", "\u2028", "é", "sep=", "\ufeff"])
        return s

    def value(self, name):
        r = self.r
        if name == "身份证号":
            return self.idno()
        if name == "手机号":
            return self.phone()
        if name in ("姓名", "Ünterschrift"):
            return self.name()
        if name == "住址":
            return "宣城市%s,%s路%d号" % (r.choice(REGIONS[:5]), r.choice(["鳌峰", "梅园"]), r.randint(1, 99))
        if name == "区县":
            if NAMES:
                return spell_value(r, r.choice(REGIONS_X + REGIONS[5:]))
            return r.choice(REGIONS)
        if name == "备注" and NAMES and r.random() < 0.2:
            return r.choice(PAD) + self.free()
        return self.free()


# what a writer leaves around a name or value: the engine trims all of it
PAD = ["", " ", "  ", "\u3000", "\xa0", "\u2003", "\u200b", "\ufeff", "\t"]


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def spell(r, name):
    """A field name as a header or key writes it (--names: padded, NFD)."""
    if not NAMES or r.random() < 0.5:
        return name
    s = unicodedata.normalize("NFD", name) if r.random() < 0.5 else name
    return r.choice(PAD) + s + r.choice(PAD)


def spell_value(r, v, rule=False):
    """A value as a file or a filter may spell it (--names): padded, NFD,
    full-width, with a CJK compatibility ideograph. Full-width is another
    value for eq, in and prefix, the same one for ne."""
    if not NAMES or r.random() < 0.5:
        return v
    x = r.random()
    if x < 0.3:
        v = unicodedata.normalize("NFD", v)
    elif x < 0.5:
        v = fullwidth(v)
    elif x < 0.6:
        v = v.replace("郎", "\uf92c")
    if r.random() < 0.6:
        # a policy holds no control characters (poolctl refuses them)
        pad = [p for p in PAD if p != "\t"] if rule else PAD
        v = r.choice(pad) + v + r.choice(pad)
    return v


def columns(r, rules):
    names = [f for f, _ in FIELDS]
    cols = [n for n in names if r.random() < 0.8] + [e for e in EXTRA if r.random() < 0.3]
    # most files name every field the rules need, so that most are read
    if r.random() < 0.9:
        for n in sorted(rules.needed()):
            if n not in cols:
                cols.append(n)
    if not cols:
        cols = ["编号"]
    if r.random() < 0.05:
        cols = cols[:1]			# one column: an empty value is no blank line
    r.shuffle(cols)
    return cols


def nested(r, g, rules, depth):
    """A JSON value holding fields below the top level: an object, or an
    array of objects, with some of the catalog's names in it (seldom a
    filtered one: that refuses the file wherever the engine looks)."""
    o = {"内": g.free()}
    for n in r.sample([f for f, _ in FIELDS], r.randint(0, 3)):
        if n in rules.filtered_names() and r.random() < 0.8:
            continue
        o[spell(r, n)] = g.value(n)
    if depth < 2 and r.random() < 0.3:
        o["子"] = [nested(r, g, rules, depth + 1) for _ in range(r.randint(1, 2))]
    return o if r.random() < 0.7 else [o, 1, "x"]


def eol(r, fmt):
    x = r.random()
    if fmt == "csv":
        return "\n" if x < 0.4 else "\r\n" if x < 0.7 else "\r"
    if x < 0.03:
        return "\r"			# readers disagree: refused
    return "\n" if x < 0.6 else "\r\n"


def csv_field(r, v, nasty):
    need = any(c in v for c in ',"\r\n') or v[:1] == " " and '"' in v
    x = r.random()
    if nasty and x < 0.03:
        return v				# unquoted whatever it holds
    if nasty and x < 0.05:
        return ' "' + v.replace('"', '""') + '"'
    if nasty and x < 0.07:
        return '"' + v.replace('"', '""') + '" '
    if need or x < 0.3:
        return '"' + v.replace('"', '""') + '"'
    return v


def tsv_field(r, v, nasty):
    x = r.random()
    if nasty and x < 0.04:
        return '"' + v.replace('"', '""') + '"'	# Excel's tab dialect
    if nasty and x < 0.06:
        return v
    v = re.sub(r"[\t\r\n]", " ", v)
    if v.lstrip(" ")[:1] == '"':
        v = "x" + v
    return v


def gen_file(r, g, rules, fmt):
    nasty = r.random() < 0.35
    rows = r.randint(0, 20)
    bom = "\ufeff" if r.random() < 0.3 else ""
    out = []
    # fields nested in objects and arrays (JSON); with --names now and then
    # a name twice, in one spelling or another
    dup = NAMES and r.random() < 0.05
    deep = r.random() < 0.3
    if fmt == "jsonl":
        for i in range(rows):
            keys = columns(r, rules)
            o = {}
            for k in keys:
                v = g.value(k)
                if k == "手机号" and r.random() < 0.3:
                    v = int(v)
                if k == "区县" and r.random() < 0.05:
                    v = None
                if k == "编号" and r.random() < 0.2:
                    v = {"内": g.free(), "n": [1, 2]}
                if deep and k in EXTRA and r.random() < 0.3:
                    v = nested(r, g, rules, 0)
                if deep and k in ("手机号", "身份证号", "姓名") and r.random() < 0.1:
                    v = [g.value(k), None, [g.value(k)]]
                if deep and k in ("备注", "住址") and r.random() < 0.1:
                    v = nested(r, g, rules, 0)	# a listed field holding objects
                o[spell(r, k)] = v
            if dup and i == 0:
                # another spelling of a key already there
                k = r.choice(list(o))
                o[k + r.choice(["\u3000", " "])] = g.value(norm(k))
            sep = r.choice([(",", ":"), (", ", ": "), (" ,", " : ")])
            line = json.dumps(o, ensure_ascii=r.random() < 0.3, separators=sep)
            if r.random() < 0.1:
                line = r.choice([" ", "\t"]) + line + r.choice(["", " "])
            out.append(line + eol(r, fmt))
            if r.random() < 0.05:
                out.append(r.choice(["\n", "\r\n", " \n"]))
        text = bom + "".join(out)
        if text.endswith("\n") and r.random() < 0.2:
            text = text.rstrip("\r\n")
        return text
    cols = columns(r, rules)
    if dup:
        cols.append(r.choice(cols))
    field = csv_field if fmt == "csv" else tsv_field
    delim = "," if fmt == "csv" else "\t"
    if nasty and r.random() < 0.05:
        out.append(r.choice(["\n", "sep=,\n", " \r\n"]))
    e = eol(r, fmt)
    # one line end for the whole file, as most writers do (old Mac: CR)
    same = r.random() < 0.5
    if fmt == "csv" and r.random() < 0.2:
        e = "\r"
    out.append(delim.join(field(r, spell(r, c), False) for c in cols) + e)
    for _ in range(rows):
        vals = [g.value(c) for c in cols]
        if nasty and r.random() < 0.1:
            # a CR or LF inside an unquoted field that carries a whole row
            smug = [g.value(c) for c in cols]
            i = r.randrange(len(cols))
            vals[i] = vals[i] + r.choice(["\r", "\n", "\r\n"]) + delim.join(smug)
            line = delim.join(field(r, v, False) if j != i else v for j, v in enumerate(vals))
        else:
            line = delim.join(field(r, v, nasty) for v in vals)
        if not same and r.random() < 0.3:
            e = eol(r, fmt)
        out.append(line + e)
        if r.random() < 0.04:
            out.append(r.choice(["\n", "\r\n", "\r"]) if fmt == "csv" else "\n")
    text = bom + "".join(out)
    if r.random() < 0.2:
        text = text.rstrip("\r\n")
    return text


def cmd_gen(seed, d):
    r = random.Random(seed)
    pol = gen_policy(r)
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    json.dump(pol, open(os.path.join(d, "policy.json"), "w", encoding="utf-8"),
              ensure_ascii=False, indent=1)
    g = Gen(r)
    man = {"seed": seed, "names": NAMES, "files": []}
    for i, (ed, code, fmt, enc) in enumerate(ENTRIES):
        rules = Rules(pol["grants"][i])
        for k in range(int(os.environ.get("DIFF_FILES", "12"))):
            name = "%s_%d_%d.%s" % (ed, seed, k, fmt)
            text = gen_file(r, g, rules, fmt)
            data = text.encode(enc)
            open(os.path.join(d, "in", name), "wb").write(data)
            man["files"].append({"name": name, "entry": ed, "grant": i, "fmt": fmt, "enc": enc})
    json.dump(man, open(os.path.join(d, "manifest.json"), "w"), ensure_ascii=False, indent=1)


# ---- the provider writes, the grantee reads --------------------------

def cmd_write(d, mnt):
    man = json.load(open(os.path.join(d, "manifest.json")))
    for f in man["files"]:
        dst = os.path.join(mnt + ROOT, f["entry"], f["name"])
        with open(os.path.join(d, "in", f["name"]), "rb") as src, open(dst, "wb") as o:
            o.write(src.read())
    # the commit runs in FUSE's release, after close() returned
    for f in man["files"]:
        if not os.path.getsize(os.path.join(d, "in", f["name"])):
            continue			# an empty file may have no version
        v = os.path.join(mnt + ROOT, f["entry"], ".versions", f["name"], "1")
        for _ in range(200):
            if os.path.exists(v):
                break
            time.sleep(0.05)
        else:
            sys.exit("version 1 of %s did not appear" % f["name"])


def cmd_read(d, mnt):
    man = json.load(open(os.path.join(d, "manifest.json")))
    vd = os.path.join(d, "views")
    for f in man["files"]:
        p = os.path.join(mnt + ROOT, f["entry"], f["name"])
        out = os.path.join(vd, f["name"])
        try:
            fd = os.open(p, os.O_RDONLY)
            try:
                size = os.fstat(fd).st_size
                data = b""
                while True:
                    b = os.read(fd, 1 << 20)
                    if not b:
                        break
                    data += b
            finally:
                os.close(fd)
        except OSError as e:
            open(out + ".err", "w").write(errno.errorcode.get(e.errno, str(e.errno)))
            continue
        open(out, "wb").write(data)
        if size != len(data):
            open(out + ".size", "w").write("st_size %d, read %d bytes" % (size, len(data)))


# ---- the check -------------------------------------------------------

class Refuse(Exception):
    """The engine must refuse this input."""


def decode(data, enc):
    text = data.decode(enc)		# the generator only writes valid text
    return text[1:] if text.startswith("\ufeff") else text


def read_csv(text, delim):
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))


def read_literal_tsv(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l[:-1].split("\t") if l.endswith("\r") else l.split("\t") for l in lines]


def readings_table(text, fmt):
    """The records of text in every reading; Refuse when they differ."""
    first = read_csv(text, "," if fmt == "csv" else "\t")
    if first and (first[0] == [] or (len(first[0]) == 1 and first[0][0].strip(" \t") == "")):
        raise Refuse("blank first line")
    if text[:4].lower() == "sep=":
        raise Refuse("sep= first line")
    a = [x for x in first if x != []]
    if fmt == "tsv":
        b = [x for x in read_literal_tsv(text) if x != [""]]
        if a != b:
            raise Refuse("TSV readings differ")
    return a


def expect_table(text, fmt, rules, bom):
    """(header, rows, secrets) of the view the rules make of text (bom:
    the input began with one)."""
    recs = readings_table(text, fmt)
    if not recs:
        return [], [], set()
    head, body = recs[0], recs[1:]
    acts = [rules.action(h) for h in head]
    names = [norm(h) for h in head]
    for n in rules.needed():
        if n not in names:
            raise Refuse("field %s not in the header" % n)
    for n in rules.slots():
        if names.count(n) > 1:
            raise Refuse("field %s twice in the header" % n)
    want_head = [h for h, a in zip(head, acts) if a != "drop"]
    # the header as written, to see which name the view would begin with
    line = re.split("[\r\n]", text, 1)[0].split("," if fmt == "csv" else "\t")
    if not bom and len(line) == len(head) and acts[0] == "drop":
        first = [f for f, a in zip(line, acts) if a != "drop"]
        if first and first[0].startswith("\ufeff"):
            raise Refuse("the view would start with U+FEFF, read as a BOM")
    rows, secrets = [], set()
    for rec in body:
        if len(rec) != len(head):
            raise Refuse("record has %d fields, header %d" % (len(rec), len(head)))
        vals = {}
        for n, v in zip(names, rec):
            vals.setdefault(n, v)
        keep = rules.passes(lambda k: vals.get(k))
        for v, a in zip(rec, acts):
            if not keep or a != "none":
                secrets |= sensitive(v)
        if keep:
            rows.append([(a, v) for v, a in zip(rec, acts) if a != "drop"])
    return want_head, rows, secrets


def sensitive(v):
    """The ID and phone numbers in a value (what must never leak)."""
    if not isinstance(v, str):
        v = json.dumps(v, ensure_ascii=False)
    return set(re.findall(r"\d{17}[\dX]|\d{15}|1\d{10}", v))


def readings_jsonl(text):
    out = []
    # Python's open() (universal newlines), and pandas' split at LF
    for lines in (list(io.StringIO(text, newline=None)), text.split("\n")):
        objs = []
        for l in lines:
            if l.strip(" \t\r\n") == "":
                continue
            try:
                objs.append(json.loads(l))
            except ValueError as e:
                raise Refuse("malformed JSON line: %s" % e)
        out.append(objs)
    if out[0] != out[1]:
        raise Refuse("JSON Lines readings differ")
    for o in out[0]:
        if not isinstance(o, dict):
            raise Refuse("not an object")
    return out[0]


def jtext(v):
    """A JSON scalar's text as the engine masks it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    return json.dumps(v)


def jkeep(rules, v, secrets):
    """What a kept value becomes: objects and arrays are walked."""
    if isinstance(v, dict):
        return jobject(rules, v, False, secrets, {})
    if isinstance(v, list):
        return ("arr", [jkeep(rules, x, secrets) for x in v])
    return ("raw", v)


def jmask(a, v):
    """What a value under mask a becomes: every scalar masked, null kept."""
    if v is None:
        return ("raw", None)
    if isinstance(v, dict):
        raise Refuse("an object under a masked key")
    if isinstance(v, list):
        return ("arr", [jmask(a, x) for x in v])
    return ("mask", a, jtext(v))


def jproj(rules, v, secrets, found):
    """Under a field list, what an unlisted object or array becomes: the way
    to the listed fields kept inside it (found[0] set), scalars removed;
    docs/desensitization.md, "Formats"."""
    if isinstance(v, dict):
        return jobject(rules, v, False, secrets, {}, found)
    out = []
    for x in v:
        if isinstance(x, (dict, list)):
            t = jway(rules, x, secrets)
            if t is not None:
                out.append(t)
                found[0] = True
        else:
            secrets |= sensitive(x)
    return ("arr", out)


def jway(rules, v, secrets):
    """jproj's tree of v, or None when no listed field is kept inside (then
    all of v is removed)."""
    inner, found = set(), [False]
    t = jproj(rules, v, inner, found)
    if not found[0]:
        secrets |= sensitive(v)
        return None
    secrets |= inner
    return t


def jobject(rules, o, top, secrets, fvals, found=None):
    """The want tree of object o (docs/desensitization.md, "Formats"): a
    field is its key normalized, at any depth; the top-level scalars of
    filtered fields go to fvals; found[0] is set when a listed field is
    kept."""
    slots, filt = rules.slots(), rules.filtered_names()
    seen, out = set(), []
    for k, v in o.items():
        n = norm(k)
        if n in slots:
            if n in seen:
                raise Refuse("field %s twice in one object" % n)
            seen.add(n)
            if not top and n in filt:
                raise Refuse("filtered field %s below the top level" % n)
            if top and n in filt and v is not None and not isinstance(v, (dict, list)):
                fvals[n] = jtext(v)
        a = rules.action(n)
        unlisted = rules.fields is not None and n not in rules.fields
        if unlisted and isinstance(v, (dict, list)):
            t = jway(rules, v, secrets)
            if t is not None:
                out.append((k, t))
                if found is not None:
                    found[0] = True
            continue
        if a != "none":
            secrets |= sensitive(v)
        # inside a removed or redacted member only the syntax counts
        if a == "drop":
            continue
        if rules.fields is not None and found is not None:
            found[0] = True
        if a == "redact":
            out.append((k, ("redact",)))	# null included: the whole value ""
        elif a == "none":
            out.append((k, jkeep(rules, v, secrets)))
        else:
            out.append((k, jmask(a, v)))
    return ("obj", out)


def expect_jsonl(text, rules):
    objs = readings_jsonl(text)
    want, secrets = [], set()
    for o in objs:
        fvals = {}
        w = jobject(rules, o, True, secrets, fvals)
        if rules.passes(fvals.get):
            want.append(w)
        else:
            secrets |= sensitive(o)
    return want, secrets


def compare_table(view_text, fmt, head, rows):
    if fmt == "csv":
        got = [x for x in read_csv(view_text, ",") if x != []]
    else:
        got = [x for x in read_csv(view_text, "\t") if x != []]
        lit = [x for x in read_literal_tsv(view_text) if x != [""]]
        if got != lit:
            return "the view reads differently as excel-tab and as literal TSV"
    if not head:
        return None if not got else "view has records, input none"
    if not got or got[0] != head:
        return "header %r, want %r" % (got[0] if got else None, head)
    body = got[1:]
    if len(body) != len(rows):
        return "%d records in the view, want %d" % (len(body), len(rows))
    for i, (g, w) in enumerate(zip(body, rows)):
        if len(g) != len(w):
            return "record %d: %d fields, want %d: %r" % (i + 1, len(g), len(w), g)
        for j, (gv, (a, raw)) in enumerate(zip(g, w)):
            if not value_ok(a, raw, gv):
                return "record %d field %d (%s): %r, want %s of %r" % (i + 1, j + 1, head[j], gv, a, raw)
    return None


def jcompare(where, g, w):
    kind = w[0]
    if kind == "obj":
        keys = [k for k, _ in w[1]]
        if not isinstance(g, dict) or list(g) != keys:
            return "%s: keys %r, want %r" % (where, list(g) if isinstance(g, dict) else g, keys)
        for k, sub in w[1]:
            why = jcompare("%s key %s" % (where, k), g[k], sub)
            if why:
                return why
    elif kind == "arr":
        if not isinstance(g, list) or len(g) != len(w[1]):
            return "%s: %r, want an array of %d" % (where, g, len(w[1]))
        for i, (gv, sub) in enumerate(zip(g, w[1])):
            why = jcompare("%s[%d]" % (where, i), gv, sub)
            if why:
                return why
    elif kind == "raw":
        if gv_differs(g, w[1]):
            return "%s: %r, want raw %r" % (where, g, w[1])
    elif kind == "redact":
        if g != "":
            return "%s: %r, want \"\" (redact)" % (where, g)
    elif not isinstance(g, str) or not value_ok(w[1], w[2], g):
        return "%s: %r, want %s of %r" % (where, g, w[1], w[2])
    return None


def gv_differs(g, raw):
    return type(g) is not type(raw) or g != raw


def compare_jsonl(view_text, want):
    got = []
    for l in view_text.split("\n"):
        if l.strip(" \t\r") == "":
            continue
        try:
            got.append(json.loads(l))
        except ValueError as e:
            return "view line not JSON: %s: %r" % (e, l[:80])
    if len(got) != len(want):
        return "%d records in the view, want %d" % (len(got), len(want))
    for i, (g, w) in enumerate(zip(got, want)):
        why = jcompare("record %d" % (i + 1), g, w)
        if why:
            return why
    return None


STATS = {"owed": 0, "unowed": []}


def check_one(d, man, f, pol):
    rules = Rules(pol["grants"][f["grant"]])
    data = open(os.path.join(d, "in", f["name"]), "rb").read()
    vp = os.path.join(d, "views", f["name"])
    refused = os.path.exists(vp + ".err")
    if refused:
        err = open(vp + ".err").read()
        if err != "EIO":
            return "read failed with %s (only EIO is a refusal)" % err
    elif os.path.exists(vp + ".size"):
        return open(vp + ".size").read()
    text = decode(data, f["enc"])
    try:
        if f["fmt"] == "jsonl":
            want, secrets = expect_jsonl(text, rules)
        else:
            head, rows, secrets = expect_table(text, f["fmt"], rules,
                                               data.decode(f["enc"]).startswith("\ufeff"))
    except Refuse as e:
        if refused:
            STATS["owed"] += 1
            return None
        # a refusal is owed; whatever was served must still hold no secret
        view = open(vp, "rb").read()
        return "served (%d bytes) although %s" % (len(view), e)
    if refused:
        # not a leak, but worth a look when it is most of them
        STATS["unowed"].append(f["name"])
        return None
    view = open(vp, "rb").read()
    for s in sorted(secrets):
        if s.encode(f["enc"]) in view:
            return "raw %s (masked, dropped or filtered out) is in the view" % s
    try:
        vt = decode(view, f["enc"])
    except UnicodeDecodeError as e:
        return "view is not valid %s: %s" % (f["enc"], e)
    if f["fmt"] == "jsonl":
        return compare_jsonl(vt, want)
    return compare_table(vt, f["fmt"], head, rows)


def cmd_check(d, faildir):
    man = json.load(open(os.path.join(d, "manifest.json")))
    pol = json.load(open(os.path.join(d, "policy.json"), encoding="utf-8"))
    fd = os.path.join(faildir, "r%d" % man["seed"])
    bad = []
    counts = {"served": 0, "refused": 0}
    for f in man["files"]:
        why = check_one(d, man, f, pol)
        refused = os.path.exists(os.path.join(d, "views", f["name"] + ".err"))
        counts["refused" if refused else "served"] += 1
        if why is None:
            continue
        bad.append(f)
        print("FAIL: %s (grant %s): %s" % (f["name"], json.dumps(
            {k: v for k, v in pol["grants"][f["grant"]].items()
             if k in ("fields", "masks", "rows")}, ensure_ascii=False), why))
        for sub in ("in", "views"):
            os.makedirs(os.path.join(fd, sub), exist_ok=True)
        shutil.copy(os.path.join(d, "in", f["name"]), os.path.join(fd, "in"))
        for ext in ("", ".err", ".size"):
            p = os.path.join(d, "views", f["name"] + ext)
            if os.path.exists(p):
                shutil.copy(p, os.path.join(fd, "views"))
        with open(os.path.join(fd, "failures.txt"), "a") as o:
            o.write("%s: %s\n" % (f["name"], why))
    if bad:
        # a replayable round of the failing files alone
        shutil.copy(os.path.join(d, "policy.json"), fd)
        m = dict(man)
        m["files"] = bad
        json.dump(m, open(os.path.join(fd, "manifest.json"), "w"), ensure_ascii=False)
        print("  saved in %s" % fd)
    print("seed %d: %d files, %d served, %d refused (%d as Python's reading asks), %d failed" %
          (man["seed"], len(man["files"]), counts["served"], counts["refused"],
           STATS["owed"], len(bad)))
    if STATS["unowed"]:
        print("  refused though Python reads them: " + " ".join(STATS["unowed"]))
    return 1 if bad else 0


def main():
    global NAMES
    a = sys.argv[1:]
    if "--names" in a:
        NAMES = True
        a.remove("--names")
    if a and a[0] == "gen" and len(a) == 3:
        return cmd_gen(int(a[1]), a[2])
    if len(a) == 3 and a[0] in ("write", "read", "check"):
        if a[0] == "check":
            NAMES = json.load(open(os.path.join(a[1], "manifest.json")))["names"]
        return {"write": cmd_write, "read": cmd_read, "check": cmd_check}[a[0]](a[1], a[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
