#!/usr/bin/python3
"""mailedit.py — byte-level edits of report mails for the DKIM fixtures (standard library only).

  mailedit.py reporter IN OUT --domain D [--from-domain F]
        drop the old signatures and authentication results (DKIM-Signature, ARC-*,
        Authentication-Results, X-Google-DKIM-Signature), put the From address into domain F (D by
        default) and set TLS-Report-Submitter (and "Submitter: ..." in the Subject) to D
  mailedit.py banner IN OUT [--text TEXT]
        append a footer at the end of the mail, as a mail gateway does
  mailedit.py header IN OUT NAME VALUE
        replace the value of the first NAME field (the field stays where it is)
  mailedit.py forge IN OUT
        the same report with other numbers: the report JSON of the application/tlsrpt+gzip (or
        +json) part gets different session counts; organization-name, report-id and date-range
        stay, so the copy claims to be the same report
  mailedit.py strip IN OUT
        drop every DKIM-Signature field

Everything else stays byte for byte (line endings, folding, MIME structure).
"""

import argparse
import base64
import gzip
import io
import json
import re

DROP = ("dkim-signature", "arc-seal", "arc-message-signature", "arc-authentication-results",
        "authentication-results", "x-google-dkim-signature")


def split(data):
    """(header fields as raw bytes, each with its folding and line end; the rest: the empty line
    and the body)."""
    m = re.search(rb"\n\r?\n", data)
    if not m:
        raise SystemExit("mailedit.py: no header/body separator")
    head, rest = data[:m.start() + 1], data[m.start() + 1:]
    fields = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields, rest


def join(fields, rest):
    return b"".join(fields) + rest


def name_of(field):
    return field.split(b":", 1)[0].strip().lower().decode("ascii", "replace")


def eol_of(data):
    nl = data.find(b"\n")
    return b"\r\n" if nl > 0 and data[nl - 1:nl] == b"\r" else b"\n"


def set_value(field, value, eol):
    name = field.split(b":", 1)[0]
    return name + b": " + value + eol


def cmd_reporter(data, a):
    eol = eol_of(data)
    fields, rest = split(data)
    dom = a.domain.encode()
    from_dom = (a.from_domain or a.domain).encode()
    out = []
    for f in fields:
        n = name_of(f)
        if n in DROP:
            continue
        if n == "from":
            f2 = re.sub(rb"@[A-Za-z0-9.-]+", b"@" + from_dom, f, count=1)
            if f2 == f:
                raise SystemExit("mailedit.py: no address in %r" % f)
            f = f2
        elif n == "tls-report-submitter":
            f = set_value(f, dom, eol)
        elif n == "subject":
            f = re.sub(rb"(Submitter:\s*)[A-Za-z0-9.-]+", rb"\g<1>" + dom, f)
        out.append(f)
    return join(out, rest)


def cmd_strip(data, a):
    fields, rest = split(data)
    return join([f for f in fields if name_of(f) != "dkim-signature"], rest)


def cmd_banner(data, a):
    eol = eol_of(data)
    text = a.text.encode()
    if not data.endswith(b"\n"):
        data += eol
    return data + eol + text + eol


def cmd_header(data, a):
    eol = eol_of(data)
    fields, rest = split(data)
    want = a.name.lower()
    for i, f in enumerate(fields):
        if name_of(f) == want:
            fields[i] = set_value(f, a.value.encode(), eol)
            return join(fields, rest)
    raise SystemExit("mailedit.py: no %s field" % a.name)


def change_counts(report):
    for pol in report.get("policies", []):
        s = pol.get("summary", {})
        ok = s.get("total-successful-session-count", 0)
        bad = s.get("total-failure-session-count", 0)
        s["total-successful-session-count"] = ok // 3
        s["total-failure-session-count"] = bad + ok - ok // 3
        for fd in pol.get("failure-details", []) or []:
            fd["failed-session-count"] = fd.get("failed-session-count", 0) + 1000
        if not pol.get("failure-details"):
            pol["failure-details"] = [{"result-type": "certificate-expired",
                                       "receiving-mx-hostname": "mx1.example.org",
                                       "failed-session-count": bad + ok - ok // 3}]


def cmd_forge(data, a):
    eol = eol_of(data)
    m = re.search(rb"Content-Type:\s*application/tlsrpt\+(gzip|json)", data, re.IGNORECASE)
    if not m:
        raise SystemExit("mailedit.py: no application/tlsrpt+gzip or +json part")
    kind = m.group(1).lower()
    hdr_end = re.compile(rb"\r?\n\r?\n").search(data, m.end())
    start = hdr_end.end()
    end = data.find(b"\n--", start)
    if end < 0:
        raise SystemExit("mailedit.py: no boundary after the report part")
    end += 1
    raw = base64.b64decode(re.sub(rb"\s+", b"", data[start:end]))
    js = gzip.decompress(raw) if kind == b"gzip" else raw
    report = json.loads(js)
    change_counts(report)
    new_js = json.dumps(report, separators=(",", ":")).encode()
    if kind == b"gzip":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
            g.write(new_js)
        new_raw = buf.getvalue()
    else:
        new_raw = new_js
    b64 = base64.b64encode(new_raw)
    lines = [b64[i:i + 76] for i in range(0, len(b64), 76)]
    return data[:start] + eol.join(lines) + eol + data[end:]


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    cmds = {}
    for name in ("reporter", "banner", "header", "forge", "strip"):
        cmds[name] = sub.add_parser(name)
        cmds[name].add_argument("input")
        cmds[name].add_argument("output")
    cmds["reporter"].add_argument("--domain", required=True)
    cmds["reporter"].add_argument("--from-domain")
    cmds["banner"].add_argument("--text", default="[External] This message came from outside your "
                                "organization. Do not click links unless you know the sender.")
    cmds["header"].add_argument("name")
    cmds["header"].add_argument("value")
    a = ap.parse_args()
    with open(a.input, "rb") as f:
        data = f.read()
    out = {"reporter": cmd_reporter, "banner": cmd_banner, "header": cmd_header,
           "forge": cmd_forge, "strip": cmd_strip}[a.cmd](data, a)
    with open(a.output, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
