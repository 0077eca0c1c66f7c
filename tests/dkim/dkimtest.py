"""Helpers for the DKIM test tools (sign.py, verify.py): Python standard library only.

- query_txt(): a small DNS client (one TXT question over UDP, TCP when the answer is truncated)
  for the test NSD on 127.0.0.1, so that nothing asks the system's resolver;
- zone_txt(): TXT records from zone-file lines as tests/dkim/keys.sh writes them;
- parse_tags(): DKIM tag=value lists (RFC 6376 3.2).
"""

import os
import random
import re
import socket
import struct
import time

QTYPE_TXT = 16
QTYPE_CNAME = 5
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class DNSAnswer:
    """status: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ..., TIMEOUT or ERROR.
    records: one entry per TXT RR, each the list of its character-strings (bytes).
    aa: the authoritative-answer flag."""

    def __init__(self, status, records=(), aa=False, detail=""):
        self.status = status
        self.records = list(records)
        self.aa = aa
        self.detail = detail

    def __repr__(self):
        return "DNSAnswer(%s, %r)" % (self.status, self.records)


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not raw or len(raw) > 63:
            raise ValueError("bad DNS name: %r" % name)
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def _read_name(msg, off):
    """Returns (name in lower case with a trailing dot, offset after the name)."""
    labels, end, jumps = [], None, 0
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("truncated pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            if jumps > 50:
                raise ValueError("pointer loop")
            continue
        if n & 0xC0:
            raise ValueError("bad label type")
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace").lower())
        off += n
    return ".".join(labels) + ".", (end if end is not None else off)


def build_query(name, qtype, qid):
    header = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1)  # no RD: we talk to an authoritative server
    question = _encode_name(name) + struct.pack("!HH", qtype, 1)
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)  # EDNS0, 1232-byte UDP payload
    return header + question + opt


def parse_answer(msg, qid, name, qtype):
    if len(msg) < 12:
        raise ValueError("short message")
    rid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid or not flags & 0x8000:
        raise ValueError("not our answer")
    rcode = flags & 0xF
    off = 12
    for _ in range(qd):
        _, off = _read_name(msg, off)
        off += 4
    want = name.lower().rstrip(".") + "."
    rrs = []
    for _ in range(an):
        owner, off = _read_name(msg, off)
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata_off = off
        off += rdlen
        if off > len(msg):
            raise ValueError("rdata runs past the message")
        rrs.append((owner, rtype, rdata_off, rdlen))
    # Follow CNAMEs inside the answer section.
    for _ in range(10):
        cname = [r for r in rrs if r[0] == want and r[1] == QTYPE_CNAME]
        if not cname or qtype == QTYPE_CNAME:
            break
        want, _ = _read_name(msg, cname[0][2])
    records = []
    for owner, rtype, rdata_off, rdlen in rrs:
        if owner != want or rtype != qtype:
            continue
        strings, p = [], rdata_off
        while p < rdata_off + rdlen:
            n = msg[p]
            strings.append(msg[p + 1:p + 1 + n])
            p += 1 + n
        records.append(strings)
    return DNSAnswer(RCODES.get(rcode, "RCODE%d" % rcode), records, bool(flags & 0x0400)), bool(flags & 0x0200)


def query_txt(name, server="127.0.0.1", port=53, timeout=2.0, qtype=QTYPE_TXT):
    """Asks server:port for the TXT records of name.  Never raises for DNS trouble: a server that
    does not answer within timeout seconds gives status TIMEOUT."""
    deadline = time.monotonic() + timeout
    qid = random.SystemRandom().randrange(0, 65536)
    query = build_query(name, qtype, qid)
    tries = 2
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for attempt in range(tries):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            per_try = left / (tries - attempt)
            try:
                udp.sendto(query, (server, port))
            except OSError as e:
                return DNSAnswer("ERROR", detail=str(e))
            end = time.monotonic() + per_try
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                udp.settimeout(left)
                try:
                    data, peer = udp.recvfrom(65535)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    return DNSAnswer("ERROR", detail="connection refused (no server on %s:%d)" % (server, port))
                if peer[0] != server or peer[1] != port:
                    continue
                try:
                    ans, truncated = parse_answer(data, qid, name, qtype)
                except ValueError:
                    continue
                if truncated:
                    return _query_tcp(query, qid, name, qtype, server, port, deadline)
                return ans
        return DNSAnswer("TIMEOUT", detail="no answer from %s:%d within %.1fs" % (server, port, timeout))
    finally:
        udp.close()


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ValueError("connection closed")
        buf += chunk
    return buf


