#!/usr/bin/env python3
"""httpsd.py — the HTTPS server of the `mxdigest check` tests (tests/check/README.md).

    httpsd.py --table https.tab --www DIR --certs CERTDIR --addr ADDRESS --log FILE --ready FILE
              [--port N] [--posts DIR] [--watch DIR] [--lifetime S] [--stall S]

One threaded server for every web host.  The TLS certificate is chosen by SNI, the behaviour by
the Host header (both from the table); a request whose Host differs from its SNI gets 421.  Table
lines: HOST<TAB>key=value<TAB>...   with the keys
    cert=NAME      CERTDIR/NAME.pem + NAME.key (default good)
    mode=length    GET/HEAD /.well-known/mta-sts.txt: status, headers, Content-Length, body
    mode=chunked   the same with Transfer-Encoding: chunked (no Content-Length)
    mode=close     the same with neither: the body ends when the connection closes (after a
                   TLS close_notify)
    mode=rawclose  like close, but the TCP connection is closed without a close_notify
    mode=stall     status and headers (with Content-Length), then nothing until the client leaves
    mode=sink      a report endpoint: any method, any path, 200; a request body is saved in --posts
    status=N  type=CONTENT-TYPE  body=FILE (in --www)  location=URL (a Location header)
Other paths of a policy host give 404, other methods 405.  An unknown SNI gets the "good"
certificate, an unknown Host 404.  Log lines (--log):
    TIME https #CONN * TEXT                                  connection events, TLS results
    TIME https #CONN METHOD PATH host=H sni=S -> STATUS ...  one per request
Standard library only; one daemon thread per connection; TLS handshakes run in that thread, never
in the accepting one, and every read and write has a timeout.
"""

import argparse
import http.server
import os
import socketserver
import ssl
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checklib  # noqa: E402

POLICY_PATH = "/.well-known/mta-sts.txt"
MODES = ("length", "chunked", "close", "rawclose", "stall", "sink")
IO_TIMEOUT = 30
MAX_POST = 20 * 1024 * 1024

tls_local = threading.local()


