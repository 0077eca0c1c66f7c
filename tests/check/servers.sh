#!/usr/bin/env bash
# Servers for the `mxdigest check` tests: DNS (NSD), HTTPS and SMTP on loopback (see README.md).
#
#   servers.sh start DIR     certificates, zones, DNSSEC signing, then NSD (tests/dns/nsd.sh),
#                            httpsd.py and smtpd.py on free high ports; returns once every server
#                            answers; writes DIR/env.sh and DIR/mxdigest.conf (mode 0600)
#   servers.sh stop DIR      stop them (SIGTERM by recorded PID, SIGKILL after 5 s); idempotent
#   servers.sh cleanup DIR   stop and remove DIR
#   servers.sh status DIR    exit 0 if all three run, 3 if not
#
# A restarted DIR keeps its keys, CAs and trust anchors, and the same ports when they are free.
# DNS timeouts: tests/dns/nsd.sh pause "$MXD_DNS_DIR" / resume "$MXD_DNS_DIR".  Quiet on
# success; on failure prints the reason and the servers' logs and exits 1.  Processes are only
# signalled by the PIDs recorded in DIR (checked against their command line), never by name.
# Environment: MXD_START_TIMEOUT (10 s), MXD_CHECK_LIFETIME (seconds a server lives at most,
# 21600; 0 = no limit), MXD_CHECK_STALL (longest stall of the stalling behaviours, 600 s),
# PYTHON (default /usr/bin/python3).

set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NSDSH="$HERE/../dns/nsd.sh"
SIGN="$HERE/../dns/sign-zone.sh"
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
fi
export PYTHON
TIMEOUT=${MXD_START_TIMEOUT:-10}
LIFETIME=${MXD_CHECK_LIFETIME:-21600}
STALL=${MXD_CHECK_STALL:-600}

say() { printf 'servers.sh: %s\n' "$*" >&2; }
show() {
	local f n
	for f in "$@"; do
		[ -s "$f" ] || continue
		n=$(wc -l <"$f")
		printf '%s\n' "----- $f ($n lines) -----" >&2
		if [ "$n" -le 60 ]; then cat "$f" >&2; else head -n 20 "$f" >&2; echo "[...]" >&2; tail -n 30 "$f" >&2; fi
	done
}
STARTING=0
die() {
	say "error: $*"
	[ -z "${D:-}" ] || show "$D/run/httpsd.out" "$D/run/smtpd.out" "$D/https.log" "$D/smtp.log"
	if [ "$STARTING" = 1 ]; then
		# A failed start leaves nothing running.
		STARTING=0
		stop_server httpsd || true
		stop_server smtpd || true
		"$NSDSH" stop "$D/dns" >/dev/null 2>&1 || true
	fi
	exit 1
}
usage() {
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
T0=$(date +%s%N)
step() {
	# MXD_CHECK_TRACE=1: how long start's steps take (on stderr)
	[ "${MXD_CHECK_TRACE:-0}" != 1 ] || printf 'servers.sh: %6d ms  %s\n' $((($(date +%s%N) - T0) / 1000000)) "$*" >&2
}
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
canon() { (cd "$1" && pwd -P); }

# ---- processes --------------------------------------------------------------------------------

server_pid() {
	# server_pid NAME: the PID recorded for httpsd/smtpd if it is alive and really ours (its
	# command line names this DIR's NAME.py log).
	local pf="$D/run/$1.pid" pid cmd
	[ -f "$pf" ] || return 1
	pid=$(tr -cd '0-9' <"$pf")
	[ -n "$pid" ] || return 1
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	case "$cmd" in
	*"/$1.py "*"--watch $D "*) printf '%s\n' "$pid" ;;
	*) return 1 ;;
	esac
}

alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $st in Z* | X*) return 1 ;; esac
}

