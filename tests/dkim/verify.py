#!/usr/bin/python3
"""verify.py — the reference verdict of the DKIM test fixtures (python3-dkim + RFC 8460 rules).

  verify.py (--dns [HOST:]PORT | --zone FILE...) [--timeout S] [--manifest TSV] MAIL...

Prints one line per mail: FILE <TAB> verdict <TAB> domain <TAB> reason.  With --manifest, compares
each mail named there whose dns column is --dns-state (up) with its expected verdict and domain
(MAIL arguments are then the directory of the mails, or the files), prints a line for every
mismatch (VERBOSE=1: for every mail) and exits 1 if there is one.

Keys come from the DNS server given (a TXT query of our own over UDP/TCP, never the system's
resolver) or from the TXT lines of zone files.  The verdicts (RFC 8601 names):
  pass       a signature verifies, has no l=, has not expired, its key may be used for mail or TLS
             reports (s= absent, *, email or tlsrpt), and d= is the From: domain or a parent of it
  fail       signatures present, none passes, at least one failed (body hash, b=, l=, x=, d= not
             aligned with From:)
  permerror  ... and none failed: each key is missing (NXDOMAIN, no TXT), revoked (p=), unusable
             (s=, k=, h=) or unreadable, or the signature field is malformed
  temperror  a key lookup timed out or failed with SERVFAIL (a later try may pass)
  none       no DKIM-Signature field
Order when there are several signatures: pass > temperror > fail > permerror.  The domain is the
d= of the signature that gave the verdict (the first aligned one, else the first).
"""

import argparse
import logging
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dkimtest  # noqa: E402

try:
    import dkim
except ImportError as e:  # pragma: no cover
    sys.exit("verify.py: python3-dkim is missing (Debian package python3-dkim; use /usr/bin/python3): %s" % e)

RANK = {"pass": 0, "temperror": 1, "fail": 2, "permerror": 3}


class KeySource:
    def __init__(self, dns=None, zones=None, timeout=2.0):
        self.dns, self.timeout = dns, timeout
        self.zone = dkimtest.zone_txt(zones) if zones else None

    def lookup(self, name):
        """(status, record bytes or None).  status: ok, nxdomain, nodata, timeout, servfail, error."""
        if self.zone is not None:
            rrs = self.zone.get(name.lower().rstrip(".") + ".")
            return ("ok", b"".join(rrs[0])) if rrs else ("nxdomain", None)
        host, port = self.dns
        ans = dkimtest.query_txt(name, host, port, self.timeout)
        if ans.status == "TIMEOUT":
            return "timeout", None
        if ans.status == "NXDOMAIN":
            return "nxdomain", None
        if ans.status in ("SERVFAIL", "ERROR", "REFUSED"):
            return "servfail", None
        if ans.status != "NOERROR":
            return "error", None
        # RFC 6376 3.6.2.2: the strings of one TXT RR are joined; several RRs are an error.
        recs = [b"".join(r) for r in ans.records]
        if not recs:
            return "nodata", None
        if len(recs) > 1:
            return "multiple", None
        return "ok", recs[0]


def from_domain(message):
    import email
    import email.utils
    msg = email.message_from_bytes(message.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0] + b"\n\n")
    froms = msg.get_all("From") or []
    if len(froms) != 1:
        return None
    addr = email.utils.parseaddr(str(froms[0]))[1]
    return addr.rsplit("@", 1)[1].lower().rstrip(".") if "@" in addr else None


def aligned(d, fdom):
    d = d.lower().rstrip(".")
    return fdom is not None and (fdom == d or fdom.endswith("." + d))


