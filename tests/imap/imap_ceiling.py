#!/usr/bin/env python3
"""Ceiling client for the fetch benchmark: the fastest simple way to pull a whole mailbox.

Logs in, EXAMINEs the mailbox, sends one "UID FETCH 1:* BODY.PEEK[]" and discards the bytes while
counting them.  Prints one line:

    messages=N bytes=B fetch_seconds=S total_seconds=T msgs_per_s=R mib_per_s=M

(--json prints the same as a JSON object).  bytes counts message literals only.  Memory stays
bounded whatever the mailbox size.  Exit status: 0 ok, 1 error (the reason on stderr).

Defaults come from the harness's env.sh: MXD_IMAP_HOST, MXD_IMAPS_PORT / MXD_IMAP_PORT,
MXD_IMAP_USER, MXD_IMAP_PASS (the password is only read from the environment, --pass-env names
the variable), MXD_CA.  Python 3 standard library only.
"""

import argparse
import json
import os
import re
import socket
import ssl
import sys
import time

LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


class Imap:
    def __init__(self, sock):
        self.sock = sock
        self.f = sock.makefile("rb", buffering=1 << 20)
        self.tag = 0

    def line(self):
        ln = self.f.readline(1 << 20)
        if not ln:
            raise OSError("connection closed by server")
        if not ln.endswith(b"\n"):
            raise OSError("line too long or truncated")
        return ln

    def send(self, cmd):
        self.tag += 1
        tag = b"c%d" % self.tag
        self.sock.sendall(tag + b" " + cmd + b"\r\n")
        return tag

    def skip(self, n):
        left = n
        while left:
            chunk = self.f.read(min(left, 1 << 20))
            if not chunk:
                raise OSError("connection closed inside a literal")
            left -= len(chunk)

    def wait(self, tag, on_untagged=None):
        """Read up to the tagged reply; literals are skipped; returns the tagged line."""
        while True:
            ln = self.line()
            while True:
                m = LITERAL.search(ln)
                if not m:
                    break
                n = int(m.group(1))
                if on_untagged:
                    on_untagged(ln, n)
                self.skip(n)
                ln = self.line()  # rest of the response after the literal
            if ln.startswith(tag + b" "):
                if not ln[len(tag) + 1:].startswith(b"OK"):
                    raise OSError("%s failed: %s" % (tag.decode(), ln.decode(errors="replace").strip()))
                return ln
            if on_untagged and ln.startswith(b"* "):
                on_untagged(ln, None)


def rawline(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        ch = sock.recv(1)
        if not ch:
            raise OSError("connection closed by server")
        buf += ch
        if len(buf) > 8192:
            raise OSError("line too long")
    return buf


def quote(s):
    b = s.encode()
    if any(c in b for c in b'\r\n\0') or len(b) > 1000:
        raise SystemExit("imap_ceiling: unsupported characters in credentials")
    return b'"' + b.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def main():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=env("MXD_IMAP_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, help="default MXD_IMAPS_PORT (TLS) or MXD_IMAP_PORT (--plain, --starttls)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plain", action="store_true", help="no TLS")
    mode.add_argument("--starttls", action="store_true", help="plain port, then STARTTLS")
    p.add_argument("--ca", default=env("MXD_CA"), help="CA file to verify the server (default MXD_CA)")
    p.add_argument("--servername", default=env("MXD_IMAP_HOSTNAME", "localhost"),
                   help="name to verify in the certificate")
    p.add_argument("--user", default=env("MXD_IMAP_USER", "tester"))
    p.add_argument("--pass-env", default="MXD_IMAP_PASS")
    p.add_argument("--mailbox", default="INBOX")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    if a.port is None:
        v = env("MXD_IMAP_PORT") if (a.plain or a.starttls) else env("MXD_IMAPS_PORT")
        if not v:
            p.error("--port not given and not in the environment")
        a.port = int(v)
    pw = env(a.pass_env)
    if pw is None:
        p.error("environment variable %s is not set" % a.pass_env)

    t0 = time.monotonic()
    try:
        sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ctx = None
        if not a.plain:
            ctx = ssl.create_default_context(cafile=a.ca) if a.ca else ssl.create_default_context()
        if ctx and not a.starttls:
            sock = ctx.wrap_socket(sock, server_hostname=a.servername)
        if a.starttls:
            # Unbuffered up to the handshake, so that no plaintext can be read ahead and trusted.
            g = rawline(sock)
            if not g.startswith(b"* OK"):
                raise OSError("bad greeting: %r" % g[:100])
            sock.sendall(b"c0 STARTTLS\r\n")
            while True:
                ln = rawline(sock)
                if ln.startswith(b"c0 "):
                    break
            if not ln.startswith(b"c0 OK"):
                raise OSError("STARTTLS refused: %r" % ln[:100])
            sock = ctx.wrap_socket(sock, server_hostname=a.servername)
            c = Imap(sock)
        else:
            c = Imap(sock)
            g = c.line()
            if not g.startswith(b"* OK"):
                raise OSError("bad greeting: %r" % g[:100])
        c.wait(c.send(b"LOGIN " + quote(a.user) + b" " + quote(pw)))
        c.wait(c.send(b"EXAMINE " + quote(a.mailbox)))

        count = 0
        nbytes = 0

        def untagged(ln, lit):
            nonlocal count, nbytes
            if lit is not None and b" FETCH " in ln:
                count += 1
                nbytes += lit

        t1 = time.monotonic()
        c.wait(c.send(b"UID FETCH 1:* BODY.PEEK[]"), untagged)
        t2 = time.monotonic()
        try:
            c.wait(c.send(b"LOGOUT"))
        except OSError:
            pass
        sock.close()
    except (OSError, ssl.SSLError) as e:
        print("imap_ceiling: %s" % e, file=sys.stderr)
        return 1
    fetch = t2 - t1
    total = t2 - t0
    res = {
        "messages": count,
        "bytes": nbytes,
        "fetch_seconds": round(fetch, 4),
        "total_seconds": round(total, 4),
        "msgs_per_s": round(count / fetch, 1) if fetch > 0 else None,
        "mib_per_s": round(nbytes / fetch / 1048576, 2) if fetch > 0 else None,
    }
    if a.json:
        print(json.dumps(res))
    else:
        print(" ".join("%s=%s" % kv for kv in res.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
