#!/usr/bin/env python3
"""A scripted IMAP server that can misbehave on cue, for the tests of a
hostile or broken server (tests/imap/t_hostile.sh, t_servers.sh).

    scripted.py --dir MAILDIR --port-file FILE [--cue CUE[,CUE...]]
                [--log FILE] [--state FILE]

It serves the .eml files of --dir (sorted by name; UIDs 1, 2, ... in that
order; a file added later gets the next UID, so delivering = copying a file
there) to any user with any password, over plain TCP on 127.0.0.1 (a free
port, written to --port-file once listening).  It speaks enough IMAP4rev1
(RFC 3501) for mxdigest fetch: CAPABILITY, LOGIN, SELECT, EXAMINE, STATUS,
LIST, NAMESPACE, NOOP, UID FETCH (UID, FLAGS, RFC822.SIZE, BODY.PEEK[],
BODY.PEEK[HEADER]<0.N>), UID COPY, UID MOVE, UID STORE, UID EXPUNGE, IDLE,
LOGOUT.  Mailboxes other than INBOX exist once created in --dir/boxes.txt
(one name a line).  Every line the client sends goes to --log; when a cue
fires, its name is appended to --state (a test waits for it before it
signals the client).

Cues, misbehaviours a real server has shown or an attacker can stage:
  eof-in-literal    announce a body literal, send half of it, close (FIN)
  bye-in-literal    the same, with "* BYE" where the rest should be
  stall-in-literal  announce a literal, send half, then nothing
  huge-literal      announce a literal of 4,000,000,000 bytes
  endless-line      answer a body FETCH with a line that never ends
  silent            after the greeting, read commands, never answer
  silent-fetch      answer everything but the body FETCH
  garbage           answer the body FETCH with binary garbage
  no-body           answer the body FETCH for UID 2 without its body (NIL)
  skip-uid          leave UID 2 out of the body FETCH answer entirely
  extra-uid         add a FETCH with a body for UID 999, never asked for
  lie-sizes         give RFC822.SIZE 100 for every message, whatever its size
  no-accept         listen, never accept (connections hang in the backlog)
  bye-after-fetch   answer the first body FETCH, then "* BYE" and close
  silent-second-fetch  answer the first body FETCH, then read commands and
                    never answer (the next batch's download hangs)
  (the behaviours of other servers, issue "Beyond Dovecot")
  no-trycreate      a COPY/MOVE to a missing mailbox gets "NO Mailbox does
                    not exist" without [TRYCREATE] (Cyrus); NAMESPACE is
                    (("INBOX." ".")) and user mailboxes live under "INBOX."
  idle-no-push      no EXISTS during IDLE; new mail shows after DONE/NOOP
  uidvalidity-changes  a new UIDVALIDITY in every session
  status-headers    BODY[] gets "Status: O", "X-UID: n" (and "X-IMAPbase" on
                    the first message) in front, as Mailutils on an mbox
  no-move           announce neither MOVE nor UIDPLUS
  move-refused      LIST shows the target, but MOVE/COPY to it get a NO

A cue ending in "-once" (eof-in-literal-once) misbehaves in the first
session only, as a server that recovers.

Python 3 standard library only; SIGTERM ends it.
"""

import argparse
import os
import re
import select
import signal
import socket
import sys
import threading
import time


class Box:
    """The messages of --dir, with stable UIDs for new files."""

    def __init__(self, d):
        self.dir = d
        self.uids = {}          # file name -> uid
        self.next_uid = 1
        self.deleted = set()    # uids expunged or moved
        self.flags = {}         # uid -> set of flags

    def scan(self):
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".eml") and name not in self.uids:
                self.uids[name] = self.next_uid
                self.next_uid += 1
        return self.messages()

    def messages(self):
        out = []
        for name, uid in sorted(self.uids.items(), key=lambda x: x[1]):
            if uid not in self.deleted:
                out.append((uid, os.path.join(self.dir, name)))
        return out


def read_body(path):
    with open(path, "rb") as f:
        data = f.read()
    # IMAP sends CRLF line ends
    return re.sub(rb"\r?\n", b"\r\n", data)


def parse_set(spec, top):
    uids = set()
    for part in spec.split(b","):
        if b":" in part:
            a, b = part.split(b":")
            lo = top if a == b"*" else int(a)
            hi = top if b == b"*" else int(b)
            if lo > hi:
                lo, hi = hi, lo
            uids.update(range(lo, hi + 1))
        else:
            uids.add(top if part == b"*" else int(part))
    return uids


