#!/usr/bin/python3
"""Fetches the message with a given Message-ID from the test Dovecot's INBOX
over IMAP (python imaplib, the plain loopback port of tests/imap/dovecot.sh)
and writes its raw bytes to OUT.  Reads MXD_IMAP_PORT, MXD_IMAP_USER and
MXD_IMAP_PASS from the environment (DIR/env.sh of the harness).

  imap_fetch.py MESSAGE_ID OUT
"""
import imaplib
import os
import sys


def main():
    mid, out = sys.argv[1:3]
    imap = imaplib.IMAP4("127.0.0.1", int(os.environ["MXD_IMAP_PORT"]))
    imap.login(os.environ["MXD_IMAP_USER"], os.environ["MXD_IMAP_PASS"])
    imap.select("INBOX", readonly=True)
    typ, data = imap.uid("SEARCH", None, "HEADER", "Message-ID", mid)
    uids = data[0].split() if typ == "OK" and data[0] else []
    if len(uids) != 1:
        print("FAIL: %d messages with Message-ID %s in INBOX" % (len(uids), mid))
        return 1
    typ, data = imap.uid("FETCH", uids[0], "(BODY.PEEK[])")
    imap.logout()
    if typ != "OK":
        print("FAIL: FETCH %s" % typ)
        return 1
    open(out, "wb").write(data[0][1].replace(b"\r\n", b"\n"))
    return 0


sys.exit(main())
