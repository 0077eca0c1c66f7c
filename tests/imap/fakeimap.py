#!/usr/bin/env python3
"""A misbehaving IMAP server for the negative TLS and timeout tests.

    fakeimap.py --mode MODE --port-file FILE [--log FILE]

Listens on 127.0.0.1 (a free port, written to --port-file once listening), serves connections
one after the other, and logs every line the client sends to --log (so a test can prove that no
LOGIN arrived).  Modes:

  nostarttls  greeting without STARTTLS; answers STARTTLS with "NO"
  inject      answers STARTTLS with "OK" and, in the same packet, an injected plaintext line
              (CVE-2020-15953 style): a client must notice the buffered bytes and give up
  preauth     greets with PREAUTH (STARTTLS is then impossible)
  silent      accepts the connection and never says anything (timeout test)
  bye         greets with BYE

Python 3 standard library only; SIGTERM ends it.
"""

import argparse
import os
import signal
import socket
import sys


def serve(conn, mode, log):
    f = conn.makefile("rb")

    def send(data):
        conn.sendall(data)

    if mode == "silent":
        # Read until the client gives up; answer nothing.
        while f.readline():
            pass
        return
    if mode == "bye":
        send(b"* BYE go away\r\n")
        return
    if mode == "preauth":
        send(b"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in already\r\n")
    elif mode == "nostarttls":
        send(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n")
    else:
        send(b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] fake ready\r\n")
    while True:
        line = f.readline()
        if not line:
            return
        log.write(line.decode("latin-1").rstrip("\r\n") + "\n")
        log.flush()
        parts = line.split()
        if len(parts) < 2:
            continue
        tag, cmd = parts[0], parts[1].upper()
        if cmd == b"CAPABILITY":
            caps = b"IMAP4rev1 AUTH=PLAIN" if mode == "nostarttls" else b"IMAP4rev1 STARTTLS AUTH=PLAIN"
            send(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
        elif cmd == b"STARTTLS":
            if mode == "inject":
                send(tag + b" OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n")
            else:
                send(tag + b" NO not here\r\n")
        elif cmd == b"LOGOUT":
            send(b"* BYE bye\r\n" + tag + b" OK done\r\n")
            return
        else:
            send(tag + b" NO fake server\r\n")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mode", required=True,
                   choices=["nostarttls", "inject", "preauth", "silent", "bye"])
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", default=os.devnull)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, a.port_file)
    with open(a.log, "a") as log:
        while True:
            conn, _ = s.accept()
            try:
                serve(conn, a.mode, log)
            except OSError:
                pass
            finally:
                conn.close()


if __name__ == "__main__":
    main()