stop_server() {
	local pid
	pid=$(server_pid "$1") || { rm -f "$D/run/$1.pid"; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid"; then
		say "warning: $1 (pid $pid) did not stop after SIGTERM, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for _ in $(seq 1 40); do
			alive "$pid" || break
			sleep 0.05
		done
	fi
	! alive "$pid" || die "$1 (pid $pid) is still alive"
	rm -f "$D/run/$1.pid"
}

start_server() {
	# start_server NAME ARGS...: NAME.py in the background, detached from our stdin/stdout/stderr
	# (a caller reading our output must not wait for the server to exit).
	local name=$1
	shift
	rm -f "$D/run/$name.ready"
	"$PYTHON" "$HERE/$name.py" "$@" --watch "$D" --lifetime "$LIFETIME" --stall "$STALL" \
		--ready "$D/run/$name.ready" </dev/null >"$D/run/$name.out" 2>&1 &
	printf '%s\n' $! >"$D/run/$name.pid"
}

wait_ready() {
	# wait_ready NAME: until NAME.py wrote its port (it has bound), or it died, or time is up.
	local end=$(($(date +%s) + TIMEOUT)) pid
	pid=$(cat "$D/run/$1.pid")
	while [ ! -s "$D/run/$1.ready" ]; do
		alive "$pid" || die "$1.py exited at start"
		[ "$(date +%s)" -le "$end" ] || die "$1.py did not start within ${TIMEOUT}s"
		sleep 0.02
	done
	cat "$D/run/$1.ready"
}

# ---- start --------------------------------------------------------------------------------------

sign_zone() {
	# sign_zone ZONE OUTDIR: sign again only if the unsigned zone changed or the signatures are
	# older than a day (sign-zone.sh makes them valid for 30 days); keys are kept in OUTDIR.
	local z=$1 out=$2 src="$D/gen/zones/$1.zone"
	if [ -s "$out/$z.zone.signed" ] && [ -s "$out/$z.src" ] && cmp -s "$src" "$out/$z.src" &&
		[ -n "$(find "$out/$z.zone.signed" -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	# (runs in a background subshell: report and fail, the caller cleans up)
	"$SIGN" "$src" "$out" || return 1
	cp "$src" "$out/$z.src"
}

write_env() {
	{
		printf '# generated by tests/check/servers.sh; source it\n'
		printf 'export MXD_CHECK_DIR=%s\n' "$(q "$D")"
		printf 'export MXD_DNS_PORT=%s\n' "$DNS_PORT"
		printf 'export MXD_DNS_ADDR=%s\n' "$(q "127.0.0.1@$DNS_PORT")"
		printf 'export MXD_DNS_DIR=%s\n' "$(q "$D/dns")"
		printf 'export MXD_HTTPS_ADDR=%s\n' "$HTTPS_ADDR"
		printf 'export MXD_HTTPS_PORT=%s\n' "$HTTPS_PORT"
		printf 'export MXD_SMTP_PORT=%s\n' "$SMTP_PORT"
		printf 'export MXD_CHECK_CA=%s\n' "$(q "$D/certs/ca.crt")"
		printf 'export MXD_CHECK_OTHER_CA=%s\n' "$(q "$D/certs/ca-other.crt")"
		printf 'export MXD_CHECK_CERTS=%s\n' "$(q "$D/certs")"
		printf 'export MXD_CHECK_ANCHOR=%s\n' "$(q "$D/anchor.ds")"
		printf 'export MXD_CHECK_SEC_DS=%s\n' "$(q "$D/dnssec/sec/sec.test.ds")"
		printf 'export MXD_CHECK_CONF=%s\n' "$(q "$D/mxdigest.conf")"
		printf 'export MXD_CHECK_HTTPS_LOG=%s\n' "$(q "$D/https.log")"
		printf 'export MXD_CHECK_SMTP_LOG=%s\n' "$(q "$D/smtp.log")"
		printf 'export MXD_CHECK_POSTS=%s\n' "$(q "$D/posts")"
		printf 'export MXD_CHECK_HTTPS_PID=%s\n' "$(server_pid httpsd)"
		printf 'export MXD_CHECK_SMTP_PID=%s\n' "$(server_pid smtpd)"
	} >"$D/env.sh.tmp"
	mv "$D/env.sh.tmp" "$D/env.sh"
	(
		umask 077
		{
			printf 'resolver = 127.0.0.1:%s\n' "$DNS_PORT"
			printf 'trust_anchor = %s\n' "$D/anchor.ds"
			printf 'ca_file = %s\n' "$D/certs/ca.crt"
			printf 'check_https_port = %s\n' "$HTTPS_PORT"
			printf 'check_smtp_port = %s\n' "$SMTP_PORT"
			printf 'dns_timeout = 3\n'
		} >"$D/mxdigest.conf.tmp"
	)
	chmod 600 "$D/mxdigest.conf.tmp"
	mv "$D/mxdigest.conf.tmp" "$D/mxdigest.conf"
}

cmd_start() {
	[ $# = 1 ] || usage
	local t missing="" p p1 p2 p3 zones z old_https=0 old_smtp=0
	command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || missing="$missing nsd"
	for t in drill ldns-keygen ldns-signzone ldns-key2ds; do
		command -v $t >/dev/null 2>&1 || { missing="$missing ldnsutils"; break; }
	done
	command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
	[ -z "$missing" ] || die "missing Debian packages:$missing"
	mkdir -p "$1"
	D=$(canon "$1")
	case $D in *[[:space:]]*) die "$D: the directory must not contain white space" ;; esac
	# NSD drops to an unprivileged user if it can enter DIR (tests/dns/README.md).
	chmod 755 "$D"
	mkdir -p "$D/run" "$D/posts"
	for p in httpsd smtpd; do
		! server_pid $p >/dev/null || die "$p of $D is already running (run: servers.sh stop $D)"
	done
	! "$NSDSH" status "$D/dns" >/dev/null 2>&1 || die "nsd of $D is already running (run: servers.sh stop $D)"
	# shellcheck disable=SC1091
	[ ! -s "$D/run/ports" ] || . "$D/run/ports"
	rm -f "$D/env.sh" "$D/mxdigest.conf"
	# shellcheck source=hosts.sh
	. "$HERE/hosts.sh"

	"$HERE/certs.sh" "$D/certs" || die "certs.sh failed"
	step "certs.sh done"
	"$HERE/zones.sh" "$D/gen" "$D/certs" || die "zones.sh failed"
	step "zones.sh done"

	# The web and mail servers start while the zones are signed and NSD starts.
	: >"$D/https.log"
	: >"$D/smtp.log"
	STARTING=1
	start_server httpsd --table "$D/gen/https.tab" --www "$D/gen/www" --certs "$D/certs" \
		--addr "$HTTPS_ADDR" --port "$old_https" --log "$D/https.log" --posts "$D/posts"
	start_server smtpd --table "$D/gen/smtp.tab" --certs "$D/certs" --port "$old_smtp" --log "$D/smtp.log"

	step "httpsd.py, smtpd.py launched"
	# sec.test: a chain from the anchor.  bogus.test: signed with its keys, but the anchor holds
	# the DS of another key pair (dnssec/decoy), so every answer fails validation.  One output
	# directory each (sign-zone.sh keeps its log there): the three run in parallel.
	sign_zone sec.test "$D/dnssec/sec" &
	p1=$!
	sign_zone bogus.test "$D/dnssec/bogus" &
	p2=$!
	sign_zone bogus.test "$D/dnssec/decoy" &
	p3=$!
	wait $p1 || die "signing sec.test failed"
	wait $p2 || die "signing bogus.test failed"
	wait $p3 || die "signing bogus.test (decoy keys) failed"
	cat "$D/dnssec/sec/sec.test.ds" "$D/dnssec/decoy/bogus.test.ds" >"$D/anchor.ds.tmp"
	mv "$D/anchor.ds.tmp" "$D/anchor.ds"
	step "zones signed"
	zones=""
	while read -r z; do
		case $z in
		sec.test) zones="$zones $D/dnssec/sec/$z.zone.signed" ;;
		bogus.test) zones="$zones $D/dnssec/bogus/$z.zone.signed" ;;
		*) zones="$zones $D/gen/zones/$z.zone" ;;
		esac
	done <"$D/gen/zones.list"
	# shellcheck disable=SC2086
	MXD_START_TIMEOUT=$TIMEOUT "$NSDSH" start "$D/dns" $zones || die "nsd.sh start failed"
	step "nsd.sh start done"
	# shellcheck disable=SC1091
	DNS_PORT=$(. "$D/dns/env.sh" && echo "$MXD_DNS_PORT")

	HTTPS_PORT=$(wait_ready httpsd)
	SMTP_PORT=$(wait_ready smtpd)
	step "httpsd.py, smtpd.py bound"
	printf 'old_https=%s\nold_smtp=%s\n' "$HTTPS_PORT" "$SMTP_PORT" >"$D/run/ports"
	"$PYTHON" "$HERE/probe.py" wait-https "$HTTPS_ADDR" "$HTTPS_PORT" "$D/certs/ca.crt" mta-sts.good.test "$TIMEOUT" \
		>"$D/run/probe.out" 2>&1 || { show "$D/run/probe.out"; die "httpsd does not answer"; }
	step "httpsd.py answers"
	"$PYTHON" "$HERE/probe.py" wait-smtp "$D/gen/smtp.tab" "$SMTP_PORT" "$TIMEOUT" \
		>"$D/run/probe.out" 2>&1 || { show "$D/run/probe.out"; die "smtpd does not answer"; }
	step "smtpd.py answers"
	rm -f "$D/run/probe.out"
	server_pid httpsd >/dev/null || die "httpsd.py died"
	server_pid smtpd >/dev/null || die "smtpd.py died"
	write_env
	step "done"
	STARTING=0
}

cmd_stop() {
	[ $# = 1 ] || usage
	[ -d "$1" ] || return 0
	D=$(canon "$1")
	rm -f "$D/env.sh"
	local rc=0
	if [ -d "$D/run" ]; then
		stop_server httpsd || rc=1
		stop_server smtpd || rc=1
	fi
	if [ -d "$D/dns" ]; then "$NSDSH" stop "$D/dns" || rc=1; fi
	return $rc
}

cmd_cleanup() {
	[ $# = 1 ] || usage
	[ -d "$1" ] || return 0
	cmd_stop "$1"
	rm -rf "$D"
}

cmd_status() {
	[ $# = 1 ] || usage
	[ -d "$1/run" ] || exit 3
	D=$(canon "$1")
	server_pid httpsd >/dev/null && server_pid smtpd >/dev/null && "$NSDSH" status "$D/dns" >/dev/null 2>&1 || exit 3
}

[ $# -ge 1 ] || usage
sub=$1
shift
case $sub in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
cleanup) cmd_cleanup "$@" ;;
status) cmd_status "$@" ;;
-h | --help | help) usage ;;
*) usage ;;
esac
