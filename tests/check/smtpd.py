#!/usr/bin/env python3
"""smtpd.py — the SMTP servers of the `mxdigest check --smtp` tests (tests/check/README.md).

    smtpd.py --table smtp.tab --certs CERTDIR --log FILE --ready FILE [--port N] [--watch DIR]
             [--lifetime S] [--stall S]

Listens on every address of the table (lines "ADDRESS NAME KIND CERT"), all on one port (N if it
is free, else one the kernel picks), and writes that port to the ready file.  One behaviour per
address (KIND):
    starttls    220 greeting, EHLO offers STARTTLS, TLS with CERT, EHLO again, QUIT 221
    nostarttls  the same without STARTTLS (a STARTTLS anyway gets 502)
    tlsreset    offers STARTTLS, answers 220, reads the ClientHello, then resets the connection
    silent      accepts and never sends anything
    garbage     sends "220 " and 10 MB without a line end, then stalls
    busy        greets with 421 and closes (after answering a QUIT within 2 s)
Nothing is ever delivered: MAIL, RCPT and DATA get 554.  Every line received and sent is logged:
    TIME ADDRESS NAME #CONN C|S|C/tls|S/tls TEXT      a command received / a reply sent
    TIME ADDRESS NAME #CONN * TEXT                    an event (connect, TLS result, close)
Standard library only; one daemon thread per connection, every read and write with a timeout.
"""

import argparse
import os
import selectors
import socket
import ssl
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checklib  # noqa: E402

KINDS = ("starttls", "nostarttls", "tlsreset", "silent", "garbage", "busy")
READ_TIMEOUT = 30
MAX_LINE = 2048
GARBAGE_BYTES = 10 * 1024 * 1024

tls_local = threading.local()


class Conn:
    def __init__(self, srv, entry, sock, peer):
        self.srv, self.entry, self.sock, self.peer = srv, entry, sock, peer
        self.id = srv.counter.next()
        self.who = "%s %s #%d" % (entry["addr"], entry["name"], self.id)
        self.buf = b""
        self.tls = False

    def log(self, tag, text):
        self.srv.log.write(self.who, "%s %s" % (tag, text))

    def event(self, text):
        self.log("*", text)

    def send(self, *lines):
        data = b"".join(l.encode() + b"\r\n" for l in lines)
        for l in lines:
            self.log("S/tls" if self.tls else "S", l)
        self.sock.sendall(data)

    def readline(self):
        """A line without its CRLF; None at EOF.  Raises socket.timeout."""
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise ValueError("line longer than %d bytes" % MAX_LINE)
            data = self.sock.recv(4096)
            if not data:
                if self.buf:
                    self.log("C/tls" if self.tls else "C", self.buf.decode("latin-1") + " [no line end]")
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        line = line[:-1] if line.endswith(b"\r") else line
        text = line.decode("latin-1")
        self.log("C/tls" if self.tls else "C", text)
        return text


