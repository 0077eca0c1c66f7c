#!/usr/bin/env python3
"""Helper for dovecot.sh: free ports, readiness probe, Maildir delivery, IMAP APPEND/count/UIDVALIDITY.

Python 3 standard library only.  Every subcommand exits 0 on success and prints a one-line reason to
stderr (exit 1) on failure.  The password is never taken from argv: --pass-env names the variable.
"""

import argparse
import imaplib
import os
import re
import socket
import ssl
import sys
import time


def die(msg):
    print("imaptool: " + msg, file=sys.stderr)
    sys.exit(1)


def cmd_freeports(a):
    # Hold every socket until all are chosen so that the kernel hands out distinct ports; with
    # --also, the port must be free on that address too (the "wrong host" listener).
    socks = []
    ports = []
    try:
        while len(ports) < a.n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if a.also:
                s2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s2)
                try:
                    s2.bind((a.also, port))
                except OSError:
                    continue
            ports.append(port)
        print(" ".join(map(str, ports)))
    finally:
        for s in socks:
            s.close()


def read_greeting(sock, deadline):
    buf = b""
    while b"\n" not in buf:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            raise OSError("connection closed before greeting")
        buf += chunk
    line = buf.split(b"\n", 1)[0]
    if not line.startswith(b"* OK"):
        raise OSError("unexpected greeting %r" % line[:80])
    return line


def probe_once(a, deadline):
    with socket.create_connection(("127.0.0.1", a.port), timeout=1) as s:
        read_greeting(s, deadline)
    ctx = ssl.create_default_context(cafile=a.ca)
    with socket.create_connection(("127.0.0.1", a.tls_port), timeout=1) as raw:
        raw.settimeout(max(0.05, deadline - time.monotonic()))
        with ctx.wrap_socket(raw, server_hostname=a.hostname) as s:
            read_greeting(s, deadline)


def master_alive(pid_file):
    try:
        with open(pid_file) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return True  # not written yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def log_errors(path, offset):
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return None
    for line in data.decode("utf-8", "replace").splitlines():
        if re.search(r": (Error|Fatal|Panic): ", line):
            return line
    return None


def cmd_wait_ready(a):
    deadline = time.monotonic() + a.timeout
    last = "no attempt"
    delay = 0.01
    while time.monotonic() < deadline:
        try:
            probe_once(a, min(deadline, time.monotonic() + 2))
            return
        except ssl.SSLCertVerificationError as e:
            # Verification failure will not fix itself: fail now.
            die("TLS verification against the test CA failed: %s" % e)
        except (OSError, ssl.SSLError) as e:
            last = str(e) or e.__class__.__name__
        if a.pid_file and not master_alive(a.pid_file):
            die("dovecot master is not running: %s" % last)
        bad = log_errors(a.log, a.log_offset)
        if bad:
            # A configuration error (bad certificate, unreadable file...) will not go away.
            die("dovecot logged an error while starting: %s" % bad)
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    die("server not ready after %.0f s: %s" % (a.timeout, last))


def connect(a):
    pw = os.environ.get(a.pass_env)
    if pw is None:
        die("environment variable %s is not set" % a.pass_env)
    if a.tls:
        ctx = ssl.create_default_context(cafile=a.ca)
        m = imaplib.IMAP4_SSL(a.host, a.port, ssl_context=ctx, timeout=a.timeout)
    else:
        m = imaplib.IMAP4(a.host, a.port, timeout=a.timeout)
    m.login(a.user, pw)
    return m


def q(mailbox):
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def select_info(m, mailbox):
    typ, data = m.select(q(mailbox), readonly=True)
    if typ != "OK":
        die("EXAMINE %s failed: %r" % (mailbox, data))
    exists = int(data[0])
    uv = m.response("UIDVALIDITY")[1]
    return exists, int(uv[0]) if uv and uv[0] else None


def cmd_count(a):
    m = connect(a)
    try:
        print(select_info(m, a.mailbox)[0])
    finally:
        m.logout()


def cmd_uidvalidity(a):
    m = connect(a)
    try:
        exists, uv = select_info(m, a.mailbox)
        m.close()
        typ, data = m.status(q(a.mailbox), "(UIDVALIDITY MESSAGES)")
        if typ != "OK":
            die("STATUS failed: %r" % data)
        st = data[0].decode() if isinstance(data[0], bytes) else str(data[0])
        suv = re.search(r"UIDVALIDITY (\d+)", st)
        smsg = re.search(r"MESSAGES (\d+)", st)
        if not suv or not smsg:
            die("cannot parse STATUS reply %r" % st)
        if int(suv.group(1)) != uv:
            die("STATUS UIDVALIDITY %s differs from EXAMINE %s" % (suv.group(1), uv))
        print("%d %d" % (uv, exists))
    finally:
        m.logout()


def cmd_append(a):
    m = connect(a)
    try:
        for path in a.files:
            with open(path, "rb") as f:
                data = f.read()
            # imaplib sends the literal as is; IMAP wants CRLF line ends.
            data = re.sub(rb"\r?\n", b"\r\n", data)
            typ, resp = m.append(q(a.mailbox), None, None, data)
            if typ != "OK":
                die("APPEND %s to %s failed: %r" % (path, a.mailbox, resp))
    finally:
        m.logout()


