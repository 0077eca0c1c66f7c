#!/usr/bin/python3
"""Generate a Maildir full of realistic TLS-RPT (RFC 8460) report mails for benchmarks.

Each mail imitates one real sender shape (Google, Microsoft sts+tlsa, mail.ru,
Mimecast as application/tlsrpt+json, Stalwart, Postfix + sys4 tlsrpt-reporter),
including the quirks documented in samples/README.md. All names are made up
(example.org / example.net / example.com), all addresses come from the
documentation ranges. Output is deterministic for a given set of options.

  gen-maildir.py --count 20000 --out /tmp/md --gz-dir /tmp/gz --seed 1
  gen-maildir.py --days 365 --count 500000 --out /tmp/year     # one year of reports

With --gz-dir, the report JSON of mail number n (1-based, the same n as the
"Q<n>" part of the Maildir file name) is also written gzipped to DIR2/<n>.json.gz
(for mails that carry a gzip attachment these are the very same gzip bytes).
Stdlib only; runs with Debian's /usr/bin/python3.
"""

import argparse
import base64
import calendar
import datetime
import hashlib
import json
import os
import random
import struct
import sys
import time
import zlib

# --------------------------------------------------------------------------- helpers

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822(ts, off_h=0, comment=None):
    t = time.gmtime(ts + off_h * 3600)
    s = "%s, %d %s %d %02d:%02d:%02d %s%02d00" % (
        _DAYS[t.tm_wday], t.tm_mday, _MONS[t.tm_mon], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec,
        "-" if off_h < 0 else "+", abs(off_h))
    if comment:
        s += " (%s)" % comment
    return s


def iso(ts, z=True):
    t = time.gmtime(ts)
    return "%04d-%02d-%02dT%02d:%02d:%02d%s" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min,
                                                 t.tm_sec, "Z" if z else "")


