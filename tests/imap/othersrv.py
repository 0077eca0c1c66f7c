#!/usr/bin/env python3
"""Helper for othersrv.sh: free ports, readiness probe, mail loading (mbox, Maildir, LMTP, APPEND).

Python 3 standard library only.  Every subcommand exits 0 on success and prints a one-line reason to
stderr (exit 1) on failure.  Passwords are never taken from argv: --pass-env names the variable.
"""

import argparse
import imaplib
import os
import re
import smtplib
import socket
import ssl
import sys
import time


def die(msg):
    print("othersrv.py: " + msg, file=sys.stderr)
    sys.exit(1)


def cmd_freeports(a):
    socks, ports = [], []
    try:
        for _ in range(a.n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
        print(" ".join(map(str, ports)))
    finally:
        for s in socks:
            s.close()


def read_line(sock, deadline):
    buf = b""
    while b"\n" not in buf:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            raise OSError("connection closed before greeting")
        buf += chunk
    return buf.split(b"\n", 1)[0].rstrip(b"\r")


def greeting(line):
    if not line.startswith(b"* OK"):
        raise OSError("unexpected greeting %r" % line[:100])
    return line


def pids_alive(pids):
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return pid
        if state in ("Z", "X"):
            return pid
    return None


def cmd_wait_ready(a):
    deadline = time.monotonic() + a.timeout
    last = "no attempt"
    delay = 0.02
    pids = [int(p) for p in a.pids.split(",") if p] if a.pids else []
    while time.monotonic() < deadline:
        try:
            step = min(deadline, time.monotonic() + 2)
            with socket.create_connection(("127.0.0.1", a.port), timeout=1) as s:
                g = greeting(read_line(s, step))
            if a.tls_port:
                ctx = ssl.create_default_context(cafile=a.ca)
                with socket.create_connection(("127.0.0.1", a.tls_port), timeout=1) as raw:
                    raw.settimeout(max(0.05, step - time.monotonic()))
                    with ctx.wrap_socket(raw, server_hostname=a.hostname) as s:
                        greeting(read_line(s, step))
            if a.print_greeting:
                print(g.decode("utf-8", "replace"))
            return
        except ssl.SSLCertVerificationError as e:
            die("TLS verification against the test CA failed: %s" % e)
        except (OSError, ssl.SSLError) as e:
            last = str(e) or e.__class__.__name__
        dead = pids_alive(pids)
        if dead:
            die("server process %d is not running (%s)" % (dead, last))
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    die("server not ready after %.0f s: %s" % (a.timeout, last))


def read_mail(path):
    with open(path, "rb") as f:
        return f.read()


def chown(path, a):
    if a.uid is not None:
        os.chown(path, a.uid, a.gid if a.gid is not None else -1)


_counter = [0]


def maildir_name():
    _counter[0] += 1
    now = time.time()
    return "%d.M%06dP%d_%d.%s" % (int(now), int((now % 1) * 1e6), os.getpid(), _counter[0],
                                 socket.gethostname().replace("/", "_").replace(":", "_"))


def cmd_maildir(a):
    # Like an MDA: write to tmp/, then rename into new/.
    for sub in ("tmp", "new", "cur"):
        if not os.path.isdir(os.path.join(a.maildir, sub)):
            die("%s is not a Maildir" % a.maildir)
    for path in a.files:
        data = read_mail(path)
        name = maildir_name()
        tmp = os.path.join(a.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        chown(tmp, a)
        os.rename(tmp, os.path.join(a.maildir, "new", name))


def dotlock(path, timeout=10):
    # The classic mbox dot-lock (what Mailutils' default locker and most MDAs use): create a unique
    # file, hard-link it to PATH.lock.
    lock = path + ".lock"
    uniq = "%s.%s.%d.%d" % (lock, socket.gethostname(), os.getpid(), time.monotonic_ns())
    with open(uniq, "w") as f:
        f.write("%d\n" % os.getpid())
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                os.link(uniq, lock)
                return lock
            except FileExistsError:
                try:
                    if time.time() - os.stat(lock).st_mtime > 300:
                        os.unlink(lock)  # stale
                        continue
                except FileNotFoundError:
                    continue
                if time.monotonic() > deadline:
                    die("cannot lock %s (held by someone else)" % path)
                time.sleep(0.05)
    finally:
        os.unlink(uniq)


def cmd_mbox(a):
    # Appends like a foreign MDA (Postfix local, procmail): a From_ line, the message with >From
    # quoting (mboxrd), a blank line.  No X-UID/X-IMAPbase: the IMAP server adds those itself.
    lock = dotlock(a.mbox)
    try:
        sep = b""
        if os.path.exists(a.mbox) and os.path.getsize(a.mbox) > 0:
            with open(a.mbox, "rb") as r:
                r.seek(max(0, os.path.getsize(a.mbox) - 2))
                tail = r.read()
            sep = b"" if tail == b"\n\n" else b"\n" if tail.endswith(b"\n") else b"\n\n"
        fd = os.open(a.mbox, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "ab") as out:
            out.write(sep)
            for path in a.files:
                data = read_mail(path).replace(b"\r\n", b"\n")
                data = re.sub(rb"(?m)^(>*From )", rb">\1", data)
                if not data.endswith(b"\n"):
                    data += b"\n"
                stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime()).encode()
                out.write(b"From tlsrpt-sender@localhost " + stamp + b"\n" + data + b"\n")
        chown(a.mbox, a)
    finally:
        os.unlink(lock)


def cmd_lmtp(a):
    try:
        conn = smtplib.LMTP(a.socket)
    except OSError as e:
        die("cannot connect to LMTP socket %s: %s" % (a.socket, e))
    try:
        for path in a.files:
            data = re.sub(rb"\r?\n", b"\r\n", read_mail(path))
            refused = conn.sendmail("tlsrpt-sender@localhost", [a.rcpt], data)
            if refused:
                die("LMTP refused %s: %r" % (path, refused))
    except smtplib.SMTPException as e:
        die("LMTP delivery failed: %s" % e)
    finally:
        try:
            conn.quit()
        except smtplib.SMTPException:
            pass


def connect(a):
    pw = os.environ.get(a.pass_env)
    if pw is None:
        die("environment variable %s is not set" % a.pass_env)
    m = imaplib.IMAP4("127.0.0.1", a.port, timeout=a.timeout)
    m.login(a.user, pw)
    return m


def q(mailbox):
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cmd_append(a):
    m = connect(a)
    try:
        for path in a.files:
            data = re.sub(rb"\r?\n", b"\r\n", read_mail(path))
            typ, resp = m.append(q(a.mailbox), None, None, data)
            if typ != "OK":
                die("APPEND %s to %s failed: %r" % (path, a.mailbox, resp))
    finally:
        m.logout()


def cmd_count(a):
    m = connect(a)
    try:
        typ, data = m.select(q(a.mailbox), readonly=True)
        if typ != "OK":
            die("EXAMINE %s failed: %r" % (a.mailbox, data))
        print(int(data[0]))
    finally:
        m.logout()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("freeports")
    s.add_argument("n", type=int)
    s.set_defaults(func=cmd_freeports)

    s = sub.add_parser("wait-ready")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--tls-port", type=int)
    s.add_argument("--ca")
    s.add_argument("--hostname", default="localhost")
    s.add_argument("--timeout", type=float, default=20)
    s.add_argument("--pids", help="comma-separated PIDs that must stay alive")
    s.add_argument("--print-greeting", action="store_true")
    s.set_defaults(func=cmd_wait_ready)

    for name, func in (("maildir", cmd_maildir), ("mbox", cmd_mbox)):
        s = sub.add_parser(name)
        s.add_argument("--" + name, required=True)
        s.add_argument("--uid", type=int)
        s.add_argument("--gid", type=int)
        s.add_argument("files", nargs="+")
        s.set_defaults(func=func)

    s = sub.add_parser("lmtp")
    s.add_argument("--socket", required=True)
    s.add_argument("--rcpt", required=True)
    s.add_argument("files", nargs="+")
    s.set_defaults(func=cmd_lmtp)

    for name, func in (("append", cmd_append), ("count", cmd_count)):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--user", required=True)
        s.add_argument("--pass-env", default="MXD_IMAP_PASS")
        s.add_argument("--timeout", type=float, default=30)
        s.add_argument("mailbox")
        if name == "append":
            s.add_argument("files", nargs="+")
        s.set_defaults(func=func)

    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
