# shellcheck shell=bash disable=SC2034
# Sourced by certs.sh, zones.sh and selftest.sh: the scenario names shared by certificates and
# zones (tests/check/README.md explains every one).  Plain shell assignments, no commands.

# HTTPS: every web host (MTA-STS policy hosts, https rua endpoints) is on this one address;
# httpsd.py picks certificate and behaviour by SNI and Host.
HTTPS_ADDR=127.0.2.1

# SMTP: one loopback address per behaviour, all on the same port (smtpd.py).
#   ADDRESS      NAME        KIND        CERT
SMTP_TABLE='
127.0.1.1    good        starttls    good
127.0.1.2    good2       starttls    good
127.0.1.3    expired     starttls    expired
127.0.1.4    wrongname   starttls    wrongname
127.0.1.5    soon        starttls    soon
127.0.1.6    otherca     starttls    otherca
127.0.1.7    nostarttls  nostarttls  -
127.0.1.8    tlsreset    tlsreset    good
127.0.1.9    silent      silent      -
127.0.1.10   garbage     garbage     -
127.0.1.11   busy        busy        -
'
# An address of the SMTP range where nothing listens (connection refused).
SMTP_REFUSED_ADDR=127.0.1.99

# Per-behaviour domains BEHAVIOUR.smtp.test, each with one MX mx.BEHAVIOUR.smtp.test.  "refused"
# points at SMTP_REFUSED_ADDR, "noaddr" has no A record.
SMTP_DOMAINS="good good2 expired wrongname soon otherca nostarttls tlsreset silent garbage busy refused noaddr"
# The MX hosts of smtp.test itself (the mixed case): the behaviours that answer at once.
SMTP_APEX_MIX="good expired wrongname soon otherca nostarttls tlsreset busy refused"

# Domains with a TLS-RPT record variant (or none) and one MX mx1.DOMAIN on the good SMTP server.
PLAIN_DOMAINS="norecord two notfirst othertxt norua emptyrua badscheme comma split nomx aonly nullmx httpsbad ruafail insecure stale"
# MTA-STS policy cases: valid TLS-RPT record, MX mx1.DOMAIN, mta-sts.DOMAIN on HTTPS_ADDR.
STS_DOMAINS="sts404 stsredirect stsbig stsbig2 stsbigclose stsctype stsexpired ststesting stsuncovered stsslow stsnotxt stscrlf stscharset stsnone stseof"

# Host names each certificate is valid for (subjectAltName).  The "good" cert covers every host
# the harness serves with it; the others cover exactly the hosts that use them, so their only
# fault is the intended one (expired, expiring, other CA); "wrongname" is valid for none.
good_cert_names() {
	local d b
	printf '%s\n' mx1.good.test mx2.good.test mta-sts.good.test tlsrpt.good.test
	printf '%s\n' mx1.sec.test mx2.sec.test mx3.sec.test mta-sts.sec.test
	printf '%s\n' mx1.bogus.test mta-sts.bogus.test mta-sts.norecord.test mx3.stsuncovered.test
	for d in $PLAIN_DOMAINS $STS_DOMAINS; do printf 'mx1.%s.test\n' "$d"; done
	for d in $STS_DOMAINS; do [ "$d" = stsexpired ] || printf 'mta-sts.%s.test\n' "$d"; done
	for b in good good2 nostarttls tlsreset silent garbage busy refused noaddr; do
		printf 'mx.%s.smtp.test\n' "$b"
	done
}
EXPIRED_CERT_NAMES="mta-sts.stsexpired.test mx.expired.smtp.test"
SOON_CERT_NAMES="mx.soon.smtp.test"
OTHERCA_CERT_NAMES="tlsrpt.httpsbad.test mx.otherca.smtp.test"
WRONGNAME_CERT_NAMES="not-this-host.test"
