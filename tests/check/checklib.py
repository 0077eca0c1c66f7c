"""Shared parts of httpsd.py and smtpd.py (tests/check): logging, TLS contexts, listening
sockets, the ready file and the watchdog.  Standard library only."""

import datetime
import os
import signal
import socket
import ssl
import sys
import threading
import time


class Log:
    """One line per event, flushed at once, safe across threads.  Lines look like
    2026-12-02T19:20:21.123456Z WHO TEXT   (TEXT has control characters escaped)."""

    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8", errors="backslashreplace")
        self.lock = threading.Lock()

    def write(self, who, text):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line = "%s %s %s\n" % (now, who, printable(text))
        with self.lock:
            self.f.write(line)
            self.f.flush()


def printable(text, limit=400):
    """Escape CR, LF and other control characters; cut very long text (with its length)."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    cut = ""
    if len(text) > limit:
        cut = "...[%d chars]" % len(text)
        text = text[:limit]
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append({"\r": "\\r", "\n": "\\n", "\t": "\\t"}.get(ch, "\\x%02x" % o))
        else:
            out.append(ch)
    return "".join(out) + cut


class Counter:
    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            self.n += 1
            return self.n


def server_context(certdir, name):
    """A server-side TLS context serving CERTDIR/NAME.pem (leaf + CA) with CERTDIR/NAME.key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(certdir, name + ".pem"), os.path.join(certdir, name + ".key"))
    return ctx


def listen_all(addrs, hint=0, backlog=64):
    """Listening TCP sockets on every address, all with the same port: HINT if it is free on all
    of them, else one the kernel picks for the first address (tried a few times)."""
    tries = ([hint] if hint else []) + [0] * 20
    last = None
    for port in tries:
        socks = []
        try:
            for a in addrs:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((a, port))
                if port == 0:
                    port = s.getsockname()[1]
                s.listen(backlog)
            return socks, port
        except OSError as e:
            last = e
            for s in socks:
                s.close()
    raise SystemExit("cannot listen on %s: %s" % (", ".join(addrs), last))


def write_ready(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def install_exit(log, who):
    """SIGTERM/SIGINT: log and leave at once (connection threads are daemons)."""

    def bye(signum, frame):
        log.write(who, "* stopped (signal %d)" % signum)
        os._exit(0)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def start_watchdog(log, who, watch, lifetime):
    """Exit when the directory WATCH disappears (the instance was removed without stop) or after
    LIFETIME seconds (0: never), so a forgotten server never outlives its test run for long."""
    start = time.monotonic()

    def run():
        while True:
            time.sleep(2)
            if watch and not os.path.isdir(watch):
                log.write(who, "* exiting: %s is gone" % watch)
                os._exit(0)
            if lifetime and time.monotonic() - start > lifetime:
                log.write(who, "* exiting: lifetime of %d s reached" % lifetime)
                os._exit(0)

    threading.Thread(target=run, daemon=True).start()


def wait_eof(sock, limit, stop_early=None):
    """Hold a connection open without sending anything until the peer closes it, a read fails,
    or LIMIT seconds have passed.  Returns (reason, bytes received)."""
    end = time.monotonic() + limit
    got = 0
    sock.settimeout(1.0)
    while time.monotonic() < end:
        try:
            data = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            continue
        except ssl.SSLWantReadError:
            continue
        except (OSError, ssl.SSLError) as e:
            return "read error: %s" % e, got
        if not data:
            return "closed by client", got
        got += len(data)
        if stop_early and stop_early(data):
            return "stopped", got
    return "stall limit of %d s reached" % limit, got


def die(msg):
    sys.stderr.write("%s\n" % msg)
    sys.exit(1)
