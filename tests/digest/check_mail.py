#!/usr/bin/python3
"""Parses a mail written by `mxdigest report --format email` with Python's
email package (an independent MIME parser) and checks what a reader and an
MTA rely on.

  check_mail.py [--delivered] MAIL TEXT_DIGEST SUBJECT TO [XLSX_OUT]

TEXT_DIGEST is the same window's text digest (`--format text`): the
text/plain part must decode to exactly it.  SUBJECT and TO are the values
given on the command line (after RFC 2047 decoding they must come back).
XLSX_OUT, when given, receives the decoded attachment.
--delivered: the mail went through an MTA, which added trace headers of
its own (their line lengths are not ours to check).
Prints one line per failed check; exits 1 if any failed.
"""
import email
import email.policy
import email.utils
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def main():
    args = sys.argv[1:]
    delivered = args[:1] == ["--delivered"]
    if delivered:
        args = args[1:]
    path, text_path, subject, to = args[:4]
    raw = open(path, "rb").read()
    check(raw.isascii(), "the message is 7-bit")
    lines = raw.split(b"\n")
    check(max(len(l) for l in lines) <= 998, "a line is longer than 998 octets")
    head = raw.split(b"\n\n", 1)[0].split(b"\n")
    if not delivered:
        check(max(len(l) for l in head) <= 78, "a header line is longer than 78: %r"
              % max(head, key=len))
    check(not any(l.rstrip(b"\r") == b"." for l in lines), "a lone '.' line")

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check(not msg.defects, "defects: %r" % msg.defects)
    check(msg["Subject"] == subject, "Subject %r" % msg["Subject"])
    got_to = [a.addr_spec for a in msg["To"].addresses]
    want_to = [a for _, a in email.utils.getaddresses([to])]
    check(got_to == want_to, "To %r, expected %r" % (got_to, want_to))
    names = [a.display_name for a in msg["To"].addresses]
    want_names = [n for n, _ in email.utils.getaddresses([to])]
    check(names == want_names, "To names %r, expected %r" % (names, want_names))
    check(msg["From"] is not None and "@" in str(msg["From"]), "From")
    check(email.utils.parsedate_to_datetime(str(msg["Date"])) is not None, "Date")
    mid = str(msg["Message-ID"] or "")
    check(mid.startswith("<") and mid.endswith(">") and "@" in mid, "Message-ID %r" % mid)
    check(msg["MIME-Version"] == "1.0", "MIME-Version")
    check(msg.get_content_type() == "multipart/mixed", "top type %s" % msg.get_content_type())

    parts = msg.get_payload()
    check(len(parts) == 2, "two parts in multipart/mixed")
    alt = parts[0]
    check(alt.get_content_type() == "multipart/alternative", "alternative first")
    kinds = [p.get_content_type() for p in alt.get_payload()]
    check(kinds == ["text/plain", "text/html"], "alternative parts %r" % kinds)
    for p in alt.get_payload():
        check(not p.defects, "%s defects %r" % (p.get_content_type(), p.defects))
        check(p.get_content_charset() == "utf-8", "charset")
    text = alt.get_payload()[0].get_content()
    want = open(text_path, encoding="utf-8").read()
    check(text == want, "text part differs from the text digest")
    html = alt.get_payload()[1].get_content()
    check(html.lstrip().startswith("<!DOCTYPE html>") and "TLS-RPT digest" in html,
          "HTML part")
    att = parts[1]
    check(att.get_content_type() ==
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "attachment type %s" % att.get_content_type())
    check(att.get_content_disposition() == "attachment", "disposition")
    check((att.get_filename() or "").endswith(".xlsx"), "file name %r" % att.get_filename())
    data = att.get_content()
    check(data[:2] == b"PK", "the attachment is a zip (xlsx)")
    if len(args) > 4:
        open(args[4], "wb").write(data)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


sys.exit(main())
