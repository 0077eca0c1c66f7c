#!/usr/bin/python3
"""Reads an mxdigest workbook with openpyxl (an independent reader) and
checks it against the JSON digest of the same window.

  check_xlsx.py BOOK.xlsx DIGEST.json DETAILS.csv [--stream] [--injection]

DETAILS.csv is `mxdigest report --format csv --by detail` of the window: the
"Failure details" sheet must hold the same rows.  --stream: the workbook was
written in constant-memory mode (autofilters, no tables).  --injection: the
window holds tests/digest/injection.json, whose formula-like values must
arrive as text.  Prints one line per failed check; exits 1 if any failed.
"""
import csv
import datetime
import json
import sys

import openpyxl

SHEETS = ["Summary", "By MX host", "By organization", "By result type",
          "By sending IP", "By policy domain", "Daily", "Failure details",
          "Quarantine"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def close(a, b, eps=1e-6):
    return a is not None and abs(a - b) <= eps


def rows(ws, first=2):
    out = []
    for r in ws.iter_rows(min_row=first, values_only=True):
        if all(v is None for v in r):
            break
        out.append(r)
    return out


def main():
    book, digest, details = sys.argv[1:4]
    stream = "--stream" in sys.argv
    injection = "--injection" in sys.argv
    d = json.load(open(digest))
    wb = openpyxl.load_workbook(book)
    check(wb.sheetnames == SHEETS, "sheet names %r" % wb.sheetnames)

    # Summary: label in A, value in B
    s = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    t = d["totals"]
    check(s.get("Reports") == t["reports"], "Summary reports %r" % s.get("Reports"))
    check(s.get("Organizations") == t["organizations"], "Summary organizations")
    check(s.get("Successful sessions") == t["successful_sessions"], "Summary successful")
    check(s.get("Failed sessions") == t["failed_sessions"], "Summary failed")
    check(close(s.get("Failure rate", -1) * 100, t["failure_rate"], 1e-3), "Summary failure rate")
    check(s.get("Quarantined messages") == t["quarantined"], "Summary quarantine")
    check(s.get("Previous failed sessions") == d["previous_totals"]["failed_sessions"],
          "Summary previous failed")
    start = datetime.datetime.strptime(d["window"]["from"], "%Y-%m-%dT%H:%M:%SZ")
    check(s.get("Window start (UTC)") == start, "Summary window start %r" % s.get("Window start (UTC)"))
    check(isinstance(s.get("Generated (UTC)"), datetime.datetime), "Summary generation time")

    mx = rows(wb["By MX host"])
    check([(r[0], r[1], r[2], r[3]) for r in mx] ==
          [(m["mx_host"] or "(not given)", m["failed_sessions"], m["previous_failed_sessions"],
            m["top_result_type"]) for m in d["by_mx_host"]], "By MX host rows")
    org = rows(wb["By organization"])
    check([(r[0], r[1], r[2], r[3]) for r in org] ==
          [(o["organization"], o["reports"], o["successful_sessions"], o["failed_sessions"])
           for o in d["by_organization"]], "By organization rows")
    check(all(close(r[4] * 100, o["failure_rate"], 1e-3) for r, o in zip(org, d["by_organization"])),
          "By organization failure rates")
    res = rows(wb["By result type"])
    check([(r[0], r[1], r[2]) for r in res] ==
          [(x["result_type"], x["failed_sessions"], x["reports"]) for x in d["by_result_type"]],
          "By result type rows")
    ips = rows(wb["By sending IP"])
    check([(r[0], r[1]) for r in ips] ==
          [(x["sending_ip"] or "(not given)", x["failed_sessions"]) for x in d["by_sending_ip"]],
          "By sending IP rows")
    dom = rows(wb["By policy domain"])
    check([(r[0], r[1], r[2], r[3]) for r in dom] ==
          [(x["policy_domain"], x["policy_types"], x["successful_sessions"], x["failed_sessions"])
           for x in d["by_policy_domain"]], "By policy domain rows")

    daily = rows(wb["Daily"])
    check([(r[0].strftime("%Y-%m-%d"), r[1], r[2], r[3]) for r in daily] ==
          [(x["day"], x["reports"], x["successful_sessions"], x["failed_sessions"])
           for x in d["daily"]], "Daily rows")
    charts = wb["Daily"]._charts
    check(len(charts) == 1, "Daily chart present (%d)" % len(charts))
    if charts:
        check(len(charts[0].series) == 2, "chart has two series")

    want = list(csv.reader(open(details, newline="", encoding="utf-8")))[1:]
    got = rows(wb["Failure details"])
    check(len(got) == len(want), "Failure details: %d rows, CSV %d" % (len(got), len(want)))
    check(sum(r[11] for r in got) == sum(int(w[11]) for w in want), "Failure details counts")
    for r, w in zip(got, want):
        if r[1] != w[1].lstrip("'") or r[10] != w[6]:
            failures.append("detail row differs: %r / %r" % (r, w))
            break
    quarantine = rows(wb["Quarantine"])
    check(len(quarantine) == len(d["quarantine"]), "Quarantine rows")

    for name in SHEETS[1:]:
        ws = wb[name]
        check(ws.freeze_panes == "A2", "%s: header row frozen (%r)" % (name, ws.freeze_panes))
        if stream:
            check(not ws.tables, "%s: no table in constant-memory mode" % name)
            check(ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:"),
                  "%s: autofilter (%r)" % (name, ws.auto_filter.ref))
        elif rows(ws):
            check(len(ws.tables) >= 1, "%s: an Excel table" % name)
    head = wb["By MX host"]["A1"]
    check(head.font.b, "header cells are bold")
    if org:
        check(wb["By organization"]["B2"].number_format == "#,##0", "count format")
        check(wb["By organization"]["E2"].number_format == "0.00%", "rate format")
    check(wb["Daily"]["A2"].number_format == "yyyy-mm-dd", "date format")

    # nothing anywhere is a formula
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    failures.append("%s!%s is a formula: %r" % (ws.title, c.coordinate, c.value))
    if injection:
        evil = '=HYPERLINK("http://evil.example/","click")'
        cells = [r for r in got if r[1] == evil]
        check(len(cells) == 1, "the formula-like organization arrives as text")
        if cells:
            check(cells[0][0] == "+inject-1", "report id '+inject-1' as text")
            check(cells[0][12] == "@cmd|' /C calc'!A0", "reason code as text")
            check(cells[0][13] == '-2+3, "quoted", =1+1', "additional information as text")
        check(evil in [r[0] for r in org], "organization table keeps the text")

    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


sys.exit(main())
