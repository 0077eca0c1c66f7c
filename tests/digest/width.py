#!/usr/bin/python3
"""Reads text on stdin; prints each line wider than N display columns
(East Asian wide and fullwidth characters count two) or ending in a blank.

  width.py [N]      (default 80)
"""
import sys
import unicodedata

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 80
bad = 0
for n, line in enumerate(sys.stdin.read().split("\n"), 1):
    w = sum(0 if unicodedata.combining(c) else
            2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
    if w > limit or line.endswith(" "):
        print("line %d: %d columns: %r" % (n, w, line))
        bad += 1
sys.exit(1 if bad else 0)
