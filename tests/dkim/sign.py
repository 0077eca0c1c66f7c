#!/usr/bin/python3
"""sign.py — DKIM-sign a mail for the tests, with python3-dkim (Debian's /usr/bin/python3).

  sign.py -k KEY -d DOMAIN -s SELECTOR [options] [MAIL|-] [-o OUT]

The signed mail (a DKIM-Signature field put on top, the rest byte for byte as it was) goes to
stdout or OUT.  KEY is a PEM private key as tests/dkim/keys.sh writes it (RSA or Ed25519).

Options for the signature:
  -c, --canon H/B          header/body canonicalization: relaxed/relaxed (default), simple/simple,
                           relaxed/simple, simple/relaxed
  -a, --algorithm A        rsa-sha256 or ed25519-sha256 (default: from the key)
  -H, --headers LIST       header fields to sign, comma-separated (default From, To, Subject, Date,
                           Message-ID, Content-Type, MIME-Version, TLS-Report-Domain,
                           TLS-Report-Submitter; a name given twice is over-signed)
  -l, --length [N]         add l= (the canonical body length; or N: only the first N bytes)
  -t, --timestamp T        t=T (Unix seconds; default now; "none" leaves t= out)
  -x, --expire X           x=X (Unix seconds) or +SECONDS after t= (e.g. -t 1700000000 -x +604800)
  -i, --identity AUID      add i=AUID (e.g. @mail.reporter.test)
  --also SPEC              then add another signature on top (a gateway's); SPEC is comma-separated
                           key=KEY,d=DOMAIN,s=SELECTOR[,c=..,a=..,h=A:B:C,l=N|full,t=..,x=..]
                           (repeatable: each is put above the previous ones)
  --check ZONEFILE         after signing, verify every new signature with python3-dkim's own
                           dkim.verify(), its key answered from the TXT lines of ZONEFILE (repeat
                           for several files); exit 1 if one does not verify.  Expired signatures
                           (x=) are checked at their t= time.
Exit status: 0 signed, 1 error, 2 usage.
"""

import argparse
import base64
import logging
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dkimtest  # noqa: E402

try:
    import dkim
    import dkim.crypto
    from dkim.canonicalization import CanonicalizationPolicy
except ImportError as e:  # pragma: no cover
    sys.exit("sign.py: python3-dkim is missing (Debian package python3-dkim; use /usr/bin/python3): %s" % e)

DEFAULT_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "MIME-Version",
                   "TLS-Report-Domain", "TLS-Report-Submitter"]
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def die(msg):
    print("sign.py: error: %s" % msg, file=sys.stderr)
    sys.exit(1)


def load_key(path):
    """(algorithm, key for python3-dkim): RSA as PEM bytes, Ed25519 as the base64 of its raw
    32-byte seed (what nacl.signing.SigningKey wants; python3-dkim does not read PEM for it)."""
    try:
        with open(path, "rb") as f:
            pem = f.read()
    except OSError as e:
        die("cannot read key %s: %s" % (path, e))
    lines = pem.strip().splitlines()
    if not lines or not lines[0].startswith(b"-----BEGIN"):
        die("%s is not a PEM key" % path)
    der = base64.b64decode(b"".join(l for l in lines if not l.startswith(b"-----")))
    if lines[0] == b"-----BEGIN PRIVATE KEY-----" and der.startswith(ED25519_PKCS8_PREFIX) and len(der) == 48:
        return "ed25519-sha256", base64.b64encode(der[16:])
    try:
        dkim.crypto.parse_pem_private_key(pem)
    except Exception as e:
        die("%s: neither an Ed25519 nor a readable RSA key (%s)" % (path, e))
    return "rsa-sha256", pem


class Spec:
    def __init__(self, key, domain, selector, canon="relaxed/relaxed", algorithm=None, headers=None,
                 length=None, timestamp=None, expire=None, identity=None):
        self.key, self.domain, self.selector = key, domain, selector
        self.canon, self.algorithm, self.headers = canon, algorithm, headers or list(DEFAULT_HEADERS)
        self.length, self.timestamp, self.expire, self.identity = length, timestamp, expire, identity