class Session:
    def __init__(self, conn, srv):
        self.conn = conn
        self.srv = srv
        self.cues = srv.active
        self.f = conn.makefile("rb")
        self.box = srv.box
        self.selected = False
        self.body_fetches = 0

    def send(self, data):
        self.conn.sendall(data)

    def fire(self, cue):
        self.srv.fire(cue)

    def readline(self):
        line = self.f.readline()
        if line:
            self.srv.log(line)
        return line

    def caps(self):
        c = b"IMAP4rev1 IDLE NAMESPACE LITERAL+ AUTH=PLAIN"
        if "no-move" not in self.cues:
            c += b" UIDPLUS MOVE"
        return c

    def mailboxes(self):
        names = [b"INBOX"]
        p = os.path.join(self.box.dir, "boxes.txt")
        if os.path.exists(p):
            with open(p, "rb") as f:
                names += [l.strip() for l in f if l.strip()]
        return names

    def serve(self):
        if "silent" in self.cues:
            self.fire("silent")
            while self.readline():
                pass
            return
        self.send(b"* OK [CAPABILITY " + self.caps() + b"] scripted ready\r\n")
        while True:
            line = self.readline()
            if not line:
                return
            parts = line.rstrip(b"\r\n").split(b" ")
            if len(parts) < 2:
                self.send(b"* BAD no command\r\n")
                continue
            tag, cmd, args = parts[0], parts[1].upper(), parts[2:]
            if cmd == b"UID" and args:
                cmd, args = b"UID " + args[0].upper(), args[1:]
            h = getattr(self, "cmd_" + cmd.decode("ascii", "replace").replace(" ", "_"),
                        None)
            if not h:
                self.send(tag + b" BAD unknown command\r\n")
                continue
            if h(tag, args) == "close":
                return

    # -- commands --------------------------------------------------------
    def cmd_CAPABILITY(self, tag, args):
        self.send(b"* CAPABILITY " + self.caps() + b"\r\n" + tag + b" OK done\r\n")

    def cmd_LOGIN(self, tag, args):
        self.send(tag + b" OK [CAPABILITY " + self.caps() + b"] logged in\r\n")

    def cmd_NOOP(self, tag, args):
        self.report_new()
        self.send(tag + b" OK done\r\n")

    def cmd_LOGOUT(self, tag, args):
        self.send(b"* BYE bye\r\n" + tag + b" OK done\r\n")
        return "close"

    def cmd_NAMESPACE(self, tag, args):
        if "no-trycreate" in self.cues:
            self.send(b'* NAMESPACE (("INBOX." ".")) NIL NIL\r\n')
        else:
            self.send(b'* NAMESPACE (("" "/")) NIL NIL\r\n')
        self.send(tag + b" OK done\r\n")

    def cmd_LIST(self, tag, args):
        pattern = args[1].strip(b'"') if len(args) > 1 else b"*"
        sep = b"." if "no-trycreate" in self.cues else b"/"
        rx = re.compile(b"^" + re.escape(pattern).replace(b"\\*", b".*")
                        .replace(b"%", b"[^" + re.escape(sep) + b"]*") + b"$")
        for name in self.mailboxes():
            if rx.match(name):
                self.send(b'* LIST () "' + sep + b'" "' + name + b'"\r\n')
        self.send(tag + b" OK done\r\n")

    def uidvalidity(self):
        return self.srv.uidvalidity

    def select(self, tag, args, examine):
        name = args[0].strip(b'"') if args else b""
        if name.upper() != b"INBOX":
            self.send(tag + b" NO no such mailbox\r\n")
            return
        msgs = self.box.scan()
        self.seen = len(msgs)
        self.selected = True
        nxt = self.box.next_uid
        self.send(b"* %d EXISTS\r\n* 0 RECENT\r\n" % len(msgs))
        self.send(b"* OK [UIDVALIDITY %d] uids valid\r\n" % self.uidvalidity())
        self.send(b"* OK [UIDNEXT %d] next\r\n" % nxt)
        self.send(b"* FLAGS (\\Seen \\Deleted)\r\n")
        self.send(tag + (b" OK [READ-ONLY] done\r\n" if examine
                         else b" OK [READ-WRITE] done\r\n"))

    def cmd_SELECT(self, tag, args):
        self.select(tag, args, False)

    def cmd_EXAMINE(self, tag, args):
        self.select(tag, args, True)

    def cmd_STATUS(self, tag, args):
        self.box.scan()
        self.send(b'* STATUS INBOX (UIDNEXT %d)\r\n' % self.box.next_uid)
        self.send(tag + b" OK done\r\n")

    def report_new(self):
        n = len(self.box.scan())
        if n != getattr(self, "seen", n):
            self.send(b"* %d EXISTS\r\n" % n)
            self.seen = n

    def seqno(self, uid):
        for i, (u, _) in enumerate(self.box.messages()):
            if u == uid:
                return i + 1
        return 0

    def body_of(self, uid, path):
        body = read_body(path)
        if "status-headers" in self.cues:
            extra = b"Status: O\r\nX-UID: %d\r\n" % uid
            if uid == 1:
                extra = b"X-IMAPbase: %d 99\r\n" % self.uidvalidity() + extra
            body = extra + body
        return body

    def cmd_UID_FETCH(self, tag, args):
        spec = args[0]
        items = b" ".join(args[1:]).upper()
        msgs = self.box.messages()
        top = msgs[-1][0] if msgs else 0
        want = parse_set(spec, top) if msgs else set()
        body = b"BODY.PEEK[" in items or b"BODY[" in items
        head = b"BODY.PEEK[HEADER]" in items
        if body:
            self.body_fetches += 1
            if "silent-fetch" in self.cues:
                self.fire("silent-fetch")
                while self.readline():
                    pass
                return "close"
            if "garbage" in self.cues:
                self.fire("garbage")
                self.send(bytes(range(256)) * 64 + b"\r\n" + tag + b" OK done\r\n")
                return
            if "endless-line" in self.cues:
                self.fire("endless-line")
                self.send(b"* 1 FETCH (UID 1 BODY[] ")
                try:
                    while True:
                        self.send(b"x" * 65536)
                except OSError:
                    return "close"
            if "huge-literal" in self.cues:
                self.fire("huge-literal")
                self.send(b"* 1 FETCH (UID 1 BODY[] {4000000000}\r\n" + b"x" * 4096)
                while self.readline():
                    pass
                return "close"
            if "silent-second-fetch" in self.cues and self.body_fetches > 1:
                self.fire("silent-second-fetch")
                while self.readline():
                    pass
                return "close"
            if "bye-after-fetch" in self.cues and self.body_fetches > 1:
                self.fire("bye-after-fetch")
                self.send(b"* BYE shutting down\r\n")
                return "close"
        for uid, path in msgs:
            if uid not in want:
                continue
            data = self.body_of(uid, path)
            n = self.seqno(uid)
            if not body:
                out = b"* %d FETCH (UID %d" % (n, uid)
                if b"RFC822.SIZE" in items:
                    out += b" RFC822.SIZE %d" % (100 if "lie-sizes" in self.cues
                                                 else len(data))
                if b"FLAGS" in items:
                    out += b" FLAGS (%s)" % b" ".join(sorted(self.box.flags.get(uid, set())))
                self.send(out + b")\r\n")
                continue
            if head:
                end = data.find(b"\r\n\r\n")
                data = data[:end + 4] if end >= 0 else data
                m = re.search(rb"<0\.(\d+)>", items)
                if m:
                    data = data[:int(m.group(1))]
            if uid == 2 and "skip-uid" in self.cues:
                self.fire("skip-uid")
                continue
            if uid == 2 and "no-body" in self.cues:
                self.fire("no-body")
                self.send(b"* %d FETCH (UID %d BODY[] NIL)\r\n" % (n, uid))
                continue
            sect = b"BODY[HEADER]" if head else b"BODY[]"
            lit = b"* %d FETCH (UID %d %s {%d}\r\n" % (n, uid, sect, len(data))
            for cue in ("eof-in-literal", "bye-in-literal", "stall-in-literal"):
                if cue in self.cues:
                    self.send(lit + data[:len(data) // 2])
                    self.fire(cue)
                    if cue == "bye-in-literal":
                        self.send(b"\r\n* BYE going away\r\n")
                    if cue == "stall-in-literal":
                        while self.readline():
                            pass
                    self.conn.shutdown(socket.SHUT_WR)
                    return "close"
            self.send(lit + data + b")\r\n")
        if body and "extra-uid" in self.cues:
            self.fire("extra-uid")
            data = b"Subject: not asked for\r\n\r\nhello\r\n"
            self.send(b"* 999 FETCH (UID 999 BODY[] {%d}\r\n" % len(data) + data + b")\r\n")
        self.send(tag + b" OK done\r\n")

    def target_ok(self, name, tag):
        if "move-refused" in self.cues:
            self.fire("move-refused")
            self.send(tag + b" NO Permission denied\r\n")
            return False
        if name in self.mailboxes():
            return True
        if "no-trycreate" in self.cues:
            self.fire("no-trycreate")
            self.send(tag + b" NO Mailbox does not exist\r\n")
        else:
            self.send(tag + b" NO [TRYCREATE] no such mailbox\r\n")
        return False

    def cmd_UID_MOVE(self, tag, args):
        if "no-move" in self.cues:
            self.send(tag + b" BAD no MOVE here\r\n")
            return
        name = args[1].strip(b'"')
        if not self.target_ok(name, tag):
            return
        msgs = self.box.messages()
        want = parse_set(args[0], msgs[-1][0] if msgs else 0)
        for uid, _ in msgs:
            if uid in want:
                self.send(b"* %d EXPUNGE\r\n" % self.seqno(uid))
                self.box.deleted.add(uid)
        self.seen = len(self.box.messages())
        self.send(tag + b" OK moved\r\n")

    def cmd_UID_COPY(self, tag, args):
        name = args[1].strip(b'"')
        if self.target_ok(name, tag):
            self.send(tag + b" OK copied\r\n")

    def cmd_UID_STORE(self, tag, args):
        msgs = self.box.messages()
        want = parse_set(args[0], msgs[-1][0] if msgs else 0)
        for uid, _ in msgs:
            if uid in want:
                self.box.flags.setdefault(uid, set()).add(b"\\Deleted")
        self.send(tag + b" OK stored\r\n")

    def cmd_UID_EXPUNGE(self, tag, args):
        msgs = self.box.messages()
        want = parse_set(args[0], msgs[-1][0] if msgs else 0)
        for uid, _ in msgs:
            if uid in want and b"\\Deleted" in self.box.flags.get(uid, set()):
                self.send(b"* %d EXPUNGE\r\n" % self.seqno(uid))
                self.box.deleted.add(uid)
        self.seen = len(self.box.messages())
        self.send(tag + b" OK expunged\r\n")

    def cmd_IDLE(self, tag, args):
        self.send(b"+ idling\r\n")
        self.fire("idle")
        while True:
            if select.select([self.conn], [], [], 0.2)[0]:
                line = self.readline()
                if not line:
                    return "close"
                if line.strip().upper() == b"DONE":
                    break
                continue
            if "idle-no-push" not in self.cues:
                self.report_new()
        if "idle-no-push" in self.cues:
            self.report_new()   # only now: as Mailutils after DONE
        self.send(tag + b" OK idle done\r\n")


class Server:
    def __init__(self, a):
        self.box = Box(a.dir)
        self.cues = set(c for c in a.cue.split(",") if c) if a.cue else set()
        self.log_path = a.log
        self.state = a.state
        self.lock = threading.Lock()
        self.sessions = 0
        self.uidvalidity = 1000
        self.active = set(self.cues)

    def log(self, line):
        with self.lock, open(self.log_path, "ab") as f:
            f.write(line.rstrip(b"\r\n") + b"\n")

    def fire(self, cue):
        if self.state:
            with self.lock, open(self.state, "a") as f:
                f.write(cue + "\n")

    def session(self, conn):
        self.sessions += 1
        if self.sessions == 2:
            # "-once" cues: the server behaves from the second session on
            self.cues = set(c for c in self.cues if not c.endswith("-once"))
        active = set(self.cues)
        active.update(c[:-5] for c in self.cues if c.endswith("-once"))
        self.active = active
        if "uidvalidity-changes" in self.cues:
            self.uidvalidity = 1000 + self.sessions
            self.box.uids.clear()
            self.box.next_uid = 1
            self.box.deleted.clear()
        try:
            Session(conn, self).serve()
        except (OSError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--cue", default="")
    p.add_argument("--log", default=os.devnull)
    p.add_argument("--state")
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv = Server(a)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    held = []
    if "no-accept" in srv.cues:
        s.listen(0)
        # fill the backlog, so that a new connection waits in SYN-SENT
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(s.getsockname())
            except BlockingIOError:
                pass
            held.append(c)
    else:
        s.listen(16)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, a.port_file)
    if "no-accept" in srv.cues:
        srv.fire("listening")
        while True:
            time.sleep(3600)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=srv.session, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
