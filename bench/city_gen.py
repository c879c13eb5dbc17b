#!/usr/bin/env python3
"""bench/city_gen.py - a city-sized policy and the small files of its tree.

    city_gen.py policy DEPTS ENTRIES GRANTS > policy.json
    city_gen.py fill ROOT DIRS FILES [PART NPARTS] [tee]
    city_gen.py change policy.json > policy2.json
    city_gen.py bare policy.json > policy0.json   its departments alone
    city_gen.py stat ROOT DIRS FILES N     stat() N files drawn at random,
                                           prints seconds
    city_gen.py read ROOT DIRS FILES N     open+read+close of N files drawn
                                           at random (another draw), prints
                                           seconds; fails on a short read
    city_gen.py time CMD...                runs CMD, stdout discarded,
                                           prints seconds and CMD's output
                                           line count

Deterministic (seeded): the same arguments give the same bytes.

The policy: DEPTS departments (uids 10000 + 100 * i .., gid 20000 + i),
the first of them 数据资源局 (shuju, uid 10000), which runs the pool; ENTRIES catalog entries spread over the
departments as providers, half conditional, four in ten unconditional,
one in ten `none` (those provided by shuju, so that its reader sees the
whole tree, as passthrough_ll does); GRANTS grants: shuju reads every
conditional entry, the rest are department pairs with field projections,
masks (hash, keep, name, redact), row filters on some, and validity
windows: most in force, some expired with a successor, some not yet valid.
Writers never hash (the oracle rule of docs/policy.md).

fill: FILES small CSV files (~300 bytes) spread evenly over the first
DIRS entry directories under ROOT (DIRS <= the policy's ENTRIES), rows over the entry's
fields; PART/NPARTS writes every NPARTS-th directory from PART, so several
processes can fill one tree. With tee, each directory and file written
is also a record on stdout for bench/city_fill, which fills a pool with
the same tree: "d MODE 0 PATH\n" or "f MODE LEN PATH\n" and LEN bytes
(MODE octal, PATH from the tree's root).

change: the same policy with one grant's validity moved (a one-grant diff).
"""
import json
import os
import random
import subprocess
import sys
import time

DEPTS = [
    ("shuju", "市数据资源局"), ("gongan", "市公安局"), ("renshe", "市人社局"),
    ("weijian", "市卫健委"), ("minzheng", "市民政局"), ("jiaoyu", "市教育局"),
    ("zhujian", "市住建局"), ("ziranziyuan", "市自然资源和规划局"),
    ("shichang", "市市场监管局"), ("shuiwu", "市税务局"), ("caizheng", "市财政局"),
    ("fagai", "市发改委"), ("gongxin", "市经信局"), ("jiaotong", "市交通运输局"),
    ("shuili", "市水利局"), ("nongye", "市农业农村局"), ("shangwu", "市商务局"),
    ("wenlv", "市文旅局"), ("yingji", "市应急管理局"), ("shenji", "市审计局"),
    ("tongji", "市统计局"), ("yibao", "市医保局"), ("tuiyijunren", "市退役军人事务局"),
    ("sifa", "市司法局"), ("huanjing", "市生态环境局"), ("linye", "市林业局"),
    ("chengguan", "市城管局"), ("gongjijin", "市住房公积金中心"), ("renfang", "市人防办"),
    ("xinfang", "市信访局"), ("minzu", "市民宗局"), ("tiyu", "市体育局"),
    ("liangshi", "市粮食和储备局"), ("guozi", "市国资委"), ("jinrong", "市金融办"),
    ("kexie", "市科技局"), ("qixiang", "市气象局"), ("dizhen", "市地震局"),
    ("youzheng", "市邮政管理局"), ("dianli", "国网市供电公司"), ("gongshui", "市供水公司"),
    ("canlian", "市残联"), ("fulian", "市妇联"), ("gonghui", "市总工会"),
    ("tuanshiwei", "团市委"), ("xingshen", "市行政审批局"),
]
LIBS = ("基础库", "主题库", "部门库")
TOPICS = ("人口", "法人", "社保", "医疗", "教育", "住房", "交通", "环境", "信用",
          "财税", "民生", "应急", "农业", "市场", "政务")
FIELDS = [("身份证号", "id_card"), ("姓名", "name"), ("手机号", "phone"),
          ("住址", "address"), ("区县", "region"), ("银行卡号", "bank_card"),
          ("邮箱", "email"), ("出生日期", "date"), ("性别", "gender"),
          ("统一社会信用代码", "org_code"), ("金额", "amount"), ("备注", "text")]
REGIONS = ("宣州区", "郎溪县", "广德市", "宁国市", "泾县", "绩溪县", "旌德县")
PURPOSES = ("社保资格认证", "医保结算核验", "低保资格审核", "企业信用监管",
            "不动产登记核验", "学籍核验", "应急救助", "统计分析", "税源管理")
SEED = 14


