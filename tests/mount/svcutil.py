#!/usr/bin/env python3
"""svcutil.py - stand-ins for what systemd does around poolfs@.service.

  svcutil.py listen SOCKET OUT
      binds a datagram socket at SOCKET (as systemd's NOTIFY_SOCKET) and
      appends each message received to OUT, one per line, until killed.
  svcutil.py execstart UNIT CONF
      prints, NUL-separated, the argv systemd would run for UNIT's
      ExecStart= with CONF as its EnvironmentFile=: "${X}" is one word,
      "$X" splits on white space (an empty one is no word), as
      systemd.service(5) "Command lines" says.
"""
import os
import re
import shlex
import socket
import sys


def listen(path, out):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o777)
    with open(out, "a") as f:
        while True:
            msg = s.recv(4096).decode("utf-8", "replace")
            f.write(msg.replace("\n", " ") + "\n")
            f.flush()


def read_env(conf):
    env = {}
    for line in open(conf, encoding="utf-8"):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        words = shlex.split(value) if value else [""]
        env[key.strip()] = " ".join(words)
    return env


def execstart(unit, conf):
    env = read_env(conf)
    line = None
    for raw in open(unit, encoding="utf-8"):
        if raw.startswith("ExecStart="):
            line = raw[len("ExecStart="):].strip()
    if line is None:
        sys.exit("no ExecStart= in " + unit)
    argv = []
    for word in line.split():
        m = re.fullmatch(r"\$\{(\w+)\}", word)
        if m:
            argv.append(env.get(m.group(1), ""))
            continue
        m = re.fullmatch(r"\$(\w+)", word)
        if m:
            argv.extend(env.get(m.group(1), "").split())
            continue
        argv.append(word)
    sys.stdout.write("\0".join(argv) + "\0")


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "execstart":
        execstart(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: svcutil.py listen SOCKET OUT | execstart UNIT CONF")
