#!/usr/bin/python3
"""Reads an mxdigest workbook with openpyxl (an independent reader) and
checks it against the JSON digest of the same window: the values, and the
changes against the previous window (an empty cell where there was nothing
to compare with).

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
          "Reports", "Configuration", "Quarantine"]
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


def table(ws, first=1):
    """The rows under the header row `first`, as dicts by heading."""
    head = [c.value for c in ws[first]]
    return [dict(zip(head, r)) for r in rows(ws, first + 1)]


def sessions(o, prefix=""):
    return o[prefix + "successful_sessions"] + o[prefix + "failed_sessions"]


def rate(o, prefix=""):
    n = sessions(o, prefix)
    return {"sessions": n, "rate": 100.0 * o[prefix + "failed_sessions"] / n if n else 0.0}


def rate_change(got, now, before, what):
    """A rate change in points, or an empty cell without sessions in
    either window."""
    if not now["sessions"] or not before["sessions"]:
        check(got is None, "%s: change %r with nothing to compare with" % (what, got))
    else:
        check(close(got, now["rate"] - before["rate"], 1e-6), "%s: change %r" % (what, got))


def summary_block(ws, title):
    """The rows of a table in the Summary sheet, under its title."""
    col = [r[0] for r in ws.iter_rows(values_only=True)]
    if title not in col:
        return None
    return table(ws, col.index(title) + 2)


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

    check(s.get("Previous failure rate") is not None, "Summary previous failure rate")
    if t["failure_rate_change"] is None:
        check("Failure rate change (points)" in s and s["Failure rate change (points)"] is None,
              "Summary rate change is empty without previous data: %r"
              % s.get("Failure rate change (points)"))
    else:
        check(close(s.get("Failure rate change (points)"), t["failure_rate_change"], 1e-4),
              "Summary rate change %r" % s.get("Failure rate change (points)"))
    worst = summary_block(wb["Summary"], "Worst MX hosts")
    want = [m for m in d["by_mx_host"] if m["failed_sessions"]][:3]
    if want:
        check(worst is not None and [(w["MX host"], w["Failed sessions"]) for w in worst] ==
              [(m["mx_host"] or "(not given)", m["failed_sessions"]) for m in want],
              "Summary: the three worst MX hosts, as in the text digest: %r" % worst)

    had_reports = d["previous_totals"]["reports"] > 0
    mx = table(wb["By MX host"])
    check([(r["MX host"], r["Failed"], r["Previous failed"], r["Top result type"]) for r in mx] ==
          [(m["mx_host"] or "(not given)", m["failed_sessions"], m["previous_failed_sessions"],
            m["top_result_type"]) for m in d["by_mx_host"]], "By MX host rows")
    for r, m in zip(mx, d["by_mx_host"]):
        want = m["failed_sessions"] - m["previous_failed_sessions"] if had_reports else None
        check(r["Change"] == want, "By MX host change %r, expected %r" % (r["Change"], want))
    org = table(wb["By organization"])
    check([(r["Organization"], r["Reports"], r["Successful"], r["Failed"]) for r in org] ==
          [(o["organization"], o["reports"], o["successful_sessions"], o["failed_sessions"])
           for o in d["by_organization"]], "By organization rows")
    check(all(close(r["Rate"] * 100, o["failure_rate"], 1e-3) for r, o in zip(org, d["by_organization"])),
          "By organization failure rates")
    check([r["New failures"] for r in org] == ["yes" if o["new_failures"] else "no"
                                               for o in d["by_organization"]], "By organization new failures")
    for r, o in zip(org, d["by_organization"]):
        rate_change(r["Change"], rate(o), rate(o, "previous_"), "By organization " + o["organization"])
    res = table(wb["By result type"])
    check([(r["Result type"], r["Failed"], r["Reports"]) for r in res] ==
          [(x["result_type"], x["failed_sessions"], x["reports"]) for x in d["by_result_type"]],
          "By result type rows")
    ips = table(wb["By sending IP"])
    check([(r["Sending IP"], r["Failed"]) for r in ips] ==
          [(x["sending_ip"] or "(not given)", x["failed_sessions"]) for x in d["by_sending_ip"]],
          "By sending IP rows")
    dom = table(wb["By policy domain"])
    check([(r["Policy domain"], r["Policy"], r["Successful"], r["Failed"]) for r in dom] ==
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
    # the same columns in the same order as CSV
    for r, w in zip(got, want):
        if r[1] != w[1].lstrip("'") or r[10] != w[10] or r[6] != (w[6] or None):
            failures.append("detail row differs: %r / %r" % (r, w))
            break
    # the DKIM state of each detail's mail, as CSV has it
    check([r[14] for r in got] == [w[14] or None for w in want], "Failure details: DKIM column")
    reps = table(wb["Reports"])
    check([(r["Organization"], r["Report ID"], r["DKIM"], r["Signing domain"], r["Counted"])
           for r in reps] ==
          [(x["organization"], x["report_id"], x["dkim"], x["dkim_domain"],
            "yes" if x["counted"] else "no") for x in d["reports"]],
          "Reports sheet rows: the DKIM state per report, as in JSON")
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
        check(evil in [r["Organization"] for r in org], "organization table keeps the text")

    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


sys.exit(main())