def load_table(path, wwwdir):
    hosts = {}
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            raw = raw.rstrip("\n")
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            fields = raw.split("\t")
            host = fields[0].strip().lower().rstrip(".")
            e = {"cert": "good", "mode": "length", "status": "200", "type": "text/plain", "body": None, "location": None}
            for kv in fields[1:]:
                if "=" not in kv:
                    checklib.die("%s:%d: field %r is not key=value" % (path, n, kv))
                k, v = kv.split("=", 1)
                if k not in e:
                    checklib.die("%s:%d: unknown key %r" % (path, n, k))
                e[k] = v
            if e["mode"] not in MODES:
                checklib.die("%s:%d: mode must be one of %s" % (path, n, ", ".join(MODES)))
            e["status"] = int(e["status"])
            if e["body"]:
                with open(os.path.join(wwwdir, e["body"]), "rb") as bf:
                    e["data"] = bf.read()
            else:
                e["data"] = b""
            hosts[host] = e
    return hosts


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, sock, args, hosts, contexts, log):
        self.args, self.hosts, self.contexts, self.log = args, hosts, contexts, log
        self.counter = checklib.Counter()
        self.post_counter = checklib.Counter()
        socketserver.BaseServer.__init__(self, sock.getsockname(), Handler)
        self.socket = sock
        # HTTPServer.server_bind would call socket.getfqdn(): a reverse lookup that may wait for
        # an unreachable DNS server.  The socket is bound and listening already.
        self.server_name, self.server_port = sock.getsockname()[:2]

    def finish_request(self, request, client_address):
        # Runs in the connection's own thread: a client that never sends its ClientHello only
        # blocks this thread, and only for IO_TIMEOUT.
        cid = self.counter.next()
        who = "https #%d" % cid
        request.settimeout(IO_TIMEOUT)
        tls_local.sni, tls_local.cert = None, "good"
        try:
            tls = self.contexts["good"].wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.log.write(who, "* TLS handshake failed from %s:%d (sni=%s): %s" % (client_address + (tls_local.sni, e)))
            return
        sni = tls_local.sni
        cert = tls_local.cert
        self.log.write(who, "* TLS ok from %s:%d: %s sni=%s cert=%s" % (client_address + (tls.version(), sni, cert)))
        tls_local.cid, tls_local.who, tls_local.no_notify = cid, who, False
        try:
            Handler(tls, client_address, self)
        except (OSError, ssl.SSLError) as e:
            self.log.write(who, "* connection error: %s" % e)
        finally:
            # A close_notify before the TCP FIN: a close-delimited body (mode=close) must end
            # cleanly for OpenSSL 3 clients, which report a bare FIN as "unexpected eof".
            if not tls_local.no_notify:
                try:
                    tls.settimeout(2)
                    tls.unwrap()
                except (OSError, ssl.SSLError, ValueError):
                    pass
            try:
                tls.close()
            except OSError:
                pass
            self.log.write(who, "* closed")

    def pick_cert(self, sslsock, server_name, ctx):
        tls_local.sni = server_name
        e = self.hosts.get((server_name or "").lower().rstrip("."))
        name = e["cert"] if e else "good"
        tls_local.cert = name
        if name != "good":
            sslsock.context = self.contexts[name]
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mxdigest-test-httpsd"
    sys_version = ""
    timeout = IO_TIMEOUT

    def setup(self):
        self.cid, self.who, self.sni = tls_local.cid, tls_local.who, tls_local.sni
        super().setup()

    def log_message(self, fmt, *args):
        self.server.log.write(self.who, "* " + (fmt % args))

    def log_request(self, code="-", size="-"):
        pass  # one line per request is written by note()

    def note(self, status, extra=""):
        self.server.log.write(self.who, "%s %s host=%s sni=%s -> %s%s" % (
            self.command, self.path, self.headers.get("Host", "-") if self.headers else "-", self.sni, status, extra))

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def dispatch(self):
        host = (self.headers.get("Host") or self.sni or "").lower()
        if host.startswith("["):
            host = host.split("]", 1)[0] + "]"
        elif ":" in host:
            host = host.rsplit(":", 1)[0]
        host = host.rstrip(".")
        if self.sni and host != self.sni.lower().rstrip("."):
            return self.simple(421, b"Misdirected Request: Host does not match SNI\n", "(host differs from sni)")
        e = self.server.hosts.get(host)
        if e is None:
            return self.simple(404, b"unknown host\n", "(unknown host)")
        if e["mode"] == "sink":
            return self.sink(e)
        path = self.path.split("?", 1)[0]
        if path != POLICY_PATH:
            return self.simple(404, b"Not Found\n", "(not the policy path)")
        if self.command not in ("GET", "HEAD"):
            return self.simple(405, b"Method Not Allowed\n", "", [("Allow", "GET, HEAD")])
        self.policy(e)

    def discard_body(self):
        """Read and return a request body (Content-Length or chunked), at most MAX_POST bytes."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000).strip():
                        pass
                    return bytes(out)
                if len(out) + size > MAX_POST:
                    raise ValueError("request body too large")
                out += self.rfile.read(size)
                self.rfile.readline(10)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_POST:
            raise ValueError("request body too large")
        return self.rfile.read(n) if n > 0 else b""

    def simple(self, status, body, why="", headers=()):
        try:
            self.discard_body()
        except (ValueError, OSError):
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.note(status, " " + why if why else "")

    def sink(self, e):
        try:
            body = self.discard_body()
        except (ValueError, OSError) as ex:
            self.close_connection = True
            return self.simple(413, b"too large\n", str(ex))
        saved = ""
        if body and self.server.args.posts:
            n = self.server.post_counter.next()
            name = os.path.join(self.server.args.posts, "%04d.body" % n)
            with open(name, "wb") as f:
                f.write(body)
            saved = " saved=%s" % name
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "3")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"OK\n")
        self.note(200, " sink body=%d type=%s encoding=%s%s" % (
            len(body), self.headers.get("Content-Type", "-"), self.headers.get("Content-Encoding", "-"), saved))

    def policy(self, e):
        data, mode = e["data"], e["mode"]
        self.send_response(e["status"])
        self.send_header("Content-Type", e["type"])
        if e["location"]:
            self.send_header("Location", e["location"])
        if mode in ("length", "stall"):
            self.send_header("Content-Length", str(len(data)))
        elif mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif mode in ("close", "rawclose"):
            self.send_header("Connection", "close")
            self.close_connection = True
            tls_local.no_notify = mode == "rawclose"
        self.end_headers()
        if mode == "stall":
            self.wfile.flush()
            self.note(e["status"], " stall: headers sent, no body")
            reason, got = checklib.wait_eof(self.connection, self.server.args.stall)
            self.server.log.write(self.who, "* stall ended: %s" % reason)
            self.close_connection = True
            return
        sent = 0
        if self.command != "HEAD":
            if mode == "chunked":
                for i in range(0, len(data), 8192):
                    part = data[i:i + 8192]
                    self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(data)
            sent = len(data)
        self.note(e["status"], " %s body=%d" % (mode, sent))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--table", required=True)
    p.add_argument("--www", required=True)
    p.add_argument("--certs", required=True)
    p.add_argument("--addr", default="127.0.2.1")
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--posts", default="")
    p.add_argument("--watch", default="")
    p.add_argument("--lifetime", type=int, default=6 * 3600)
    p.add_argument("--stall", type=int, default=600, help="longest stall of mode=stall (s)")
    args = p.parse_args()
    hosts = load_table(args.table, args.www)
    log = checklib.Log(args.log)
    contexts = {}
    for name in {"good"} | {e["cert"] for e in hosts.values()}:
        contexts[name] = checklib.server_context(args.certs, name)
    (sock,), port = checklib.listen_all([args.addr], args.port)
    srv = Server(sock, args, hosts, contexts, log)
    for ctx in contexts.values():
        ctx.sni_callback = srv.pick_cert
    if args.posts:
        os.makedirs(args.posts, exist_ok=True)
    checklib.install_exit(log, "https")
    checklib.start_watchdog(log, "https", args.watch, args.lifetime)
    log.write("https", "* listening on %s:%d, %d hosts" % (args.addr, port, len(hosts)))
    checklib.write_ready(args.ready, port)
    srv.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