def parse_also(text):
    kw = {}
    for part in text.split(","):
        if "=" not in part:
            raise argparse.ArgumentTypeError("--also: %r is not NAME=VALUE" % part)
        k, v = part.split("=", 1)
        kw[k.strip()] = v.strip()
    for need in ("key", "d", "s"):
        if need not in kw:
            raise argparse.ArgumentTypeError("--also needs %s=" % need)
    unknown = set(kw) - {"key", "d", "s", "c", "a", "h", "l", "t", "x", "i"}
    if unknown:
        raise argparse.ArgumentTypeError("--also: unknown %s" % ", ".join(sorted(unknown)))
    return Spec(kw["key"], kw["d"], kw["s"], kw.get("c", "relaxed/relaxed"), kw.get("a"),
                kw["h"].split(":") if "h" in kw else None, kw.get("l"), kw.get("t"), kw.get("x"),
                kw.get("i"))


def sign_one(message, spec, linesep):
    """The DKIM-Signature field (bytes, ending in linesep) for message.  Built like
    dkim.DKIM.sign(), which cannot write t=/x= of our choosing nor l= shorter than the body."""
    key_alg, pk_text = load_key(spec.key)
    alg = spec.algorithm or key_alg
    if alg not in ("rsa-sha256", "ed25519-sha256"):
        die("unsupported algorithm %s" % alg)
    if alg != key_alg:
        die("%s is a %s key, not for %s" % (spec.key, key_alg.split("-")[0], alg))
    try:
        hc, bc = spec.canon.split("/")
        policy = CanonicalizationPolicy.from_c_value(spec.canon.encode())
    except Exception:
        die("bad canonicalization %r (want relaxed/relaxed, simple/simple, ...)" % spec.canon)

    d = dkim.DKIM(message, signature_algorithm=alg.encode(), linesep=linesep)
    if alg == "rsa-sha256":
        pk = dkim.crypto.parse_pem_private_key(pk_text)
    else:
        import nacl.encoding
        import nacl.signing
        pk = nacl.signing.SigningKey(pk_text, encoder=nacl.encoding.Base64Encoder)
    include = tuple(h.strip().lower().encode() for h in spec.headers if h.strip())
    if b"from" not in include:
        die("From must be signed (RFC 6376 5.4)")
    d.include_headers = include

    body = policy.canonicalize_body(d.body)
    length = None
    if spec.length not in (None, False):
        length = len(body) if spec.length in (True, "full", "") else int(spec.length)
        if length > len(body):
            die("l=%d is longer than the canonical body (%d bytes)" % (length, len(body)))
        body = body[:length]
    d.hasher = dkim.HASH_ALGORITHMS[alg.encode()]
    h = d.hasher()
    h.update(body)
    bh = base64.b64encode(h.digest())

    now = int(time.time())
    t = spec.timestamp
    if t is None:
        t = now
    elif str(t) == "none":
        t = None
    else:
        t = int(t)
    x = spec.expire
    if x is not None:
        x = str(x)
        if x.startswith("+"):
            x = (t if t is not None else now) + int(x[1:])
        else:
            x = int(x)

    fields = [
        (b"v", b"1"),
        (b"a", alg.encode()),
        (b"c", policy.to_c_value()),
        (b"d", spec.domain.encode()),
    ]
    if spec.identity:
        fields.append((b"i", spec.identity.encode()))
    if length is not None:
        fields.append((b"l", str(length).encode()))
    fields.append((b"q", b"dns/txt"))
    fields.append((b"s", spec.selector.encode()))
    if t is not None:
        fields.append((b"t", str(t).encode()))
    if x is not None:
        fields.append((b"x", str(x).encode()))
    # " : " and not ":": python3-dkim's fold() cuts a run without spaces that is longer than a line
    # anywhere, even inside a header name ("tls-report-<CRLF> domain"), which breaks h=.
    fields += [(b"h", b" : ".join(include)), (b"bh", bh), (b"b", b"0" * 60)]
    value = d.gen_header(fields, include, policy, b"DKIM-Signature", pk)
    return b"DKIM-Signature: " + value, t, x


