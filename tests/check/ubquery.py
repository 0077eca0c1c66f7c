#!/usr/bin/env python3
"""ubquery.py — resolve names the way mxdigest does: libunbound (ctypes, libunbound.so.8),
forwarding to the test NSD, with the trust anchor file, .test removed from the local zones.

    ubquery.py CONF NAME TYPE [NAME TYPE ...]

CONF is servers.sh's mxdigest.conf (its resolver = ADDR:PORT and trust_anchor = FILE are used).
Prints one JSON object per query: name, type, rc (ub_resolve's return), rcode, havedata,
nxdomain, secure, bogus, why_bogus, data (the rdata of each answer, hex).  Exit 0, or 77 when
libunbound.so.8 is not installed (Debian package libunbound8).  Each query blocks until libunbound
answers: do not use it against a paused NSD (about 17 s to SERVFAIL).
"""

import ctypes
import ctypes.util
import json
import sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "DS": 43,
         "RRSIG": 46, "DNSKEY": 48, "TLSA": 52}


class UbResult(ctypes.Structure):
    _fields_ = [
        ("qname", ctypes.c_char_p),
        ("qtype", ctypes.c_int),
        ("qclass", ctypes.c_int),
        ("data", ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))),
        ("len", ctypes.POINTER(ctypes.c_int)),
        ("canonname", ctypes.c_char_p),
        ("rcode", ctypes.c_int),
        ("answer_packet", ctypes.c_void_p),
        ("answer_len", ctypes.c_int),
        ("havedata", ctypes.c_int),
        ("nxdomain", ctypes.c_int),
        ("secure", ctypes.c_int),
        ("bogus", ctypes.c_int),
        ("why_bogus", ctypes.c_char_p),
        ("was_ratelimited", ctypes.c_int),
        ("ttl", ctypes.c_int),
    ]


def load():
    for name in ("libunbound.so.8", ctypes.util.find_library("unbound")):
        if not name:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError:
            pass
    return None


def read_conf(path):
    conf = {}
    with open(path) as f:
        for line in f:
            if "=" in line and not line.lstrip().startswith("#"):
                k, v = line.split("=", 1)
                conf[k.strip()] = v.strip()
    return conf


def main(argv):
    if len(argv) < 4 or len(argv) % 2:
        sys.stderr.write(__doc__)
        return 2
    ub = load()
    if ub is None:
        sys.stderr.write("ubquery.py: libunbound.so.8 not found\n")
        return 77
    ub.ub_ctx_create.restype = ctypes.c_void_p
    ub.ub_strerror.restype = ctypes.c_char_p
    ub.ub_strerror.argtypes = [ctypes.c_int]
    for fn in ("ub_ctx_set_fwd", "ub_ctx_add_ta_file", "ub_ctx_zone_remove"):
        getattr(ub, fn).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ub.ub_resolve.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                              ctypes.POINTER(ctypes.POINTER(UbResult))]
    ub.ub_resolve_free.argtypes = [ctypes.POINTER(UbResult)]
    ub.ub_ctx_delete.argtypes = [ctypes.c_void_p]

    conf = read_conf(argv[1])
    host, port = conf["resolver"].rsplit(":", 1)
    ctx = ub.ub_ctx_create()

    def check(rc, what):
        if rc != 0:
            raise SystemExit("ubquery.py: %s: %s" % (what, ub.ub_strerror(rc).decode()))

    check(ub.ub_ctx_set_fwd(ctx, ("%s@%s" % (host, port)).encode()), "ub_ctx_set_fwd")
    if conf.get("trust_anchor"):
        check(ub.ub_ctx_add_ta_file(ctx, conf["trust_anchor"].encode()), "ub_ctx_add_ta_file")
    # Last: before it the .test names never leave the library (tests/dns/README.md).
    check(ub.ub_ctx_zone_remove(ctx, b"test"), "ub_ctx_zone_remove")
    for i in range(2, len(argv), 2):
        name, qtype = argv[i], argv[i + 1].upper()
        res = ctypes.POINTER(UbResult)()
        rc = ub.ub_resolve(ctx, name.encode(), TYPES[qtype], 1, ctypes.byref(res))
        out = {"name": name, "type": qtype, "rc": rc}
        if rc == 0:
            r = res.contents
            data = []
            j = 0
            while r.data and r.data[j]:
                data.append(bytes(r.data[j][:r.len[j]]).hex())
                j += 1
            out.update(rcode=r.rcode, havedata=r.havedata, nxdomain=r.nxdomain, secure=r.secure,
                       bogus=r.bogus, why_bogus=(r.why_bogus or b"").decode(), data=data)
            ub.ub_resolve_free(res)
        else:
            out["error"] = ub.ub_strerror(rc).decode()
        print(json.dumps(out, sort_keys=True))
        sys.stdout.flush()
    ub.ub_ctx_delete(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