def cmd_empty(a):
    # Tests only: removes every message of the mailbox (STORE \Deleted + EXPUNGE).
    m = connect(a)
    try:
        typ, data = m.select(q(a.mailbox))
        if typ != "OK":
            die("SELECT %s failed: %r" % (a.mailbox, data))
        if int(data[0]) > 0:
            m.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
            m.expunge()
        m.close()
    finally:
        m.logout()


def cmd_seen(a):
    # Prints how many messages of the mailbox carry \Seen.
    m = connect(a)
    try:
        select_info(m, a.mailbox)
        typ, data = m.search(None, "SEEN")
        if typ != "OK":
            die("SEARCH SEEN failed: %r" % data)
        print(len(data[0].split()) if data and data[0] else 0)
    finally:
        m.logout()


def maildir_sources(srcdir):
    subs = [os.path.join(srcdir, d) for d in ("cur", "new")]
    if any(os.path.isdir(d) for d in subs):
        dirs = [d for d in subs if os.path.isdir(d)]
    else:
        dirs = [srcdir]
    out = []
    for d in dirs:
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if os.path.isfile(p):
                out.append(p)
    return out


def cmd_deliver(a):
    files = list(a.files)
    if a.dir:
        if not os.path.isdir(a.dir):
            die("%s is not a directory" % a.dir)
        files = maildir_sources(a.dir)
    tmp = os.path.join(a.maildir, "tmp")
    new = os.path.join(a.maildir, "new")
    for d in (a.maildir, tmp, new, os.path.join(a.maildir, "cur")):
        if not os.path.isdir(d):
            os.mkdir(d, 0o700)
            if a.uid >= 0:
                os.chown(d, a.uid, a.gid)
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
    pid = os.getpid()
    n = 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        # Unique per message (Dovecot hashes these names; repeated stems make SELECT slow).
        now = time.time()
        secs = int(now)
        usecs = int((now - secs) * 1e6)
        name = "%d.M%dP%d_%d.%s" % (secs, usecs, pid, n, host)
        n += 1
        t = os.path.join(tmp, name)
        with os.fdopen(os.open(t, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(data)
        if a.uid >= 0:
            os.chown(t, a.uid, a.gid)
        os.rename(t, os.path.join(new, name))
    if a.verbose:
        print(n)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("freeports")
    s.add_argument("n", type=int)
    s.add_argument("--also", help="second address the ports must be free on")
    s.set_defaults(fn=cmd_freeports)

    s = sub.add_parser("wait-ready")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--tls-port", type=int, required=True)
    s.add_argument("--ca", required=True)
    s.add_argument("--hostname", default="localhost")
    s.add_argument("--timeout", type=float, default=10)
    s.add_argument("--pid-file")
    s.add_argument("--log", help="Dovecot log: an Error/Fatal/Panic line after --log-offset fails at once")
    s.add_argument("--log-offset", type=int, default=0)
    s.set_defaults(fn=cmd_wait_ready)

    def imap_opts(s):
        s.add_argument("--host", default="127.0.0.1")
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--tls", action="store_true", help="IMAPS (verified against --ca)")
        s.add_argument("--ca")
        s.add_argument("--user", required=True)
        s.add_argument("--pass-env", default="MXD_IMAP_PASS")
        s.add_argument("--timeout", type=float, default=30)

    s = sub.add_parser("count")
    imap_opts(s)
    s.add_argument("mailbox")
    s.set_defaults(fn=cmd_count)

    s = sub.add_parser("uidvalidity", help="print 'UIDVALIDITY MESSAGES' (EXAMINE, checked with STATUS)")
    imap_opts(s)
    s.add_argument("mailbox")
    s.set_defaults(fn=cmd_uidvalidity)

    s = sub.add_parser("empty", help="delete every message of a mailbox (tests only)")
    imap_opts(s)
    s.add_argument("mailbox")
    s.set_defaults(fn=cmd_empty)

    s = sub.add_parser("seen", help="print how many messages carry \\Seen")
    imap_opts(s)
    s.add_argument("mailbox")
    s.set_defaults(fn=cmd_seen)

    s = sub.add_parser("append")
    imap_opts(s)
    s.add_argument("mailbox")
    s.add_argument("files", nargs="+")
    s.set_defaults(fn=cmd_append)

    s = sub.add_parser("deliver")
    s.add_argument("--maildir", required=True)
    s.add_argument("--uid", type=int, default=-1)
    s.add_argument("--gid", type=int, default=-1)
    s.add_argument("--dir", help="copy every file of this directory (or cur/ and new/ of this Maildir)")
    s.add_argument("--verbose", action="store_true")
    s.add_argument("files", nargs="*")
    s.set_defaults(fn=cmd_deliver)

    a = p.parse_args()
    try:
        a.fn(a)
    except imaplib.IMAP4.error as e:
        die("IMAP: %s" % e)
    except (OSError, ssl.SSLError) as e:
        die(str(e))


if __name__ == "__main__":
    main()
