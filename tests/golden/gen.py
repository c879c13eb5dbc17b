#!/usr/bin/env python3
"""tests/golden/gen.py - makes the GB18030 twins of the UTF-8 golden files.

NAME.in.EXT and NAME.out.EXT (UTF-8, reviewed by hand) become
NAME.gb18030.in.EXT and NAME.gb18030.out.EXT with Python's own codec, so
the expected GB18030 bytes do not come from the code under test. A UTF-8
BOM becomes the GB18030 BOM (84 31 95 33). Hash tokens are the same in
both, since the hash mask works on the UTF-8 form of a value.
"""
import glob
import os

here = os.path.dirname(os.path.abspath(__file__))
for path in sorted(glob.glob(os.path.join(here, "*.in.*")) +
                   glob.glob(os.path.join(here, "*.out.*"))):
    base = os.path.basename(path)
    if ".gb18030." in base:
        continue
    name, kind, ext = base.split(".", 2)
    text = open(path, encoding="utf-8", newline="").read()
    out = os.path.join(here, f"{name}.gb18030.{kind}.{ext}")
    with open(out, "w", encoding="gb18030", newline="") as f:
        f.write(text)