def check(signed, count, zone_files, tvals):
    """Verify the top `count` signatures of signed with dkim.verify() and keys from zone_files."""
    recs = dkimtest.zone_txt(zone_files)

    def dnsfunc(name, timeout=5):
        key = name.decode() if isinstance(name, bytes) else name
        rr = recs.get(key.lower().rstrip(".") + ".")
        if not rr:
            return None
        # python3-dkim refuses s=tlsrpt outside its tlsrpt mode (which ignores l=) and mishandles
        # s=email:tlsrpt: hand it the record without s=, as mxdigest does with libopendkim.
        return dkimtest.without_service(b"".join(rr[0]))

    log = logging.getLogger("sign.py-check")
    log.addHandler(logging.StreamHandler(sys.stderr))
    log.setLevel(logging.DEBUG if os.environ.get("SIGN_DEBUG") else logging.ERROR)
    ok = True
    real_time = time.time
    for idx in range(count):
        d = dkim.DKIM(signed, logger=log, minkey=1024)
        sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
        sig = dkimtest.parse_tags(sigs[idx])
        t = tvals[idx]
        try:
            if t is not None:
                time.time = lambda: float(t + 1)
            good = d.verify(idx=idx, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            print("sign.py: check: %s" % e, file=sys.stderr)
            good = False
        finally:
            time.time = real_time
        if not good:
            print("sign.py: check: signature %d (d=%s s=%s) does not verify with the keys of %s"
                  % (idx, sig["d"], sig["s"], ", ".join(zone_files)), file=sys.stderr)
            ok = False
    return ok


def main():
    ap = argparse.ArgumentParser(description="DKIM-sign a mail (tests only).", add_help=True)
    ap.add_argument("mail", nargs="?", default="-")
    ap.add_argument("-o", "--output")
    ap.add_argument("-k", "--key", required=True)
    ap.add_argument("-d", "--domain", required=True)
    ap.add_argument("-s", "--selector", required=True)
    ap.add_argument("-c", "--canon", default="relaxed/relaxed")
    ap.add_argument("-a", "--algorithm")
    ap.add_argument("-H", "--headers")
    ap.add_argument("-l", "--length", nargs="?", const="full")
    ap.add_argument("-t", "--timestamp")
    ap.add_argument("-x", "--expire")
    ap.add_argument("-i", "--identity")
    ap.add_argument("--also", action="append", type=parse_also, default=[])
    ap.add_argument("--check", action="append", default=[])
    a = ap.parse_args()

    if a.mail == "-":
        message = sys.stdin.buffer.read()
    else:
        try:
            with open(a.mail, "rb") as f:
                message = f.read()
        except OSError as e:
            die(str(e))
    if not message.strip():
        die("empty mail")
    linesep = dkimtest.detect_linesep(message)
    first = Spec(a.key, a.domain, a.selector, a.canon, a.algorithm,
                 [h for h in a.headers.split(",")] if a.headers else None,
                 a.length, a.timestamp, a.expire, a.identity)
    tvals = []
    for spec in [first] + a.also:
        try:
            field, t, x = sign_one(message, spec, linesep)
        except dkim.DKIMException as e:
            die("signing failed: %s" % e)
        message = field + message
        tvals.insert(0, t)
    if a.check and not check(message, len(tvals), a.check, tvals):
        sys.exit(1)
    if a.output:
        tmp = a.output + ".tmp"
        with open(tmp, "wb") as f:
            f.write(message)
        os.replace(tmp, a.output)
    else:
        sys.stdout.buffer.write(message)


if __name__ == "__main__":
    main()