def _query_tcp(query, qid, name, qtype, server, port, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        return DNSAnswer("TIMEOUT", detail="no time left for TCP")
    try:
        with socket.create_connection((server, port), timeout=left) as s:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            s.sendall(struct.pack("!H", len(query)) + query)
            n = struct.unpack("!H", _recv_exact(s, 2))[0]
            ans, _ = parse_answer(_recv_exact(s, n), qid, name, qtype)
            return ans
    except socket.timeout:
        return DNSAnswer("TIMEOUT", detail="TCP answer timed out")
    except (OSError, ValueError) as e:
        return DNSAnswer("ERROR", detail="TCP: %s" % e)


# --------------------------------------------------------------------------------------------------
# Zone-file lines

_TXT_LINE = re.compile(r'^\s*(\S+)\s+(?:(\d+)\s+)?(?:IN\s+)?TXT\s+(.*)$', re.IGNORECASE)


def _zone_strings(rest):
    """The character-strings of a TXT rdata written as "..." "..." (with \\" and \\DDD escapes)."""
    out, i = [], 0
    rest = rest.strip()
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    while i < len(rest):
        c = rest[i]
        if c.isspace():
            i += 1
            continue
        if c == ";":
            break
        if c != '"':
            j = i
            while j < len(rest) and not rest[j].isspace():
                j += 1
            out.append(rest[i:j].encode())
            i = j
            continue
        i += 1
        buf = bytearray()
        while i < len(rest) and rest[i] != '"':
            if rest[i] == "\\" and i + 1 < len(rest):
                if rest[i + 1:i + 4].isdigit() and len(rest[i + 1:i + 4]) == 3:
                    buf.append(int(rest[i + 1:i + 4]))
                    i += 4
                    continue
                buf += rest[i + 1].encode()
                i += 2
                continue
            buf += rest[i].encode()
            i += 1
        out.append(bytes(buf))
        i += 1
    return out


def zone_txt(paths):
    """{owner name (lower case, trailing dot): [record strings, ...]} from the one-line TXT records
    of the given zone files (relative owners are taken under $ORIGIN)."""
    recs = {}
    for path in paths:
        origin = ""
        with open(path, encoding="utf-8") as f:
            for line in f:
                s = line.strip()
                if s.upper().startswith("$ORIGIN"):
                    origin = s.split()[1].rstrip(".").lower() + "."
                    continue
                m = _TXT_LINE.match(line)
                if not m or line[0].isspace():
                    continue
                owner = m.group(1).lower()
                if owner == "@":
                    owner = origin
                elif not owner.endswith("."):
                    owner = owner + "." + origin
                recs.setdefault(owner, []).append(_zone_strings(m.group(3)))
    return recs


def parse_tags(value):
    """A DKIM tag list as {tag: value} (str), white space removed around tags and values."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    tags = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError("no '=' in tag %r" % part.strip())
        k, v = part.split("=", 1)
        k = k.strip()
        if k in tags:
            raise ValueError("tag %s= given twice" % k)
        tags[k] = re.sub(r"\s+", "", v) if k in ("b", "bh", "p") else v.strip()
    return tags


def without_service(record):
    """The key record (bytes) without its s= tag."""
    parts = [p for p in record.split(b";") if p.strip() and not p.strip().startswith(b"s=")
             and not p.strip().startswith(b"s ")]
    return b";".join(parts)


def detect_linesep(data):
    nl = data.find(b"\n")
    return b"\r\n" if nl > 0 and data[nl - 1:nl] == b"\r" else b"\n"


def here():
    return os.path.dirname(os.path.abspath(__file__))
