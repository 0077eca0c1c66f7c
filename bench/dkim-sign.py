#!/usr/bin/python3
"""Signs the mails of a bench Maildir for the DKIM benchmark (bench/dkim.sh).

  dkim-sign.py IN_MAILDIR OUT_MAILDIR KEYDIR ZONEDIR

Every mail of IN_MAILDIR (bench/gen-maildir.py: DKIM-Signature fields that
look real and verify nowhere) loses its DKIM-Signature and
X-Google-DKIM-Signature fields and gets a real signature by the domain of
its From address (RSA 2048, relaxed/relaxed, no x=: the verdict must not
depend on when the benchmark runs), written to OUT_MAILDIR under the same
name.  KEYDIR gets one key per domain (tests/dkim/keys.sh, selector
"bench"), ZONEDIR one zone per domain that publishes it, for
tests/dns/nsd.sh.  Signing runs on every CPU.
"""
import os
import re
import subprocess
import sys
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "tests", "dkim")
sys.path.insert(0, TESTS)
import sign  # noqa: E402  (tests/dkim/sign.py: python3-dkim with fixed folding)

HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "MIME-Version"]
DROP = re.compile(rb"^(dkim-signature|x-google-dkim-signature):", re.I)
FROM = re.compile(rb"^from:.*?@([A-Za-z0-9.-]+)", re.I | re.M)


def strip_signatures(raw):
    head, sep, body = raw.partition(b"\n\n")
    out, skip = [], False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skip:
                out.append(line)
            continue
        skip = bool(DROP.match(line))
        if not skip:
            out.append(line)
    return b"\n".join(out) + sep + body


def from_domain(raw):
    m = FROM.search(raw.partition(b"\n\n")[0])
    return m.group(1).decode().lower().rstrip(".") if m else None


def job(args):
    src, dst, keydir = args
    with open(src, "rb") as f:
        raw = strip_signatures(f.read())
    dom = from_domain(raw)
    spec = sign.Spec(os.path.join(keydir, "bench.%s.key" % dom), dom, "bench",
                     headers=HEADERS)
    field, _, _ = sign.sign_one(raw, spec, b"\n")
    with open(dst, "wb") as f:
        f.write(field + raw)


def main():
    src, dst, keydir, zonedir = sys.argv[1:5]
    files = []
    for sub in ("cur", "new"):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
        for name in sorted(os.listdir(os.path.join(src, sub))):
            files.append((os.path.join(src, sub, name), os.path.join(dst, sub, name)))
    os.makedirs(os.path.join(dst, "tmp"), exist_ok=True)
    os.makedirs(zonedir, exist_ok=True)
    domains = set()
    for s, _ in files:
        with open(s, "rb") as f:
            domains.add(from_domain(f.read(65536)))
    domains.discard(None)
    for dom in sorted(domains):
        subprocess.run([os.path.join(TESTS, "keys.sh"), keydir, "bench", dom, "rsa"], check=True)
        with open(os.path.join(keydir, "bench.%s.zone" % dom)) as f:
            key = f.read()
        with open(os.path.join(zonedir, dom + ".zone"), "w") as z:
            z.write("$ORIGIN %s.\n$TTL 300\n"
                    "@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 86400 300\n"
                    "@ IN NS ns1.%s.\nns1 IN A 127.0.0.1\n%s" % (dom, dom, dom, dom, key))
    with Pool(os.cpu_count() or 1) as p:
        p.map(job, [(s, d, keydir) for s, d in files], chunksize=64)
    print("dkim-sign.py: %d mails signed by %d domains" % (len(files), len(domains)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