def check_signature(message, idx, sig, fdom, keys, log, handler):
    """(verdict, reason) of signature number idx (0 = the topmost field)."""
    d, s = sig.get("d", ""), sig.get("s", "")
    if not d or not s or "b" not in sig or "bh" not in sig or "h" not in sig or "a" not in sig:
        return "permerror", "signature lacks a required tag"
    if sig["a"] not in ("rsa-sha256", "ed25519-sha256"):
        return "permerror", "unsupported algorithm a=%s" % sig["a"]
    status, rec = keys.lookup("%s._domainkey.%s." % (s, d))
    if status in ("timeout", "servfail"):
        return "temperror", "key lookup: %s" % status
    if status != "ok":
        return "permerror", "no key (%s)" % status
    try:
        tags = dkimtest.parse_tags(rec)
    except ValueError as e:
        return "permerror", "unreadable key record: %s" % e
    if tags.get("v", "DKIM1") != "DKIM1":
        return "permerror", "key record v=%s" % tags["v"]
    if not tags.get("p"):
        return "permerror", "key revoked (empty p=)"
    services = [x.strip() for x in tags.get("s", "*").split(":")]
    if not set(services) & {"*", "email", "tlsrpt"}:
        return "permerror", "key not for mail (s=%s)" % tags["s"]
    k = tags.get("k", "rsa")
    if k != sig["a"].split("-")[0]:
        return "permerror", "key type k=%s does not match a=%s" % (k, sig["a"])
    if "h" in tags and "sha256" not in [x.strip() for x in tags["h"].split(":")]:
        return "permerror", "key does not allow sha256 (h=%s)" % tags["h"]

    # The cryptography, by python3-dkim.  It gets the record without s= (it refuses s=tlsrpt outside
    # its tlsrpt mode, which ignores l=, and mishandles s= lists) and honours l=, x= with 10 h slop.
    record = dkimtest.without_service(rec)
    d_obj = dkim.DKIM(message, logger=log, minkey=1024)
    real_time = time.time
    try:
        if "x" in sig and sig["x"].isdigit() and "t" in sig and sig["t"].isdigit():
            time.time = lambda: float(int(sig["t"]) + 1)  # judge x= below, strictly
        ok = d_obj.verify(idx=idx, dnsfunc=lambda name, timeout=5: record)
    except dkim.ValidationError as e:
        if str(e).startswith("body hash mismatch"):
            return "fail", "body hash mismatch"
        return "permerror", "malformed signature: %s" % e
    except dkim.DKIMException as e:
        return "permerror", "malformed signature: %s" % e
    finally:
        time.time = real_time
    if not ok:
        return "fail", "signature does not verify (%s)" % (handler.last or "bad signature")
    if "l" in sig:
        return "fail", "l= present (RFC 8460 3: must not be used)"
    if "x" in sig:
        if not sig["x"].isdigit():
            return "permerror", "x= not a number"
        if int(sig["x"]) < time.time():
            return "fail", "signature expired (x=%s)" % sig["x"]
    if not aligned(d, fdom):
        return "fail", "d=%s is not the From: domain %s or a parent of it" % (d, fdom)
    return "pass", "d=%s s=%s" % (d, s)


class LastError(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.last = None

    def emit(self, record):
        self.last = record.getMessage()


def verdict(message, keys):
    """(verdict, domain, reason) of a mail."""
    handler = LastError()
    log = logging.getLogger("verify.py.%d" % id(handler))
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.ERROR)
    d_obj = dkim.DKIM(message)
    fields = [v for k, v in d_obj.headers if k.lower() == b"dkim-signature"]
    if not fields:
        return "none", "-", "no DKIM-Signature"
    fdom = from_domain(message)
    results = []
    for idx, raw in enumerate(fields):
        try:
            sig = dkimtest.parse_tags(raw)
        except ValueError as e:
            results.append(("permerror", "", "unreadable signature: %s" % e))
            continue
        handler.last = None
        v, why = check_signature(message, idx, sig, fdom, keys, log, handler)
        results.append((v, sig.get("d", "").lower(), why))
    best = min(RANK[v] for v, _, _ in results)
    chosen = [r for r in results if RANK[r[0]] == best]
    pick = next((r for r in chosen if aligned(r[1], fdom)), chosen[0])
    others = "; ".join("%s d=%s: %s" % r for r in results if r is not pick)
    return pick[0], pick[1] or "-", pick[2] + (" [also: %s]" % others if others else "")


def main():
    ap = argparse.ArgumentParser(description="Reference DKIM verdicts of the test fixtures.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--dns", help="[HOST:]PORT of the test DNS server")
    src.add_argument("--zone", action="append", help="zone file with the key records (repeatable)")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--manifest")
    ap.add_argument("--dns-state", default="up",
                    help="with --manifest: check the rows whose dns column is this (up, paused)")
    ap.add_argument("mails", nargs="+")
    a = ap.parse_args()
    dns = None
    if a.dns:
        host, _, port = a.dns.rpartition(":")
        dns = (host or "127.0.0.1", int(port))
    keys = KeySource(dns=dns, zones=a.zone, timeout=a.timeout)

    files = []
    for m in a.mails:
        if os.path.isdir(m):
            files += sorted(os.path.join(m, f) for f in os.listdir(m) if f.endswith(".eml"))
        else:
            files.append(m)

    expect = None
    if a.manifest:
        expect = {}
        with open(a.manifest, encoding="utf-8") as f:
            for i, line in enumerate(f):
                cols = line.rstrip("\n").split("\t")
                if i == 0 or not line.strip():
                    continue
                if cols[3] == a.dns_state:
                    expect[cols[0]] = cols
        by_name = {os.path.basename(f): f for f in files}
        files = [by_name[n] for n in expect if n in by_name]
        missing = [n for n in expect if n not in by_name]
        if missing:
            print("verify.py: no file for %s" % ", ".join(missing), file=sys.stderr)
            return 1

    bad = 0
    for path in files:
        with open(path, "rb") as f:
            message = f.read()
        v, dom, why = verdict(message, keys)
        name = os.path.basename(path)
        if expect is None:
            print("%s\t%s\t%s\t%s" % (path, v, dom, why))
            continue
        want = expect[name]
        if (v, dom) != (want[1], want[2]):
            bad += 1
            print("MISMATCH %s: got %s %s (%s), expected %s %s (%s)"
                  % (name, v, dom, why, want[1], want[2], want[4]), file=sys.stderr)
        elif os.environ.get("VERBOSE"):
            print("ok %s: %s %s (%s)" % (name, v, dom, why))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