class Server:
    def __init__(self, args):
        self.args = args
        self.log = checklib.Log(args.log)
        self.counter = checklib.Counter()
        self.entries = []
        self.ctx = {}
        with open(args.table) as f:
            for n, raw in enumerate(f, 1):
                line = raw.split("#", 1)[0].split()
                if not line:
                    continue
                if len(line) != 4 or line[2] not in KINDS:
                    checklib.die("%s:%d: want ADDRESS NAME KIND CERT, KIND one of %s" % (args.table, n, ", ".join(KINDS)))
                addr, name, kind, cert = line
                e = {"addr": addr, "name": name, "kind": kind, "cert": None if cert == "-" else cert}
                if kind in ("starttls", "tlsreset") and not e["cert"]:
                    checklib.die("%s:%d: %s needs a certificate" % (args.table, n, kind))
                if e["cert"] and e["cert"] not in self.ctx:
                    ctx = checklib.server_context(args.certs, e["cert"])
                    ctx.sni_callback = note_sni
                    self.ctx[e["cert"]] = ctx
                self.entries.append(e)
        if not self.entries:
            checklib.die("%s: no addresses" % args.table)

    def run(self):
        socks, port = checklib.listen_all([e["addr"] for e in self.entries], self.args.port)
        sel = selectors.DefaultSelector()
        for s, e in zip(socks, self.entries):
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, e)
        checklib.install_exit(self.log, "smtpd")
        checklib.start_watchdog(self.log, "smtpd", self.args.watch, self.args.lifetime)
        self.log.write("smtpd", "* listening on port %d: %s" % (port, ", ".join(
            "%s=%s" % (e["addr"], e["name"]) for e in self.entries)))
        checklib.write_ready(self.args.ready, port)
        while True:
            for key, _ in sel.select():
                try:
                    conn, peer = key.fileobj.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                conn.setblocking(True)
                c = Conn(self, key.data, conn, peer)
                threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        c.event("connect from %s:%d" % c.peer)
        c.sock.settimeout(READ_TIMEOUT)
        try:
            getattr(self, "kind_" + c.entry["kind"])(c)
        except (socket.timeout, TimeoutError):
            c.event("timeout, closing")
            try:
                c.send("421 4.4.2 idle timeout, closing")
            except OSError:
                pass
        except ValueError as e:
            c.event("%s, closing" % e)
            try:
                c.send("500 5.5.6 line too long")
            except OSError:
                pass
        except (OSError, ssl.SSLError) as e:
            c.event("connection error: %s" % e)
        finally:
            try:
                c.sock.close()
            except OSError:
                pass
            c.event("closed")

    # ---- behaviours -------------------------------------------------------------------------

    def banner(self, c):
        return "mx.%s.harness.test" % c.entry["name"]

    def kind_starttls(self, c):
        self.dialogue(c, starttls=True)

    def kind_nostarttls(self, c):
        self.dialogue(c, starttls=False)

    def kind_tlsreset(self, c):
        self.dialogue(c, starttls=True, reset=True)

    def dialogue(self, c, starttls, reset=False):
        host = self.banner(c)
        c.send("220 %s ESMTP mxdigest test server (%s)" % (host, c.entry["name"]))
        while True:
            line = c.readline()
            if line is None:
                c.event("closed by client")
                return
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                caps = ["%s greets %s" % (host, line[5:].strip() or "?"), "PIPELINING", "SIZE 10240000"]
                if starttls and not c.tls:
                    caps.append("STARTTLS")
                caps += ["ENHANCEDSTATUSCODES", "8BITMIME"]
                c.send(*["250-" + x for x in caps[:-1]] + ["250 " + caps[-1]])
            elif verb == "HELO":
                c.send("250 %s" % host)
            elif verb == "STARTTLS":
                if not starttls:
                    c.send("502 5.5.1 STARTTLS not offered here")
                elif c.tls:
                    c.send("503 5.5.1 TLS already active")
                elif line.strip().upper() != "STARTTLS":
                    c.send("501 5.5.4 STARTTLS takes no argument")
                else:
                    c.send("220 2.0.0 Ready to start TLS")
                    if c.buf:
                        c.event("%d bytes sent after STARTTLS before the handshake (discarded)" % len(c.buf))
                        c.buf = b""
                    if reset:
                        self.reset(c)
                        return
                    if not self.handshake(c):
                        return
            elif verb == "QUIT":
                c.send("221 2.0.0 Bye")
                return
            elif verb in ("NOOP", "RSET"):
                c.send("250 2.0.0 OK")
            elif verb in ("MAIL", "RCPT", "DATA", "BDAT"):
                c.send("554 5.7.0 this test server accepts no mail")
            else:
                c.send("502 5.5.2 command not implemented")

    def handshake(self, c):
        tls_local.sni = None
        ctx = self.ctx[c.entry["cert"]]
        try:
            c.sock = ctx.wrap_socket(c.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            c.event("TLS handshake failed (sni=%s): %s" % (tls_local.sni, e))
            return False
        c.tls = True
        c.event("TLS ok: %s %s sni=%s cert=%s" % (c.sock.version(), c.sock.cipher()[0], tls_local.sni, c.entry["cert"]))
        return True

    def reset(self, c):
        """Read what the client sends first (its ClientHello), then abort with a TCP RST."""
        c.sock.settimeout(5)
        try:
            got = len(c.sock.recv(65536))
        except (socket.timeout, TimeoutError):
            got = 0
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.event("reset after %d bytes of the handshake" % got)

    def kind_silent(self, c):
        reason, got = checklib.wait_eof(c.sock, self.args.stall, None)
        c.event("%s (%d bytes received)" % (reason, got))

    def kind_garbage(self, c):
        c.log("S", "220 + %d bytes of 'x' without a line end" % GARBAGE_BYTES)
        chunk = b"x" * 65536
        sent = 0
        c.sock.sendall(b"220 ")
        try:
            while sent < GARBAGE_BYTES:
                n = min(len(chunk), GARBAGE_BYTES - sent)
                c.sock.sendall(chunk[:n])
                sent += n
        except (OSError, ssl.SSLError) as e:
            c.event("stopped after %d bytes: %s" % (sent, e))
            return
        c.event("sent %d bytes, now stalling" % sent)
        reason, got = checklib.wait_eof(c.sock, self.args.stall, None)
        c.event("%s (%d bytes received)" % (reason, got))

    def kind_busy(self, c):
        c.send("421 4.3.2 %s service not available, closing transmission channel" % self.banner(c))
        c.sock.settimeout(2)
        end = time.monotonic() + 2
        try:
            while time.monotonic() < end:
                line = c.readline()
                if line is None:
                    c.event("closed by client")
                    return
                if line.split(" ", 1)[0].upper() == "QUIT":
                    c.send("221 2.0.0 Bye")
                    return
        except (socket.timeout, TimeoutError):
            pass


def note_sni(sslobj, server_name, ctx):
    tls_local.sni = server_name
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--table", required=True)
    p.add_argument("--certs", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--watch", default="")
    p.add_argument("--lifetime", type=int, default=6 * 3600)
    p.add_argument("--stall", type=int, default=600, help="longest stall of silent/garbage (s)")
    args = p.parse_args()
    Server(args).run()


if __name__ == "__main__":
    main()
