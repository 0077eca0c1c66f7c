#!/usr/bin/env python3
"""probe.py — a client for the check test servers (servers.sh waits with it; tests may use it).

    probe.py wait-https ADDR PORT CAFILE HOST SECONDS
        until GET https://HOST/.well-known/mta-sts.txt, sent to ADDR:PORT with SNI and Host HOST
        and verified against CAFILE, answers 200 (exit 0), or SECONDS pass (exit 1)
    probe.py wait-smtp TABLE PORT SECONDS
        until every address of smtpd.py's TABLE answers as its behaviour should: a 220 (421 for
        busy) greeting, the first bytes of the garbage, an accepted connection for silent
    probe.py fetch ADDR PORT CAFILE HOST PATH [METHOD [BODYFILE]]
        one HTTPS request (no redirect followed, 3 s read timeout); prints JSON: status, reason,
        headers (lower-case names), body_len, body (first 200 bytes), error, tls_error, verify_error
Standard library only.
"""

import http.client
import json
import socket
import ssl
import sys
import time


class Conn(http.client.HTTPSConnection):
    """HTTPS to a fixed address; SNI, Host header and certificate check use the host name."""

    def __init__(self, addr, port, host, ctx, timeout):
        super().__init__(host, port, context=ctx, timeout=timeout)
        self.addr = addr

    def connect(self):
        sock = socket.create_connection((self.addr, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    return ctx


def fetch(addr, port, cafile, host, path, method="GET", body=None, timeout=3.0):
    out = {"status": None, "reason": None, "headers": {}, "body_len": None, "body": None,
           "error": None, "tls_error": None, "verify_error": None}
    c = Conn(addr, int(port), host, context(cafile), timeout)
    try:
        c.request(method, path, body=body, headers={"User-Agent": "probe.py"})
        r = c.getresponse()
        out["status"], out["reason"] = r.status, r.reason
        out["headers"] = {k.lower(): v for k, v in r.getheaders()}
        try:
            data = r.read()
            out["body_len"] = len(data)
            out["body"] = data[:200].decode("latin-1")
        except (socket.timeout, TimeoutError):
            out["error"] = "timeout reading the body"
        except http.client.IncompleteRead as e:
            out["error"] = "incomplete body: %d bytes" % len(e.partial)
            out["body_len"] = len(e.partial)
    except ssl.SSLCertVerificationError as e:
        out["tls_error"] = str(e)
        out["verify_error"] = e.verify_message
    except ssl.SSLError as e:
        out["tls_error"] = str(e)
    except (OSError, http.client.HTTPException) as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        c.close()
    return out


def wait_https(addr, port, cafile, host, seconds):
    end = time.monotonic() + float(seconds)
    last = None
    while True:
        r = fetch(addr, port, cafile, host, "/.well-known/mta-sts.txt", timeout=2)
        if r["status"] == 200 and r["body_len"]:
            return 0
        last = r
        if time.monotonic() > end:
            sys.stderr.write("probe.py: https %s:%s (%s) does not answer: %s\n" % (addr, port, host, json.dumps(last)))
            return 1
        time.sleep(0.05)


def smtp_ok(addr, port, kind):
    s = socket.create_connection((addr, int(port)), 2)
    try:
        if kind == "silent":
            return True
        s.settimeout(2)
        data = b""
        while b"\n" not in data and len(data) < 16:
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        if kind == "garbage":
            return data.startswith(b"220 xx")
        if kind == "busy":
            ok = data.startswith(b"421 ")
        else:
            ok = data.startswith(b"220 ")
        if ok:
            s.sendall(b"QUIT\r\n")
        return ok
    finally:
        s.close()


def wait_smtp(table, port, seconds):
    entries = []
    with open(table) as f:
        for line in f:
            w = line.split("#", 1)[0].split()
            if len(w) == 4:
                entries.append((w[0], w[2]))
    end = time.monotonic() + float(seconds)
    todo = list(entries)
    while todo:
        left = []
        for addr, kind in todo:
            try:
                if not smtp_ok(addr, port, kind):
                    left.append((addr, kind))
            except OSError:
                left.append((addr, kind))
        todo = left
        if todo:
            if time.monotonic() > end:
                sys.stderr.write("probe.py: smtp port %s: no answer from %s\n" % (port, " ".join("%s(%s)" % t for t in todo)))
                return 1
            time.sleep(0.05)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "wait-https" and len(argv) == 7:
        return wait_https(*argv[2:])
    if len(argv) >= 2 and argv[1] == "wait-smtp" and len(argv) == 5:
        return wait_smtp(*argv[2:])
    if len(argv) >= 2 and argv[1] == "fetch" and 7 <= len(argv) <= 9:
        body = None
        if len(argv) == 9:
            with open(argv[8], "rb") as f:
                body = f.read()
        r = fetch(*argv[2:7], method=argv[7] if len(argv) > 7 else "GET", body=body)
        print(json.dumps(r, sort_keys=True))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