def entries(n):
    """(path, provider index, share, fields) per entry, deterministic."""
    r = random.Random(SEED)
    nd = len(DEPTS)
    out = []
    for i in range(n):
        share = ("conditional", "unconditional", "none")[
            0 if i % 10 < 5 else 1 if i % 10 < 9 else 2]
        prov = 0 if share == "none" else 1 + (i % (nd - 1))
        k = r.randint(5, 8)
        fields = r.sample(FIELDS[:5], 3) + r.sample(FIELDS[5:], k - 3)
        path = "/%s/%s/%s/%s-%04d" % (LIBS[i % 3], TOPICS[(i // 3) % len(TOPICS)],
                                       DEPTS[prov][0], TOPICS[i % len(TOPICS)], i)
        out.append((path, prov, share, fields))
    return out


def code(i, prov):
    return "341800-%s-%04d" % (DEPTS[prov][0][:4].upper(), i)


def grant(r, gid, ei, ent, dept, window, write):
    path, prov, share, fields = ent
    names = [f for f, _ in fields]
    g = {"id": gid, "entry": code(ei, prov), "department": DEPTS[dept][0],
         "actions": ["read", "write"] if write else ["read"]}
    if r.random() < 0.5:
        g["fields"] = sorted(r.sample(names, r.randint(2, len(names))), key=names.index)
        names = g["fields"]
    masks = {}
    for f, tag in fields:
        if f not in names:
            continue
        x = r.random()
        if tag == "id_card" and not write and x < 0.4:
            masks[f] = "hash"
        elif tag in ("name", "phone") and x < 0.3:
            masks[f] = "none"
        elif tag == "address" and x < 0.3:
            masks[f] = "keep(3,0)"
        elif tag == "bank_card" and x < 0.5:
            masks[f] = "redact"
    if masks:
        g["masks"] = masks
    if r.random() < 0.2 and "区县" in [f for f, _ in fields]:
        g["rows"] = {"区县": {"in": r.sample(REGIONS, 3)}}
    g["valid_from"], g["valid_until"] = window
    g["purpose"] = r.choice(PURPOSES)
    return g


def policy(nd, ne, ng):
    global DEPTS
    if nd > len(DEPTS):
        sys.exit("at most %d departments" % len(DEPTS))
    DEPTS = DEPTS[:nd]
    r = random.Random(SEED + 1)
    ents = entries(ne)
    depts = []
    for i, (did, name) in enumerate(DEPTS):
        base = 10000 + 100 * i
        depts.append({"id": did, "name": name,
                      "members": {"uids": list(range(base, base + 5)), "gids": [20000 + i],
                                  "users": [{"uid": base + 5, "name": "%s-admin" % did}]}})
    catalog = []
    for i, (path, prov, share, fields) in enumerate(ents):
        catalog.append({"path": path, "code": code(i, prov),
                        "title": path.rsplit("/", 1)[1] + "信息", "provider": DEPTS[prov][0],
                        "share": share, "open": "none", "level": 1 + i % 5,
                        "update_cycle": ("daily", "weekly", "monthly")[i % 3],
                        "format": "csv", "encoding": "utf-8",
                        "fields": [{"name": f, "tag": t} for f, t in fields]})
    grants = []
    now = ("2026-01-01", "2028-12-31")
    old = ("2023-01-01", "2025-12-31")
    future = ("2029-01-01", "2030-12-31")
    # shuju reads every conditional entry
    for i, e in enumerate(ents):
        if len(grants) < ng and e[2] == "conditional":
            grants.append(grant(r, "g%05d" % len(grants), i, e, 0, now, False))
    pairs = [(i, d) for i, e in enumerate(ents) if e[2] != "none"
             for d in range(1, nd) if d != e[1]]
    r.shuffle(pairs)
    for i, d in pairs:
        if len(grants) >= ng:
            break
        write = r.random() < 0.05
        x = r.random()
        if x < 0.15 and len(grants) + 1 < ng:
            # a lapsed grant and the one that followed it
            grants.append(grant(r, "g%05d" % len(grants), i, ents[i], d, old, write))
            grants.append(grant(r, "g%05d" % len(grants), i, ents[i], d, now, write))
        elif x < 0.2:
            grants.append(grant(r, "g%05d" % len(grants), i, ents[i], d, future, write))
        else:
            grants.append(grant(r, "g%05d" % len(grants), i, ents[i], d, now, write))
    return {"version": 1,
            "roles": {"security_admin": {"uids": [0]}, "auditor": {"uids": [0]},
                      "system_admin": {"uids": [0]}},
            "departments": depts, "catalog": catalog, "grants": grants}



def row(r, fields):
    out = []
    for _, tag in fields:
        if tag == "id_card":
            v = "3418%02d19%02d%02d%02d%04d" % (r.randrange(100), r.randrange(50, 100),
                                                1 + r.randrange(12), 1 + r.randrange(28),
                                                r.randrange(10000))
        elif tag == "name":
            v = r.choice("张王李赵刘陈杨黄周吴") + r.choice(("伟", "芳", "娜", "秀英", "敏", "静"))
        elif tag == "phone":
            v = "13%09d" % r.randrange(10**9)
        elif tag == "address":
            v = "宣城市%s幸福路%d号" % (r.choice(REGIONS), r.randrange(1, 300))
        elif tag == "region":
            v = r.choice(REGIONS)
        elif tag == "bank_card":
            v = "6222%012d" % r.randrange(10**12)
        elif tag == "email":
            v = "u%d@example.cn" % r.randrange(10**6)
        elif tag == "date":
            v = "19%02d-%02d-%02d" % (r.randrange(50, 100), 1 + r.randrange(12), 1 + r.randrange(28))
        elif tag == "gender":
            v = r.choice("男女")
        elif tag == "org_code":
            v = "91341800%010d" % r.randrange(10**10)
        elif tag == "amount":
            v = "%d.%02d" % (r.randrange(10**5), r.randrange(100))
        else:
            v = "无"
        out.append(v)
    return ",".join(out)


def files_in(i, ndirs, nfiles):
    return nfiles // ndirs + (1 if i < nfiles % ndirs else 0)


def fill(root, ndirs, nfiles, part=0, nparts=1, tee=False):
    ents = entries(ndirs)
    umask = os.umask(0)
    os.umask(umask)
    for i in range(part, ndirs, nparts):
        path, _, _, fields = ents[i]
        d = root + path
        os.makedirs(d, exist_ok=True)
        if tee:
            record(b"d", 0o777 & ~umask, path, b"")
        r = random.Random(i)
        head = ",".join(f for f, _ in fields) + "\n"
        for k in range(files_in(i, ndirs, nfiles)):
            body = (head + "\n".join(row(r, fields) for _ in range(2)) + "\n").encode()
            name = "r%04d.csv" % k
            fd = os.open("%s/%s" % (d, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, body)
            os.close(fd)
            if tee:
                record(b"f", 0o644 & ~umask, "%s/%s" % (path, name), body)


def record(kind, mode, path, body):
    """One record of the fill's stream for bench/city_fill on stdout, in
    one write: below PIPE_BUF, so the records of several fill processes
    sharing the pipe never interleave."""
    rec = b"%s %o %d %s\n" % (kind, mode, len(body), path.encode()) + body
    if len(rec) > 4096:
        raise ValueError("%s: a record past PIPE_BUF" % path)
    n = os.write(1, rec)
    if n != len(rec):
        raise OSError("short write of the fill stream")


def sample(root, ndirs, nfiles, n, seed):
    ents = entries(ndirs)
    r = random.Random(seed)
    out = []
    for _ in range(n):
        i = r.randrange(ndirs)
        k = r.randrange(max(1, files_in(i, ndirs, nfiles)))
        out.append("%s%s/r%04d.csv" % (root, ents[i][0], k))
    return out


def timed_stat(paths):
    t = time.perf_counter()
    for p in paths:
        os.stat(p)
    return time.perf_counter() - t


def timed_read(paths):
    t = time.perf_counter()
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            if not os.read(fd, 65536):
                raise OSError("%s: empty read" % p)
        finally:
            os.close(fd)
    return time.perf_counter() - t


def timed_cmd(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines = 0
    for b in iter(lambda: p.stdout.read(1 << 20), b""):
        lines += b.count(b"\n")
    if p.wait():
        raise SystemExit("%s exited %d" % (cmd[0], p.returncode))
    return time.perf_counter() - t, lines


def bare(path):
    with open(path, encoding="utf-8") as f:
        p = json.load(f)
    p["catalog"], p["grants"] = [], []
    return p


def change(path):
    with open(path, encoding="utf-8") as f:
        p = json.load(f)
    # one grant of a department pair moves its end: a one-grant diff
    for g in p["grants"]:
        if g["department"] != "shuju" and g["valid_until"] == "2028-12-31":
            g["valid_until"] = "2028-06-30"
            break
    return p


def main(a):
    if not a:
        print(__doc__, file=sys.stderr)
        return 2
    if a[0] == "policy":
        json.dump(policy(int(a[1]), int(a[2]), int(a[3])), sys.stdout, ensure_ascii=False)
    elif a[0] == "fill":
        tee = a[-1] == "tee"
        fill(a[1], int(a[2]), int(a[3]), *(int(x) for x in a[4:6] if x != "tee"), tee=tee)
    elif a[0] == "stat":
        print("%.6f" % timed_stat(sample(a[1], int(a[2]), int(a[3]), int(a[4]), 1)))
    elif a[0] == "read":
        print("%.6f" % timed_read(sample(a[1], int(a[2]), int(a[3]), int(a[4]), 2)))
    elif a[0] == "time":
        print("%.6f %d" % timed_cmd(a[1:]))
    elif a[0] == "bare":
        json.dump(bare(a[1]), sys.stdout, ensure_ascii=False)
    elif a[0] == "change":
        json.dump(change(a[1]), sys.stdout, ensure_ascii=False)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