def gzip_bytes(data, xfl=0, os_byte=0, mtime=0, sync_flush=False, level=6):
    """gzip member with a chosen header (senders differ in XFL/OS/mtime)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = c.compress(data)
    if sync_flush:                      # Go's gzip.Writer.Flush (mail.ru)
        body += c.flush(zlib.Z_SYNC_FLUSH)
    body += c.flush()
    return (b"\x1f\x8b\x08\x00" + struct.pack("<I", mtime & 0xffffffff) + bytes((xfl, os_byte)) + body +
            struct.pack("<II", zlib.crc32(data) & 0xffffffff, len(data) & 0xffffffff))


def b64(data):
    return base64.encodebytes(data).decode("ascii")       # 76-column lines, each ending in \n


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


SNT = "starttls-not-supported"
CHM = "certificate-host-mismatch"
CEX = "certificate-expired"
CNT = "certificate-not-trusted"
VAL = "validation-failure"
FETCH = "sts-policy-fetch-error"
STSINV = "sts-policy-invalid"
WEBPKI = "sts-webpki-invalid"
TLSAINV = "tlsa-invalid"
DNSSEC = "dnssec-invalid"

RESULT_WEIGHTS = [(SNT, 30), (CEX, 18), (CHM, 14), (CNT, 12), (VAL, 8), (FETCH, 8), (WEBPKI, 3),
                  (STSINV, 2), (TLSAINV, 3), (DNSSEC, 2)]

REASONS = {
    CNT: ["X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN",
          "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT"],
    VAL: ["X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED", "X509_V_ERR_CERT_SIGNATURE_FAILURE",
          "tls-remote-alert-70-protocol-version-not-supported", "io-timeout-during-handshake"],
}

WORDS_A = ["acme", "alder", "amber", "apex", "arbor", "aster", "atlas", "aurora", "basil", "beacon", "birch",
           "blue", "bolt", "brook", "cedar", "cinder", "cobalt", "comet", "coral", "crest", "delta", "dune",
           "ember", "falcon", "fern", "fjord", "flint", "frost", "garnet", "glade", "granite", "harbor", "hazel",
           "heron", "indigo", "iris", "jade", "juniper", "kestrel", "lagoon", "larch", "lumen", "maple", "marble",
           "meadow", "mistral", "nova", "oak", "onyx", "opal", "orbit", "pebble", "pine", "prism", "quartz",
           "raven", "reef", "ridge", "river", "saffron", "sage", "slate", "solar", "spruce", "summit", "swift",
           "thistle", "tide", "topaz", "tundra", "umber", "vale", "vertex", "willow", "zephyr"]
WORDS_B = ["labs", "logistics", "media", "travel", "bank", "clinic", "school", "foods", "systems", "works",
           "studio", "energy", "legal", "press", "games", "health", "parts", "shop", "tools", "cloud",
           "design", "farm", "group", "hotel", "motors", "music", "partners", "realty", "sports", "wines"]
PARENTS = ["example.org", "example.net", "example.com"]
HOSTED_MX = ["mx-a.mailhost.example.net", "mx-b.mailhost.example.net", "mx1.securemx.example.com",
             "mx2.securemx.example.com", "inbound-1.relay.example.org", "inbound-2.relay.example.org"]

B64CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"

# share of reports with failure details, among reports about a domain that has a policy
# (about 78 % of the domains do), so that about 20 % of all reports carry failures
FAIL_P = 0.26

# rough sender mix of a real rua mailbox
SENDERS = [("google", 36), ("microsoft", 24), ("stalwart", 12), ("mimecast", 10), ("postfix", 10),
           ("mailru", 8)]


class Domain(object):
    __slots__ = ("name", "sts", "mode", "mx", "ips", "policy", "policy_cr", "dane", "tlsa", "mx_pattern",
                 "traffic")


class Generator(object):
    def __init__(self, seed, start_ts, days, count, bare=False):
        self.bare = bare
        self.rng = random.Random(seed)
        self.seed = seed
        self.start_ts = start_ts
        self.days = days
        self.count = count
        r = self.rng
        # pool of random characters for fake signatures / ids (sliced, never re-drawn per mail)
        self.alpool = "".join(r.choice(ALNUM) for _ in range(1 << 14))
        self.hexpool = "".join(r.choice(HEX) for _ in range(1 << 14))
        # enough domains so that every sender can report each domain at most once a day
        per_day = -(-count // max(days, 1))
        ndom = max(300, int(per_day * 1.25) + 20)
        self.domains = self._make_domains(ndom)
        self.used = {}          # (sender, day) -> set of domain indexes already reported
        self.pf_idx = {}        # postfix report index per (domain, day)
        sw = []
        for name, w in SENDERS:
            sw += [name] * w
        self.sender_wheel = sw
        self.rt_wheel = []
        for rt, w in RESULT_WEIGHTS:
            self.rt_wheel += [rt] * w

    # ----------------------------------------------------------------- random bits
    def fb64(self, n):
        # drawn anew for every signature, as real signatures are: slices of
        # one pool made every mail look alike to a compression dictionary
        return base64.b64encode(self.rng.randbytes(n * 3 // 4 + 3)).decode("ascii")[:n]

    def alnum(self, n):
        o = self.rng.randrange(0, len(self.alpool) - n)
        return self.alpool[o:o + n]

    def hexs(self, n):
        o = self.rng.randrange(0, len(self.hexpool) - n)
        return self.hexpool[o:o + n]

    def fold_b64(self, n, indent, width=66):
        s = self.fb64(n)
        return ("\n" + indent).join(s[i:i + width] for i in range(0, len(s), width))

    # ----------------------------------------------------------------- domains
    def _make_domains(self, n):
        r = self.rng
        names = []
        seen = set()
        i = 0
        while len(names) < n:
            a = WORDS_A[r.randrange(len(WORDS_A))]
            b = WORDS_B[r.randrange(len(WORDS_B))]
            p = PARENTS[r.randrange(len(PARENTS))]
            nm = "%s-%s.%s" % (a, b, p)
            if nm in seen:
                nm = "%s-%s%d.%s" % (a, b, i, p)
            i += 1
            if nm in seen:
                continue
            seen.add(nm)
            names.append(nm)
        doms = []
        for k, nm in enumerate(names):
            d = Domain()
            d.name = nm
            d.sts = r.random() < 0.78
            d.mode = "enforce" if r.random() < 0.7 else "testing"
            if r.random() < 0.6:
                d.mx = ["mx%d.%s" % (j + 1, nm) for j in range(r.randint(1, 3))]
                d.mx_pattern = list(d.mx)
            else:
                a = r.randrange(0, len(HOSTED_MX), 2)
                d.mx = HOSTED_MX[a:a + 2]
                d.mx_pattern = ["*." + d.mx[0].split(".", 1)[1]] if r.random() < 0.5 else list(d.mx)
            d.ips = {}
            for h in d.mx:
                if r.random() < 0.2:
                    d.ips[h] = "2001:db8:%x:%x::%x" % (r.randint(1, 0xffff), r.randint(0, 0xff), r.randint(1, 0xfff))
                else:
                    d.ips[h] = "203.0.113.%d" % r.randint(1, 254)
            lines = ["version: STSv1", "mode: " + d.mode]
            mxl = ["mx: " + m for m in d.mx_pattern]
            age = "max_age: %d" % r.choice([86400, 604800, 1209600, 2419200, 10368000, 31557600])
            d.policy = lines + ([age] + mxl if r.random() < 0.3 else mxl + [age])
            d.policy_cr = r.random() < 0.1          # policy file served with CRLF (Google keeps the \r)
            d.dane = r.random() < 0.35
            d.tlsa = ["%d 1 1 %s" % (r.choice((3, 3, 2)), hashlib.sha256(("%s/%d/%d" % (nm, j, self.seed)).encode())
                                     .hexdigest().upper()) for j in range(r.randint(1, 4))]
            d.traffic = r.choice((0.02, 0.1, 0.3, 1.0, 1.0, 3.0, 8.0))
            doms.append(d)
        return doms

    def pick_domain(self, sender, day):
        key = (sender, day)
        used = self.used.get(key)
        if used is None:
            used = self.used[key] = set()
        n = len(self.domains)
        i = self.rng.randrange(n)
        for _ in range(n):
            if i not in used:
                used.add(i)
                return self.domains[i]
            i = (i + 1) % n
        raise SystemExit("gen-maildir: domain pool exhausted (raise --days or lower --count)")

    # ----------------------------------------------------------------- failure details
    def sending_ip(self, sender):
        r = self.rng
        if sender == "google":
            return "192.0.2.%d" % r.randint(20, 59) if r.random() < 0.8 else "2001:db8:4860:%x::%x" % (
                r.randint(0x4800, 0x48ff), r.randint(1, 0x2ff))
        if sender == "microsoft":
            return "198.51.100.%d" % r.randint(100, 160) if r.random() < 0.85 else "2001:db8:a0:%x::%x" % (
                r.randint(1, 0xff), r.randint(1, 0xff))
        if sender == "mailru":
            return "192.0.2.%d" % r.randint(200, 230)
        if sender == "mimecast":
            return "198.51.100.%d" % r.randint(200, 240)
        if sender == "stalwart":
            return "192.0.2.%d" % r.randint(70, 79)
        return "198.51.100.%d" % r.randint(1, 30)

    def details(self, sender, d, succ):
        """list of (result-type, sending-ip, mx, receiving-ip, count, reason)"""
        r = self.rng
        out = []
        cap = max(2, succ // 8 + 3)
        for _ in range(r.randint(1, 5)):
            rt = self.rt_wheel[r.randrange(len(self.rt_wheel))]
            if not d.sts and rt in (FETCH, STSINV, WEBPKI):
                rt = SNT
            if rt in (TLSAINV, DNSSEC) and sender != "microsoft":
                rt = CNT
            mx = d.mx[r.randrange(len(d.mx))]
            reason = None
            if rt in REASONS:
                reason = r.choice(REASONS[rt])
            if rt == FETCH:
                if sender == "mailru":
                    reason = r.choice([
                        'unable to do http request: Get "https://mta-sts.%s/.well-known/mta-sts.txt": '
                        'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' % d.name,
                        'unable to do http request: Get "https://mta-sts.%s/.well-known/mta-sts.txt": '
                        'dial tcp 203.0.113.%d:443: connect: connection refused' % (d.name, r.randint(1, 254)),
                        "bad https response code: %d" % r.choice((403, 404, 500, 503))])
                out.append((rt, None, None, None, r.randint(1, cap), reason))
                continue
            out.append((rt, self.sending_ip(sender), mx, d.ips[mx], r.randint(1, cap), reason))
        return out

    # ----------------------------------------------------------------- per-sender builders
    # each returns (message str, json bytes, gzip bytes or None, delivery time, crlf flag)

    def receiving_headers(self, envfrom, helo, ip, rcpt, dkim_d, ts, extra_auth=""):
        """headers added on the receiving side (newest first); none with --bare"""
        if self.bare:
            return ""
        rt = rfc2822(ts, 0, "UTC")
        host = "inbound.reports.example.net"
        return ("Return-Path: <%s>\n"
                "Delivered-To: %s\n"
                "Received: from %s (%s [%s])\n"
                "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
                "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\n"
                "\t(No client certificate requested)\n"
                "\tby %s (Postfix) with ESMTPS id 4c%s\n"
                "\tfor <%s>; %s\n"
                "Authentication-Results: %s;\n"
                "\tdkim=pass (2048-bit key; unprotected) header.d=%s header.i=@%s\n"
                "\theader.a=rsa-sha256 header.s=s%d header.b=%s;\n"
                "\tdmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=%s;\n"
                "\tspf=pass (%s: domain of %s designates %s as permitted sender)\n"
                "\tsmtp.mailfrom=%s%s\n"
                "Received-SPF: pass (%s: domain of %s designates %s as permitted sender)\n"
                "\treceiver=%s; client-ip=%s; helo=%s; envelope-from=%s\n"
                "ARC-Seal: i=1; a=rsa-sha256; d=reports.example.net; s=arc-2026; t=%d; cv=none;\n"
                "\tb=%s\n"
                "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=reports.example.net;\n"
                "\ts=arc-2026; t=%d; h=from:to:subject:date:message-id:tls-report-domain:\n"
                "\ttls-report-submitter:mime-version:content-type;\n"
                "\tbh=%s=;\n"
                "\tb=%s\n"
                "ARC-Authentication-Results: i=1; %s; dkim=pass header.d=%s;\n"
                "\tdmarc=pass header.from=%s; spf=pass smtp.mailfrom=%s\n"
                "X-Spam-Status: No, score=-0.1 required=5.0 tests=DKIM_SIGNED,DKIM_VALID,\n"
                "\tDKIM_VALID_AU,RCVD_IN_DNSWL_NONE,SPF_PASS autolearn=ham\n"
                % (envfrom, rcpt, helo, helo, ip, host, self.alnum(9), rcpt, rt,
                   host, dkim_d, dkim_d, self.rng.randint(1, 20), self.alnum(8), dkim_d,
                   host, envfrom.split("@")[-1], ip, envfrom, extra_auth,
                   host, envfrom.split("@")[-1], ip, host, ip, helo, envfrom,
                   ts, self.fold_b64(344, "\t"), ts, self.fb64(43), self.fold_b64(344, "\t"),
                   host, dkim_d, dkim_d, envfrom))

    def google(self, d, day_ts, n):
        r = self.rng
        succ = max(1, int(r.randint(50, 1500) * d.traffic))
        fail_det = self.details("google", d, succ) if (d.sts and r.random() < FAIL_P) else []
        if d.sts:
            ps = [l + "\r" for l in d.policy] if d.policy_cr else list(d.policy)
            pol = {"policy": {"policy-type": "sts", "policy-string": ps, "policy-domain": d.name,
                              "mx-host": list(d.mx_pattern)},
                   "summary": {"total-successful-session-count": succ,
                               "total-failure-session-count": sum(x[4] for x in fail_det)}}
            if fail_det:
                fd = []
                for (rt, sip, mx, rip, c, reason) in fail_det:
                    e = {"result-type": rt}
                    if sip:
                        e["sending-mta-ip"] = sip
                    if rip:
                        e["receiving-ip"] = rip
                    if mx:
                        e["receiving-mx-hostname"] = mx
                    e["failed-session-count"] = c
                    fd.append(e)
                pol["failure-details"] = fd
        else:
            pol = {"policy": {"policy-type": "no-policy-found", "policy-domain": d.name},
                   "summary": {"total-successful-session-count": succ, "total-failure-session-count": 0}}
        rep = {"organization-name": "Google Inc.",
               "date-range": {"start-datetime": iso(day_ts), "end-datetime": iso(day_ts + 86399)},
               "contact-info": "smtp-tls-reporting@google.com",
               "report-id": iso(day_ts) + "_" + d.name,
               "policies": [pol]}
        js = compact(rep).encode()
        gz = gzip_bytes(js)
        sent = day_ts + 86400 + r.randint(1800, 14 * 3600)
        fname = "google.com!%s!%d!%d!001.json.gz" % (d.name, day_ts, day_ts + 86399)
        bnd = "000000000000" + self.hexs(16)
        rcpt = "tls-reports@" + d.name
        envfrom = "%s-%s-%s@smtp-tls-reporting.bounces.google.com" % (
            "3" + self.alnum(14), self.alnum(5).lower(), self.alnum(4).lower())
        helo = "mail-%s-f%d.google.com" % (r.choice(("oa1", "yb1", "qk1", "ot1", "pl1", "io1")), r.randint(41, 199))
        ip = "192.0.2.%d" % r.randint(60, 120)
        t = time.gmtime(day_ts)
        h = self.receiving_headers(envfrom, helo, ip, rcpt, "google.com", sent + 2)
        h += ("Received: by %s with SMTP id %s-%s.%d\n"
              "        for <%s>; %s\n"
              "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
              "        d=google.com; s=20230601; t=%d; x=%d; darn=%s;\n"
              "        h=to:from:subject:message-id:tls-report-submitter:tls-report-domain\n"
              "         :date:mime-version:from:to:cc:subject:date:message-id:reply-to;\n"
              "        bh=%s=;\n"
              "        b=%s\n"
              "X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
              "        d=1e100.net; s=20230601; t=%d; x=%d;\n"
              "        h=to:from:subject:message-id:tls-report-submitter:tls-report-domain\n"
              "         :date:mime-version:x-gm-message-state:from:to:cc:subject:date\n"
              "         :message-id:reply-to;\n"
              "        bh=%s=;\n"
              "        b=%s\n"
              "X-Gm-Message-State: AOJu0Y%s\n"
              "\t%s\n"
              "X-Google-Smtp-Source: AGHT+I%s\n"
              "MIME-Version: 1.0\n"
              "X-Received: by 2002:a05:%s:%s:b0:%s:%s with SMTP id\n"
              " %s-%s.%d.%d; %s\n"
              "Date: %s\n"
              "TLS-Report-Domain: %s\n"
              "TLS-Report-Submitter: google.com\n"
              "Message-ID: <%s.%s.%s.%stls@google.com>\n"
              "Subject: Report Domain: %s Submitter: google.com Report-ID: <%04d.%02d.%02dT00.00.00Z+%s@google.com>\n"
              "From: noreply-smtp-tls-reporting@google.com\n"
              "To: %s\n"
              "Content-Type: multipart/report; boundary=\"%s\"; report-type=tlsrpt\n"
              "\n"
              "--%s\n"
              "Content-Type: text/plain; charset=\"UTF-8\"; format=flowed; delsp=yes\n"
              "\n"
              "This is an aggregate TLS report from google.com\n"
              "\n"
              "--%s\n"
              "Content-Type: application/tlsrpt+gzip; \n"
              "\tname=\"%s\"\n"
              "Content-Disposition: attachment; \n"
              "\tfilename=\"%s\"\n"
              "Content-Transfer-Encoding: base64\n"
              "\n"
              "%s"
              "--%s--\n"
              % (helo, self.hexs(11), self.hexs(12), r.randint(1, 9), rcpt, rfc2822(sent, -8, "PST"),
                 sent, sent + 604800, d.name, self.fb64(43), self.fold_b64(344, "         "),
                 sent, sent + 604800, self.fb64(43), self.fold_b64(344, "         "),
                 self.fb64(50), self.fb64(70), self.fb64(90),
                 self.hexs(4), self.hexs(4), self.hexs(3), self.hexs(4), self.hexs(14), self.hexs(12),
                 r.randint(1000000, 9999999), sent * 1000 + r.randint(0, 999), rfc2822(sent, -8, "PST"),
                 rfc2822(sent, -8), d.name, self.hexs(8), self.hexs(8), self.hexs(6), self.hexs(4),
                 d.name, t.tm_year, t.tm_mon, t.tm_mday, d.name, rcpt, bnd, bnd, bnd, fname, fname, b64(gz), bnd))
        return h, js, gz, sent, r.random() < 0.1

    def microsoft(self, d, day_ts, n):
        r = self.rng
        succ = max(1, int(r.randint(30, 1000) * d.traffic))
        fail_det = self.details("microsoft", d, succ) if ((d.sts or d.dane) and r.random() < FAIL_P) else []
        gen = day_ts + 86400 + r.randint(3600, 20 * 3600)
        # FILETIME of generation; the low digits carry the mail number, so ids never repeat
        rid_num = (gen + 11644473600) * 10 ** 7 + (n % 10 ** 7)
        rid = "%d+%s" % (rid_num, d.name)

        def fds(lst, tlsa):
            out = []
            for (rt, sip, mx, rip, c, reason) in lst:
                e = {"result-type": rt}
                if rt != FETCH:
                    if sip and (hash_mod(sip) % 10) < 7:     # Microsoft often omits the sending IP
                        e["sending-mta-ip"] = sip
                    e["receiving-mx-hostname"] = mx
                    e["receiving-ip"] = rip
                e["failed-session-count"] = c
                out.append(e)
            return out

        tot = sum(x[4] for x in fail_det)
        pols = []
        if d.sts:
            p = {"policy": {"policy-type": "sts", "policy-string": list(d.policy), "policy-domain": d.name},
                 "summary": {"total-successful-session-count": succ, "total-failure-session-count": tot}}
            if fail_det:
                p["failure-details"] = fds(fail_det, False)
            pols.append(p)
        if d.dane:
            tsucc = succ if r.random() < 0.8 else max(0, succ - r.randint(1, 3))
            p = {"policy": {"policy-type": "tlsa", "policy-string": [compact(d.tlsa)], "policy-domain": d.name},
                 "summary": {"total-successful-session-count": tsucc, "total-failure-session-count": tot}}
            if fail_det:
                p["failure-details"] = fds(fail_det, True)
            pols.append(p)
            if r.random() < 0.4:
                pols.reverse()
        if not pols:
            pols.append({"policy": {"policy-type": "no-policy-found", "policy-domain": d.name},
                         "summary": {"total-successful-session-count": succ, "total-failure-session-count": 0}})
        no_tz = r.random() < 0.01
        rep = {"organization-name": "Microsoft Corporation",
               "date-range": {"start-datetime": iso(day_ts, not no_tz), "end-datetime": iso(day_ts + 86399, not no_tz)},
               "contact-info": "tlsrpt-noreply@microsoft.com",
               "report-id": rid,
               "policies": pols}
        js = compact(rep).encode()
        gz = gzip_bytes(js, xfl=4, level=1)
        sent = gen + r.randint(5, 40)
        fname = "microsoft.com!%s!%d!%d!%d.json.gz" % (d.name, day_ts, day_ts + 86399, rid_num)
        bnd = "_%s-%s-%s-%s-%s_" % (self.hexs(8), self.hexs(4), self.hexs(4), self.hexs(4), self.hexs(12))
        corr = "%s-%s-%s-%s-%s" % (self.hexs(8), self.hexs(4), self.hexs(4), self.hexs(4), self.hexs(12))
        rcpt = "tls-reports@" + d.name
        srv = r.choice(("BN1PR04CU002", "CH5PR02CU005", "SN4PR2101CU001", "DM5PR21CU001", "CY4PR05CU001"))
        inner = "%s%dMB%04d" % (r.choice(("MW4PR", "PH7PR", "SA1PR", "DM6PR")), 21, r.randint(1000, 9999))
        ip = "198.51.100.%d" % r.randint(100, 130)
        helo = "%s.outbound.protection.outlook.com" % srv
        h = self.receiving_headers("tlsrpt-noreply@microsoft.com", helo, ip, rcpt, "microsoft.com", sent + 3)
        qp_html = ("<html>\n<head>\n<meta http-equiv=3D\"Content-Type\" content=3D\"text/html; charset=3Dus-ascii\"=\n"
                   ">\n</head>\n<body>\n<div>This is an aggregate TLS report from microsoft.com</div>\n <br>\n<br>\n"
                   "<p><em>This message was generated automatically. Replies to this address ar=\n"
                   "e not read. For the privacy terms that apply, see </em><a href=3D\"https://p=\n"
                   "rivacy.microsoft.com/en-us/privacystatement\"><em>our privacy statement</em>=\n"
                   "</a><em><br>\n<br>\n<em>Microsoft Corporation </em><br>\n<em>One Microsoft Way</em><br>\n"
                   "<em>Redmond, WA, USA 98052</em></em></p>\n </body>\n</html>\n")
        mi = "\n".join(" =?us-ascii?Q?%s?=" % self.fb64(60) for _ in range(r.randint(6, 14)))
        h += ("Received: from BL2NAM06FT0%02d.eop-nam06.prod.protection.outlook.com\n"
              " (2603:10b6:5:114:cafe::%x) by %s.namprd21.prod.outlook.com\n"
              " (2603:10b6:303:74::%x) with Microsoft SMTP Server (version=TLS1_2,\n"
              " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.9%03d.%d; %s\n"
              "From: <tlsrpt-noreply@microsoft.com>\n"
              "To: \"%s\" <%s>\n"
              "Date: %s\n"
              "Subject: Report Domain: %s Submitter: microsoft.com Report-ID:\n %s\n"
              "TLS-Report-Domain: %s\n"
              "TLS-Report-Submitter: microsoft.com\n"
              "MIME-Version: 1.0\n"
              "Message-ID: <%s@%s>\n"
              "Content-Type: multipart/report;\n"
              "\tboundary=\"%s\"; report-type=tlsrpt\n"
              "Return-Path: tlsrpt-noreply@microsoft.com\n"
              "X-MS-TrafficTypeDiagnostic:\n"
              "\tBL2NAM06FT0%02d:EE_FirstParty-TlsRpt-V3-System|%s:EE_FirstParty-TlsRpt-V3-System\n"
              "X-MS-PublicTrafficType: Email\n"
              "X-MS-Office365-Filtering-Correlation-Id: %s\n"
              "X-MS-Exchange-SenderADCheck: 1\n"
              "X-MS-Exchange-AntiSpam-Relay: 0\n"
              "X-Microsoft-Antispam: BCL:0;ARA:13230040|376014|61400799027;\n"
              "X-Microsoft-Antispam-Message-Info:\n%s\n"
              "X-OriginatorOrg: microsoft.com\n"
              "X-MS-Exchange-CrossTenant-OriginalArrivalTime: %s\n (UTC)\n"
              "X-MS-Exchange-CrossTenant-Network-Message-Id: %s\n"
              "X-MS-Exchange-Transport-CrossTenantHeadersStamped: %s\n"
              "\n"
              "--%s\n"
              "Content-Type: text/html; charset=\"us-ascii\"\n"
              "Content-Transfer-Encoding: quoted-printable\n"
              "\n"
              "%s\n"
              "--%s\n"
              "Content-Type: application/tlsrpt+gzip\n"
              "Content-Description:\n %s\n"
              "Content-Disposition: attachment;\n"
              "\tfilename=\"%s\"\n"
              "Content-Transfer-Encoding: base64\n"
              "\n"
              "%s\n"
              "--%s--\n"
              % (r.randint(1, 40), r.randint(1, 0xff), inner, r.randint(1, 0xff), r.randint(0, 999), r.randint(1, 30),
                 rfc2822(sent), rcpt, rcpt, rfc2822(sent), d.name, rid, d.name, rid, d.name, bnd,
                 r.randint(1, 40), inner, corr, mi,
                 "%02d %s %d %s.%04d" % (time.gmtime(sent).tm_mday, _MONS[time.gmtime(sent).tm_mon],
                                         time.gmtime(sent).tm_year, time.strftime("%H:%M:%S", time.gmtime(sent)),
                                         r.randint(0, 9999)),
                 corr, inner, bnd, qp_html, bnd, fname, fname, b64(gz), bnd))
        return h, js, gz, sent, False

    def mailru(self, d, day_ts, n):
        r = self.rng
        succ = max(0, int(r.randint(2, 80) * d.traffic))
        fail_det = self.details("mailru", d, succ) if (d.sts and r.random() < FAIL_P) else []
        rid = "%s-%s-%s-%04x-%s@mail.ru" % (self.hexs(8), self.hexs(4), self.hexs(4), n & 0xffff,
                                             "%012x" % (n * 7919 + self.seed))
        pol = {"policy": {"policy-type": "sts" if d.sts else "no-policy-found", "policy-domain": d.name},
               "summary": {"total-successful-session-count": succ,
                           "total-failure-session-count": sum(x[4] for x in fail_det)}}
        if fail_det:
            fd = []
            for (rt, sip, mx, rip, c, reason) in fail_det:
                e = {"result-type": rt, "failed-session-count": c}
                if reason:
                    e["failure-reason-code"] = reason
                if rt != FETCH:
                    e["receiving-ip"] = rip
                fd.append(e)
            if len(fd) > 1 and r.random() < 0.3:          # totals need not match the detail sum
                pol["summary"]["total-failure-session-count"] -= 1
            pol["failure-details"] = fd
        rep = {"organization-name": "Mail.ru",
               "date-range": {"start-datetime": iso(day_ts), "end-datetime": iso(day_ts + 86400)},
               "contact-info": "tls_support@corp.mail.ru",
               "report-id": rid,
               "policies": [pol]}
        js = compact(rep).encode()
        gz = gzip_bytes(js, os_byte=255, sync_flush=True)
        sent = day_ts + 86400 + r.randint(300, 3 * 3600)
        bnd = "----=_NextPart_%d%09d" % (sent, r.randint(0, 999999999))
        fname = "mail.ru!%s!%d!%d!001.json.gz" % (d.name, day_ts, day_ts + 86400)
        rcpt = "tls-reports@" + d.name
        relay = "relay%d.m.smailru.net" % r.randint(1, 9)
        ip = "192.0.2.%d" % r.randint(200, 230)
        h = self.receiving_headers("noreply-smtp-tls-reporting@corp.mail.ru", relay, ip, rcpt, "corp.mail.ru", sent + 4)
        h += ("DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/relaxed; d=corp.mail.ru; s=mail4;\n"
              "\th=Content-Type:MIME-Version:Message-Id:Subject:To:Date:From:From:Subject:Content-Type:"
              "Content-Transfer-Encoding:To:Cc; bh=%s=;\n"
              "\tt=%d;x=%d; \n"
              "\tb=%s\n"
              "Received: from [10.113.%d.%d] (port=%d helo=localhost)\n"
              "\tby %s with esmtp (envelope-from <noreply-smtp-tls-reporting@corp.mail.ru>)\n"
              "\tid 1v%s-%s-%s\n"
              "\tfor %s; %s\n"
              "From: noreply-smtp-tls-reporting@corp.mail.ru\n"
              "Date: %s\n"
              "To: %s\n"
              "Subject: Report\n Domain: %s\n Submitter: mail.ru\n Report-ID: <%s>\n"
              "Auto-Submitted: auto-generated\n"
              "TLS-Report-Domain: %s\n"
              "TLS-Report-Submitter: mail.ru\n"
              "Message-Id: <%s>\n"
              "X-Mailru-Skip-Sts: true\n"
              "MIME-Version: 1.0\n"
              "Content-Type: multipart/report; report-type=\"tlsrpt\";\n boundary=\"%s\"\n"
              "X-Mru-FromAddress: noreply-smtp-tls-reporting@corp.mail.ru\n"
              "X-7564579A: %s\n"
              "X-77F55803: %s\n"
              "X-7FA49CB5: %s\n"
              "X-Mailru-MI: 601000\n"
              "X-Mras: Ok\n"
              "\n"
              "This is a multipart message in MIME format.\n"
              "\n"
              "--%s\n"
              "Content-Type: text/plain; charset=\"us-ascii\"\n"
              "Content-Transfer-Encoding: 7bit\n"
              "\n"
              "This is an aggregate TLS report from mail.ru\n"
              "\n"
              "--%s\n"
              "Content-Type: application/tlsrpt+gzip;\n name=\"%s\"\n"
              "Content-Transfer-Encoding: base64\n"
              "Content-Disposition: attachment;\n filename=\"%s\"\n"
              "\n"
              "%s\n"
              "--%s\n\n\n"
              % (self.fb64(43), sent, sent + 90000, self.fb64(172),
                 r.randint(1, 250), r.randint(1, 250), r.randint(30000, 60000), relay,
                 self.alnum(4), self.alnum(5), self.alnum(2), rcpt, rfc2822(sent + 1, 3),
                 rfc2822(sent, 3), rcpt, d.name, rid, d.name, rid, bnd,
                 self.hexs(16).upper(), self.hexs(160).upper(), self.hexs(96).upper(),
                 bnd, bnd, fname, fname, b64(gz), bnd))
        return h, js, gz, sent, True

    def mimecast(self, d, day_ts, n):
        r = self.rng
        succ = max(1, int(r.randint(3, 120) * d.traffic))
        fail_det = self.details("mimecast", d, succ) if (d.sts and r.random() < FAIL_P) else []
        rid = hashlib.sha256(("mimecast/%d/%d/%s" % (self.seed, n, d.name)).encode()).hexdigest()
        if d.sts:
            p = {"policy-type": "sts", "policy-string": list(d.policy), "policy-domain": d.name,
                 "mx-host": list(d.mx_pattern)}
        else:
            p = {"policy-type": "no-policy-found", "policy-domain": d.name}
        fd = []
        for (rt, sip, mx, rip, c, reason) in fail_det:
            e = {"result-type": rt}
            if sip:
                e["sending-mta-ip"] = sip
                e["receiving-mx-hostname"] = mx
                e["receiving-ip"] = rip
            e["failed-session-count"] = c
            if reason:
                e["failure-reason-code"] = reason
            fd.append(e)
        rep = {"organization-name": "Mimecast",
               "date-range": {"start-datetime": iso(day_ts), "end-datetime": iso(day_ts + 86399)},
               "contact-info": "noreply@mimecast.org",
               "report-id": rid,
               "policies": [{"policy": p,
                             "summary": {"total-successful-session-count": succ,
                                         "total-failure-session-count": sum(x[4] for x in fail_det)},
                             "failure-details": fd}]}
        js = compact(rep).encode()
        sent = day_ts + 86400 + r.randint(600, 6 * 3600)
        fname = "mimecast.org!%s!%d!%d!%s.json" % (d.name, day_ts, day_ts + 86399, rid)
        bnd = "MCBoundary=_%s" % self.hexs(24)
        rcpt = "tls-reports@" + d.name
        helo = "us-smtp-delivery-%d.mimecast.com" % r.randint(100, 199)
        ip = "198.51.100.%d" % r.randint(200, 240)
        h = self.receiving_headers("noreply@mimecast.org", helo, ip, rcpt, "mimecast.org", sent + 2)
        h += ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=mimecast.org;\n"
              "\ts=mimecast20240101; t=%d;\n"
              "\th=from:from:reply-to:subject:subject:date:date:message-id:message-id:\n"
              "\t to:to:cc:mime-version:mime-version:content-type:content-type;\n"
              "\tbh=%s=;\n"
              "\tb=%s\n"
              "Received: from mimecast-report-%d.mimecast.local ([10.%d.%d.%d])\n"
              "\tby relay.mimecast.com with ESMTP id %s-%s; %s\n"
              "X-MC-Unique: %s-%s\n"
              "X-Mimecast-MFC-AGG-ID: %s\n"
              "From: Mimecast TLS Reporting <noreply@mimecast.org>\n"
              "To: %s\n"
              "Date: %s\n"
              "Message-ID: <%s@mimecast.org>\n"
              "Subject: Report Domain: %s Submitter: mimecast.org Report-ID: <%s>\n"
              "TLS-Report-Domain: %s\n"
              "TLS-Report-Submitter: mimecast.org\n"
              "MIME-Version: 1.0\n"
              "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"%s\"\n"
              "\n"
              "--%s\n"
              "Content-Type: text/plain; charset=\"utf-8\"\n"
              "Content-Transfer-Encoding: 7bit\n"
              "\n"
              "This is an aggregate TLS report from mimecast.org for %s.\n"
              "\n"
              "--%s\n"
              "Content-Type: application/tlsrpt+json; name=\"%s\"\n"
              "Content-Disposition: attachment; filename=\"%s\"\n"
              "Content-Transfer-Encoding: base64\n"
              "\n"
              "%s"
              "--%s--\n"
              % (sent, self.fb64(43), self.fold_b64(344, "\t "), r.randint(1, 40), r.randint(0, 255),
                 r.randint(0, 255), r.randint(1, 254), self.alnum(10), self.alnum(6), rfc2822(sent),
                 self.alnum(9), self.alnum(12), d.name, rcpt, rfc2822(sent), rid, d.name, rid, d.name,
                 bnd, bnd, d.name, bnd, fname, fname, b64(js), bnd))
        return h, js, None, sent, False

    def stalwart(self, d, day_ts, n):
        r = self.rng
        host = "mx.%s.example.com" % r.choice(("relay", "mailer", "post", "smtp-out", "mx-cluster"))
        succ = max(1, int(r.randint(1, 30) * d.traffic))
        fail_det = self.details("stalwart", d, succ) if (d.sts and r.random() < FAIL_P) else []
        rid = "%d_%d" % (day_ts, (r.getrandbits(44) << 20) | (n & 0xfffff))
        if d.sts:
            p = {"policy-type": "sts", "policy-string": list(d.policy), "policy-domain": d.name,
                 "mx-host": list(d.mx_pattern)}
        else:
            p = {"policy-type": "no-policy-found", "policy-string": [], "policy-domain": d.name, "mx-host": []}
        fd = [{"result-type": rt, "sending-mta-ip": sip, "receiving-mx-hostname": mx, "receiving-mx-helo": None,
               "receiving-ip": rip, "failed-session-count": c, "additional-information": None,
               "failure-reason-code": reason} for (rt, sip, mx, rip, c, reason) in fail_det]
        rep = {"organization-name": host,
               "date-range": {"start-datetime": iso(day_ts), "end-datetime": iso(day_ts + 86400)},
               "contact-info": None,
               "report-id": rid,
               "policies": [{"policy": p,
                             "summary": {"total-successful-session-count": succ,
                                         "total-failure-session-count": sum(x[4] for x in fail_det)},
                             "failure-details": fd}]}
        js = compact(rep).encode()
        gz = gzip_bytes(js, os_byte=255)
        sent = day_ts + 86400 + r.randint(30, 2 * 3600)
        fname = "%s!%s!%d!%d.json.gz" % (host, d.name, day_ts, day_ts + 86400)
        bnd = "%016x_%016x_%04x" % (r.getrandbits(64), r.getrandbits(64), r.getrandbits(16))
        rcpt = "tls-reports@" + d.name
        dom = host.split(".", 1)[1]
        h = self.receiving_headers("noreply-tls@" + dom, host, "192.0.2.%d" % r.randint(70, 79), rcpt, dom, sent + 2)
        h += ("DKIM-Signature: v=1; a=ed25519-sha256; s=%s; d=%s; c=relaxed/relaxed;\n"
              "\th=From:To:Subject:Date:Message-ID; t=%d; bh=%s=;\n"
              "\tb=%s\n"
              "From: \"TLS Report\" <noreply-tls@%s>\n"
              "To: <%s>\n"
              "TLS-Report-Domain: %s\n"
              "TLS-Report-Submitter: %s\n"
              "Auto-Submitted: auto-generated\n"
              "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n"
              "Message-ID: <%016x.%d@%s>\n"
              "Date: %s\n"
              "MIME-Version: 1.0\n"
              "Content-Type: multipart/report; report-type=\"tlsrpt\"; \n"
              "\tboundary=\"%s\"\n"
              "\n"
              "\n"
              "--%s\n"
              "Content-Type: text/plain; charset=\"utf-8\"\n"
              "Content-Transfer-Encoding: 7bit\n"
              "\n"
              "TLS report from %s\n"
              "\n"
              "Report Domain: %s\n"
              "Submitter: %s\n"
              "Report-ID: %s\n"
              "\n"
              "--%s\n"
              "Content-Type: application/tlsrpt+gzip\n"
              "Content-Disposition: attachment; filename=\"%s\"\n"
              "Content-Transfer-Encoding: base64\n"
              "\n"
              "%s"
              "--%s--\n"
              % (r.choice(("202401e", "stalwart", "mail-ed")), dom, sent, self.fb64(43), self.fold_b64(86, "\t"),
                 dom, rcpt, d.name, host, d.name, host, rid, r.getrandbits(64), sent, host, rfc2822(sent),
                 bnd, bnd, host, d.name, host, rid, bnd, fname, b64(gz), bnd))
        return h, js, gz, sent, False

    def postfix(self, d, day_ts, n):
        r = self.rng
        host = "mail.%s.example.com" % r.choice(("kolibri", "zaunkoenig", "amsel", "meise", "fink", "star"))
        succ = max(1, int(r.randint(1, 40) * d.traffic))
        fail_det = self.details("postfix", d, succ) if (d.sts and r.random() < FAIL_P) else []
        key = (d.name, day_ts)
        idx = self.pf_idx.get(key, 0) + 1
        self.pf_idx[key] = idx
        rid = "%s_idx%d_%s" % (iso(day_ts), idx, d.name)
        if d.sts:
            p = {"policy-type": "sts", "policy-string": list(d.policy), "policy-domain": d.name,
                 "mx-host": list(d.mx_pattern)}
        else:
            p = {"policy-type": "no-policy-found"}          # sys4 bug: no policy-domain
        fd = []
        for (rt, sip, mx, rip, c, reason) in fail_det:
            e = {}
            if reason:
                e["failure-reason-code"] = reason
            if mx:
                e["receiving-mx-hostname"] = mx
                e["receiving-ip"] = rip
                e["sending-mta-ip"] = sip
            e["result-type"] = rt
            e["failed-session-count"] = c
            fd.append(e)
        tot = sum(x[4] for x in fail_det)
        rep = {"organization-name": host,
               "date-range": {"start-datetime": iso(day_ts), "end-datetime": iso(day_ts + 86399)},
               "contact-info": "smtp-tls-reporting@" + host.split(".", 1)[1],
               "policies": [{"summary": {"total-failure-session-count": tot, "total-successful-session-count": succ},
                             "policy": p, "failure-details": fd}],
               "report-id": rid}
        js = json.dumps(rep).encode()
        sent = day_ts + 86400 + r.randint(60, 10 * 3600)
        gz = gzip_bytes(js, os_byte=255, mtime=sent - 2)
        dom = host.split(".", 1)[1]
        fname = "%s!%s!%d!%d!%d.json.gz" % (host, d.name, day_ts, day_ts + 86399, idx)
        bnd = "===============%019d==" % r.getrandbits(63)
        rcpt = "tls-reports@" + d.name
        h = self.receiving_headers("tlsrpt-noreply@" + dom, host, "198.51.100.%d" % r.randint(1, 30), rcpt, dom,
                                   sent + 3)
        # Python's email package (sys4 tlsrpt-reporter) folds the long file name as RFC 2231 continuations
        q = fname.replace("!", "%21")
        cut = 40
        while "%" in q[cut - 2:cut]:          # never split a %XX escape between two segments
            cut -= 1
        h += ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=%s; s=mail;\n"
              "\tt=%d; bh=%s=;\n"
              "\th=Subject:From:To:Date;\n"
              "\tb=%s\n"
              "Received: by %s (Postfix, from userid 998)\n"
              "\tid 4c%s; %s\n"
              "Subject: Report Domain: %s Submitter: %s\n"
              " Report-ID: <%s@%s>\n"
              "From: tlsrpt-noreply@%s\n"
              "To: %s\n"
              "Message-ID: <%d%02d.%d.%d@%s>\n"
              "TLS-Report-Domain: %s\n"
              "TLS-Report-Submitter: %s\n"
              "MIME-Version: 1.0\n"
              "Date: %s\n"
              "Content-Type: multipart/report; report-type=\"tlsrpt\";\n"
              " boundary=\"%s\"\n"
              "\n"
              "--%s\n"
              "Content-Type: text/plain; charset=\"us-ascii\"\n"
              "Content-Transfer-Encoding: 7bit\n"
              "\n"
              "This is an aggregate TLS report from %s\n"
              "\n"
              "--%s\n"
              "Content-Type: application/tlsrpt+gzip\n"
              "Content-Transfer-Encoding: base64\n"
              "Content-Disposition: attachment;\n"
              " filename*0*=us-ascii''%s;\n"
              " filename*1*=%s\n"
              "MIME-Version: 1.0\n"
              "\n"
              "%s\n"
              "--%s--\n"
              % (dom, sent, self.fb64(43), self.fold_b64(344, "\t "), host, self.alnum(9), rfc2822(sent, 1, "CET"),
                 d.name, host, rid, host, dom, rcpt, sent, r.randint(0, 99), r.randint(1000, 99999),
                 r.getrandbits(60), dom, d.name, host, rfc2822(sent, 1, "CET"), bnd, bnd, host, bnd,
                 q[:cut], q[cut:], b64(gz), bnd))
        return h, js, gz, sent, False

    # ----------------------------------------------------------------- one mail
    def mail(self, n):
        r = self.rng
        sender = self.sender_wheel[r.randrange(len(self.sender_wheel))]
        day = r.randrange(self.days)
        day_ts = self.start_ts + day * 86400
        d = self.pick_domain(sender, day)
        return getattr(self, sender)(d, day_ts, n)


def hash_mod(s):
    """stable small hash (Python's hash() is salted per process)"""
    return zlib.crc32(s.encode())


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Write N realistic TLS-RPT report mails into a Maildir (benchmark input for mxdigest).",
        epilog="Example: %(prog)s --count 20000 --out /tmp/md --gz-dir /tmp/gz; "
               "one year: %(prog)s --days 365 --count 500000 --out /tmp/year")
    ap.add_argument("--count", type=int, default=1000, help="number of mails to write (default 1000)")
    ap.add_argument("--out", required=True, help="Maildir to create (DIR/cur, DIR/new, DIR/tmp)")
    ap.add_argument("--gz-dir", help="also write each mail's report JSON gzipped as DIR2/<n>.json.gz")
    ap.add_argument("--seed", type=int, default=1, help="random seed; same options give the same bytes (default 1)")
    ap.add_argument("--start", default="2026-01-01", help="first report day, YYYY-MM-DD, UTC (default 2026-01-01)")
    ap.add_argument("--days", type=int, default=90, help="spread report days over this many days (default 90)")
    ap.add_argument("--bare", action="store_true",
                    help="leave out the headers of the receiving side (Received, ARC, "
                         "Authentication-Results...): mails as the senders send them, "
                         "about 1.5 KB instead of 5.8 KB")
    ap.add_argument("--quiet", action="store_true", help="no summary on stderr")
    a = ap.parse_args(argv)
    if a.count < 0 or a.days < 1:
        ap.error("--count must be >= 0 and --days >= 1")
    try:
        st = datetime.datetime.strptime(a.start, "%Y-%m-%d")
    except ValueError:
        ap.error("--start must be YYYY-MM-DD")
    start_ts = calendar.timegm(st.timetuple())

    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    if a.gz_dir:
        os.makedirs(a.gz_dir, exist_ok=True)

    t0 = time.time()
    g = Generator(a.seed, start_ts, a.days, a.count, a.bare)
    pid = 1000 + a.seed % 30000
    cur = os.path.join(a.out, "cur")
    new = os.path.join(a.out, "new")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    total = 0
    for n in range(1, a.count + 1):
        msg, js, gz, sent, crlf = g.mail(n)
        data = msg.encode("ascii")
        if crlf:
            data = data.replace(b"\n", b"\r\n")
        deliv = sent + 5 + n % 50
        usec = (n * 7919 + a.seed) % 1000000
        if g.rng.random() < 0.5:
            path = os.path.join(cur, "%d.M%dP%dQ%d.bench.example.net:2,S" % (deliv, usec, pid, n))
        else:
            path = os.path.join(new, "%d.M%dP%dQ%d.bench.example.net" % (deliv, usec, pid, n))
        fd = os.open(path, flags, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        total += len(data)
        if a.gz_dir:
            if gz is None:
                gz = gzip_bytes(js)
            fd = os.open(os.path.join(a.gz_dir, "%d.json.gz" % n), flags, 0o644)
            try:
                os.write(fd, gz)
            finally:
                os.close(fd)
    if not a.quiet:
        dt = time.time() - t0
        sys.stderr.write("gen-maildir: %d mails, %.1f MB, %d policy domains, %.1f s\n"
                         % (a.count, total / 1e6, len(g.domains), dt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
