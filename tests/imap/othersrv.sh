#!/usr/bin/env bash
# Throwaway non-Dovecot IMAP servers from Debian 12 packages, run without installing them
# (see "Other IMAP servers" in README.md in this directory).
#
#   othersrv.sh start SERVER DIR [--port N]   SERVER: mailutils | courier | cyrus.  First run: fetch the
#                                          .debs (once per cache), set up DIR; then start and wait
#                                          until IMAP (plain, STARTTLS offered) and IMAPS answer
#   othersrv.sh stop DIR                   stop the instance by its recorded PIDs; idempotent
#   othersrv.sh cleanup DIR                stop and remove DIR
#   othersrv.sh load DIR FILE...           deliver mails to INBOX the way a local MDA would
#                                          (mailutils: mbox append or Maildir new/, courier: Maildir
#                                          new/, cyrus: LMTP on its UNIX socket; server must run)
#   othersrv.sh append DIR MAILBOX FILE... IMAP APPEND as the test user
#   othersrv.sh count DIR MAILBOX          print the number of messages (EXAMINE)
#   othersrv.sh env DIR                    print the path of DIR/env.sh
#   othersrv.sh fetch-debs SERVER          only download and extract the packages
#
# Quiet on success, loud on failure (the server logs are printed).  Must run as root.  Processes
# are signalled only by PID: the recorded daemon PID (mailutils) or the members of the instance's
# private mount namespace (courier, cyrus), never by name.
# Environment: MXD_DEB_CACHE (default /var/cache/mxdigest-test-debs), MXD_START_TIMEOUT (seconds,
# default 20), MXD_MU_FORMAT=mbox|maildir (mailutils, fresh DIR only, default mbox),
# MXD_COURIER_ENHANCEDIDLE=1 (courier: FAM-based IDLE), MXD_CYRUS_IDLED=1 (cyrus: run idled), both
# fresh DIR only; PYTHON (python3).

set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
fi
TOOL="$HERE/othersrv.py"
CACHE=${MXD_DEB_CACHE:-/var/cache/mxdigest-test-debs}
ARCH_LIB=/usr/lib/x86_64-linux-gnu

say() { printf 'othersrv.sh: %s\n' "$*" >&2; }

show_log() {
	local f n
	[ -n "${D:-}" ] && [ -d "${D:-}/log" ] || return 0
	for f in "$D"/log/*; do
		[ -s "$f" ] || continue
		n=$(wc -l <"$f")
		printf '%s\n' "----- $f ($n lines) -----" >&2
		if [ "$n" -le 80 ]; then cat "$f" >&2; else head -n 20 "$f" >&2; printf '[...]\n' >&2; tail -n 50 "$f" >&2; fi
	done
	printf '%s\n' "----- end of logs -----" >&2
}

die() {
	say "error: $*"
	show_log
	exit 1
}

usage() {
	sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

canon() { (cd "$1" && pwd -P); }

# ---------------------------------------------------------------------------------------------------
# Packages: resolved by apt against this machine (what is installed is not fetched), downloaded with
# apt-get download, extracted with dpkg-deb -x into CACHE/SERVER/root.  Nothing is installed.

server_packages() {
	case $1 in
	mailutils) echo "mailutils-imap4d" ;;
	courier) echo "courier-imap" ;;
	cyrus) echo "cyrus-imapd sasl2-bin" ;;
	*) die "unknown server '$1' (mailutils, courier or cyrus)" ;;
	esac
}

# Pulled in by dependencies but never run here: the MTA (default-mta | mail-transport-agent) and the
# Berkeley DB command-line tools.
SKIP_PKGS=" exim4 exim4-base exim4-config exim4-daemon-light exim4-daemon-heavy db-util db5.3-util "

fetch_debs() {
	local srv=$1 dir="$CACHE/$1" pkgs deps p tmp
	[ -f "$dir/ok" ] && [ -d "$dir/root" ] && return 0
	[ "$(id -u)" = 0 ] || die "must run as root (fetches and extracts packages, uses mount namespaces)"
	command -v apt-get >/dev/null || die "apt-get not found (Debian 12 required)"
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	if [ -f "$dir/ok" ] && [ -d "$dir/root" ]; then exec 9>&-; return 0; fi
	pkgs=$(server_packages "$srv")
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp/debs"
	# shellcheck disable=SC2086
	apt-get install -s --no-install-recommends $pkgs >"$dir.tmp/resolve.out" 2>&1 ||
		{ cat "$dir.tmp/resolve.out" >&2; die "apt-get could not resolve $pkgs (run apt-get update?)"; }
	deps=$(sed -n 's/^Inst \([^ ]*\) .*/\1/p' "$dir.tmp/resolve.out")
	tmp=""
	for p in $pkgs $deps; do
		case $SKIP_PKGS in *" $p "*) continue ;; esac
		case " $tmp " in *" $p "*) continue ;; esac
		tmp="$tmp $p"
	done
	printf '%s\n' $tmp >"$dir.tmp/packages"
	# shellcheck disable=SC2086
	(cd "$dir.tmp/debs" && apt-get -q -o APT::Sandbox::User=root download $tmp) >"$dir.tmp/download.out" 2>&1 ||
		{ cat "$dir.tmp/download.out" >&2; die "apt-get download failed"; }
	mkdir -p "$dir.tmp/root"
	for p in "$dir.tmp/debs"/*.deb; do
		dpkg-deb -x "$p" "$dir.tmp/root" || die "dpkg-deb -x $p failed"
	done
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	date -u +%FT%TZ >"$dir/ok"
	exec 9>&-
}

# ---------------------------------------------------------------------------------------------------
# State

load_state() {
	[ -d "$1" ] || die "$1: no such directory (run: othersrv.sh start SERVER $1)"
	D=$(canon "$1")
	[ -f "$D/harness.state" ] || die "$D is not an othersrv directory"
	# shellcheck disable=SC1091
	. "$D/harness.state"
	ROOT="$CACHE/$SERVER/root"
	export MXD_IMAP_PASS
}

write_state() {
	local v
	for v in SERVER IMAP_PORT IMAPS_PORT MXD_IMAP_USER MXD_IMAP_PASS MU_FORMAT MAIL_UID MAIL_GID \
		SVC_UID SVC_GID PREFIX SEP INBOX_PATH; do
		eval "printf '%s=%s\n' $v \"\$(q \"\${$v:-}\")\""
	done >"$D/harness.state.tmp"
	mv "$D/harness.state.tmp" "$D/harness.state"
}

write_env() {
	local pids
	pids=$(cat "$D/pids" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
	{
		printf '# generated by tests/imap/othersrv.sh; source it\n'
		printf 'export MXD_OTHERSRV=%s\n' "$SERVER"
		printf 'export MXD_OTHERSRV_DIR=%s\n' "$(q "$D")"
		printf 'export MXD_IMAP_HOST=127.0.0.1\n'
		printf 'export MXD_IMAP_HOSTNAME=localhost\n'
		printf 'export MXD_IMAP_PORT=%s\n' "$IMAP_PORT"
		printf 'export MXD_IMAPS_PORT=%s\n' "$IMAPS_PORT"
		printf 'export MXD_IMAP_USER=%s\n' "$(q "$MXD_IMAP_USER")"
		printf 'export MXD_IMAP_PASS=%s\n' "$(q "$MXD_IMAP_PASS")"
		printf 'export MXD_IMAP_INBOX=INBOX\n'
		printf 'export MXD_IMAP_PREFIX=%s\n' "$(q "$PREFIX")"
		printf 'export MXD_IMAP_SEPARATOR=%s\n' "$(q "$SEP")"
		printf 'export MXD_IMAP_ARCHIVE=%s\n' "$(q "${PREFIX}Archive")"
		printf 'export MXD_IMAP_QUARANTINE=%s\n' "$(q "${PREFIX}Quarantine")"
		printf 'export MXD_CA=%s\n' "$(q "$D/tls/ca.pem")"
		printf 'export MXD_SERVER_CERT=%s\n' "$(q "$D/tls/server.pem")"
		printf 'export MXD_OTHERSRV_PIDS=%s\n' "$(q "$pids")"
		printf 'export MXD_OTHERSRV_NS=%s\n' "$(q "$(cat "$D/ns" 2>/dev/null || true)")"
		printf 'export MXD_OTHERSRV_LOGDIR=%s\n' "$(q "$D/log")"
		printf 'export MXD_OTHERSRV_INBOX_PATH=%s\n' "$(q "$INBOX_PATH")"
	} >"$D/env.sh.tmp"
	mv "$D/env.sh.tmp" "$D/env.sh"
}

make_certs() {
	local t="$D/tls"
	mkdir -p "$t"
	cat >"$t/openssl.cnf" <<-'EOF'
		[req]
		distinguished_name = dn
		prompt = no
		[dn]
		CN = unused
		[v3_ca]
		basicConstraints = critical,CA:TRUE
		keyUsage = critical,keyCertSign,cRLSign
		subjectKeyIdentifier = hash
		[v3_srv]
		basicConstraints = critical,CA:FALSE
		keyUsage = critical,digitalSignature,keyEncipherment
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost,IP:127.0.0.1
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EOF
	(
		cd "$t"
		umask 077
		k="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
		# shellcheck disable=SC2086
		openssl req -x509 -new $k -nodes -config openssl.cnf -extensions v3_ca \
			-subj "/O=mxdigest tests/CN=mxdigest test CA" -days 3650 -keyout ca.key -out ca.pem
		# shellcheck disable=SC2086
		openssl req -new $k -nodes -config openssl.cnf -subj "/O=mxdigest tests/CN=localhost" \
			-keyout server.key -out server.csr
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
			-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 825 \
			-extfile openssl.cnf -extensions v3_srv -out server.pem
		rm -f server.csr
		chmod 644 ca.pem server.pem
	) >"$D/log/openssl.out" 2>&1 || die "certificate generation failed"
	rm -f "$D/log/openssl.out"
}

free_uid() {
	# A UID (and GID) with no passwd/group entry, for the service users the packages would create.
	local u
	for u in $(seq 65533 -1 60000); do
		getent passwd "$u" >/dev/null || getent group "$u" >/dev/null || { echo "$u"; return 0; }
	done
	die "no free uid"
}

etc_layer() {
	# /etc/passwd and /etc/group as seen inside the namespace: the system's plus one service user.
	mkdir -p "$D/etc.layer"
	cp /etc/passwd "$D/etc.layer/passwd"
	cp /etc/group "$D/etc.layer/group"
	printf '%s\n' "$1" >>"$D/etc.layer/passwd"
	[ -z "${2:-}" ] || printf '%s\n' "$2" >>"$D/etc.layer/group"
}

# ---------------------------------------------------------------------------------------------------
# GNU Mailutils imap4d: one daemon, no namespace.  Users come from a "virtdomain" passwd file (login
# "tester@localhost"); imap4d serves such users as root (virtdomain asks for no uid change).

setup_mailutils() {
	MU_FORMAT=${MXD_MU_FORMAT:-mbox}
	case $MU_FORMAT in mbox | maildir) ;; *) die "MXD_MU_FORMAT must be mbox or maildir" ;; esac
	MXD_IMAP_USER="tester@localhost" PREFIX="" SEP="/"
	MAIL_UID=$(id -u nobody) MAIL_GID=$(id -g nobody)
	local home="$D/home/tester" hash
	mkdir -p "$home" "$D/passwd"
	if [ "$MU_FORMAT" = maildir ]; then
		INBOX_PATH="$home/INBOX"
		mkdir -p "$INBOX_PATH/cur" "$INBOX_PATH/new" "$INBOX_PATH/tmp"
	else
		INBOX_PATH="$home/INBOX"
		: >"$INBOX_PATH"
		chmod 600 "$INBOX_PATH"
	fi
	chown -R "$MAIL_UID:$MAIL_GID" "$D/home"
	chmod 700 "$home"
	hash=$(printf '%s' "$MXD_IMAP_PASS" | openssl passwd -6 -stdin)
	(umask 077 && printf 'tester:%s:%s:%s:test user:%s:/usr/sbin/nologin\n' "$hash" "$MAIL_UID" "$MAIL_GID" \
		"$home" >"$D/passwd/localhost")
	write_conf_mailutils
}

write_conf_mailutils() {
	cat >"$D/imap4d.conf" <<-EOF
		# Generated by tests/imap/othersrv.sh -- a throwaway test instance.
		logging { syslog no; print-severity yes; session-id yes; };
		auth { authorization virtdomain; authentication generic; };
		virtdomain { passwd-dir "$D/passwd"; };
		mode daemon;
		foreground yes;
		pidfile "$D/run/imap4d.pid";
		max-children 50;
		tcp-wrappers { enable no; };
		mailbox { mailbox-type $MU_FORMAT; };
		tls { ssl-certificate-file "$D/tls/server.pem"; ssl-key-file "$D/tls/server.key"; };
		server 127.0.0.1:$IMAP_PORT { tls-mode stls; backlog 64; transcript ${MXD_MU_TRANSCRIPT:-no}; };
		server 127.0.0.1:$IMAPS_PORT { tls-mode connection; backlog 64; transcript ${MXD_MU_TRANSCRIPT:-no}; };
	EOF
}

start_mailutils() {
	local pid
	mkdir -p "$D/run"
	rm -f "$D/run/imap4d.pid"
	LD_LIBRARY_PATH="$ROOT$ARCH_LIB" setsid "$ROOT/usr/sbin/imap4d" --config-file="$D/imap4d.conf" \
		</dev/null >>"$D/log/imap4d.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$D/pids"
	: >"$D/ns"
}

# ---------------------------------------------------------------------------------------------------
# Courier and Cyrus: their paths (/etc/courier, /run/courier/authdaemon/socket, /usr/lib/courier-authlib,
# /etc/imapd.conf, the SASL plugin directory, the "courier"/"cyrus" users) are compiled in.  So each
# instance runs in a private mount namespace (unshare -m) where read-only overlays put the extracted
# packages over /usr and DIR/etc.layer over /etc, and DIR/run is bind-mounted on /run.  Nothing is
# mounted outside that namespace; it disappears with its last process.

write_launcher() {
	# write_launcher BODY: DIR/launch.sh mounts, then runs BODY (which starts the daemons in the
	# background and appends their PIDs to DIR/pids), then waits.
	cat >"$D/launch.sh" <<-EOF
		#!/bin/bash
		# Generated by tests/imap/othersrv.sh; runs inside its own mount namespace.
		set -eu
		mount --make-rprivate / 2>/dev/null || true
		mount --bind $(q "$D/run") /run
		mount -t overlay overlay -o lowerdir=$(q "$ROOT/usr"):/usr /usr
		mount -t overlay overlay -o lowerdir=$(q "$D/etc.layer"):$(q "$ROOT/etc"):/etc /etc
		cd /
		trap 'kill -TERM \$(cat $(q "$D/pids") 2>/dev/null) 2>/dev/null; wait; exit 0' TERM INT
		$1
		wait
	EOF
	chmod 755 "$D/launch.sh"
}

start_ns() {
	local pid
	case $D in *:* | *,*) die "DIR must not contain ':' or ',' (overlayfs lowerdir syntax): $D" ;; esac
	command -v unshare >/dev/null || die "unshare not found (util-linux)"
	: >"$D/pids"
	setsid unshare -m --propagation private "$D/launch.sh" </dev/null >>"$D/log/launch.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$D/launcher.pid"
	# The namespace identity is what stop uses to find every process of the instance.
	local ns=""
	for _ in $(seq 1 100); do
		ns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) || break
		[ "$ns" != "$(readlink /proc/self/ns/mnt)" ] && break
		sleep 0.01
	done
	[ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ] || die "the launcher did not enter a new mount namespace (unshare -m needs CAP_SYS_ADMIN)"
	printf '%s\n' "$ns" >"$D/ns"
}

setup_courier() {
	MXD_IMAP_USER=tester PREFIX="INBOX." SEP="."
	MAIL_UID=$(id -u nobody) MAIL_GID=$(id -g nobody)
	SVC_UID=$MAIL_UID SVC_GID=$MAIL_GID
	local c="$D/etc.layer/courier" mk="$ROOT/usr/lib/courier/courier-authlib/makedatprog" hash
	etc_layer "courier:x:$SVC_UID:$SVC_GID:Courier (test instance):/nonexistent:/usr/sbin/nologin"
	mkdir -p "$c" "$D/run/courier/authdaemon" "$D/run/tls" "$D/run/home/tester"
	# Inside the namespace the home is /run/home/tester, reachable by nobody whatever DIR's parents are.
	INBOX_PATH="$D/run/home/tester/Maildir"
	mkdir -p "$INBOX_PATH/cur" "$INBOX_PATH/new" "$INBOX_PATH/tmp"
	chown -R "$MAIL_UID:$MAIL_GID" "$D/run/home"
	chmod 700 "$D/run/home/tester"
	cat >"$c/authdaemonrc" <<-'EOF'
		authmodulelist="authuserdb"
		authmodulelistorig="authuserdb"
		daemons=3
		authdaemonvar=/run/courier/authdaemon
		DEBUG_LOGIN=0
		DEFAULTOPTIONS=""
		LOGGEROPTS=""
	EOF
	hash=$(printf '%s' "$MXD_IMAP_PASS" | openssl passwd -6 -stdin)
	printf 'tester\tuid=%s|gid=%s|home=/run/home/tester|mail=/run/home/tester/Maildir|_=\n.\n' \
		"$MAIL_UID" "$MAIL_GID" | LD_LIBRARY_PATH="$ROOT$ARCH_LIB" "$mk" - "$c/userdb.tmp" "$c/userdb.dat" ||
		die "makedatprog userdb.dat failed"
	printf 'tester\tsystempw=%s\n.\n' "$hash" |
		LD_LIBRARY_PATH="$ROOT$ARCH_LIB" "$mk" - "$c/userdbshadow.tmp" "$c/userdbshadow.dat" ||
		die "makedatprog userdbshadow.dat failed"
	chmod 600 "$c/userdbshadow.dat"
	# couriertls runs as "courier": key+certificate in one file, and a session cache it may write.
	cat "$D/tls/server.key" "$D/tls/server.pem" >"$D/run/tls/imapd.pem"
	: >"$D/run/tls/sslcache"
	chown "$SVC_UID:$SVC_GID" "$D/run/tls/imapd.pem" "$D/run/tls/sslcache"
	chmod 600 "$D/run/tls/imapd.pem" "$D/run/tls/sslcache"
	# Debian's /etc/courier/imapd and imapd-ssl are sourced first; these override them.
	cat >"$D/etc.layer/courier/imapd.local" <<-EOF
		TLS_CERTFILE=/run/tls/imapd.pem
		TLS_DHPARAMS=
		TLS_CACHEFILE=/run/tls/sslcache
		IMAP_SHAREDINDEXFILE=/run/courier/shared-index
		IMAP_ENHANCEDIDLE=${MXD_COURIER_ENHANCEDIDLE:-0}
		GAM_CLIENT_ID=mxd-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	EOF
	local env='set -a; prefix=/usr; exec_prefix=/usr; sbindir=/usr/sbin; bindir=/usr/bin; . /etc/courier/imapd; . /etc/courier/imapd-ssl; . /etc/courier/imapd.local'
	local tcpd="/usr/sbin/couriertcpd -address=127.0.0.1 -maxprocs=40 -maxperip=40 -nodnslookup -noidentlookup"
	write_launcher "/usr/lib/courier/courier-authlib/authdaemond >>$(q "$D/log/authdaemond.log") 2>&1 &
echo \$! >>$(q "$D/pids")
for i in \$(seq 1 200); do [ -S /run/courier/authdaemon/socket ] && break; sleep 0.02; done
env -i /bin/sh -c '$env; IMAP_STARTTLS=YES; exec $tcpd $IMAP_PORT /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir' >>$(q "$D/log/imapd.log") 2>&1 &
echo \$! >>$(q "$D/pids")
env -i /bin/sh -c '$env; IMAP_STARTTLS=NO; IMAP_TLS=1; exec $tcpd $IMAPS_PORT /usr/bin/couriertls -server -tcpd -user=courier /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir' >>$(q "$D/log/imapd-ssl.log") 2>&1 &
echo \$! >>$(q "$D/pids")"
}

setup_cyrus() {
	MXD_IMAP_USER=tester PREFIX="INBOX." SEP="."
	SVC_UID=$(free_uid) SVC_GID=$(getent group mail | cut -d: -f3)
	[ -n "$SVC_GID" ] || SVC_GID=8
	MAIL_UID=$SVC_UID MAIL_GID=$SVC_GID
	INBOX_PATH=""
	etc_layer "cyrus:x:$SVC_UID:$SVC_GID:Cyrus IMAP (test instance):/run/cyrus/lib:/usr/sbin/nologin"
	# What Debian's cyrus-makedirs creates: without configdirectory/socket every imapd and lmtpd logs
	# "bind: No such file or directory" (its IDLE notification socket) and idled cannot reach them.
	local sub
	for sub in db proc socket log msg user quota lock; do mkdir -p "$D/run/cyrus/lib/$sub"; done
	mkdir -p "$D/run/cyrus/spool/stage." "$D/run/cyrus/proc" "$D/run/cyrus/lock" \
		"$D/run/cyrus/socket" "$D/run/cyrus/sieve" "$D/run/cyrus/tls"
	cp "$D/tls/server.pem" "$D/tls/server.key" "$D/run/cyrus/tls/"
	chown -R "$SVC_UID:$SVC_GID" "$D/run/cyrus"
	chmod 600 "$D/run/cyrus/tls/server.key"
	# Debian's /etc/imapd.conf settings, with the paths moved under /run/cyrus (= DIR/run/cyrus).
	cat >"$D/etc.layer/imapd.conf" <<-'EOF'
		# Generated by tests/imap/othersrv.sh -- Debian 12 defaults, test paths.
		configdirectory: /run/cyrus/lib
		proc_path: /run/cyrus/proc
		mboxname_lockpath: /run/cyrus/lock
		defaultpartition: default
		partition-default: /run/cyrus/spool
		altnamespace: no
		unixhierarchysep: no
		lmtp_downcase_rcpt: yes
		allowanonymouslogin: no
		popminpoll: 1
		autocreate_quota: 0
		umask: 077
		sieveusehomedir: false
		sievedir: /run/cyrus/sieve
		hashimapspool: true
		allowplaintext: yes
		sasl_pwcheck_method: auxprop
		sasl_auxprop_plugin: sasldb
		sasl_sasldb_path: /run/cyrus/sasldb2
		sasl_auto_transition: no
		servername: localhost
		tls_server_cert: /run/cyrus/tls/server.pem
		tls_server_key: /run/cyrus/tls/server.key
		tls_session_timeout: 0
		lmtpsocket: /run/cyrus/socket/lmtp
		idlesocket: /run/cyrus/socket/idle
		notifysocket: /run/cyrus/socket/notify
		syslog_prefix: cyrus-mxd
		# Debian: 3 s before each "Login failed" (like the Dovecot harness, tests do not wait).
		failedloginpause: 0
	EOF
	cat >"$D/etc.layer/cyrus.conf" <<-EOF
		# Generated by tests/imap/othersrv.sh
		START {
		  recover cmd="ctl_cyrusdb -r"
		}
		SERVICES {
		  imap     cmd="imapd -U 30" listen="127.0.0.1:$IMAP_PORT" prefork=0 maxchild=100
		  imaps    cmd="imapd -s -U 30" listen="127.0.0.1:$IMAPS_PORT" prefork=0 maxchild=100
		  lmtpunix cmd="lmtpd" listen="/run/cyrus/socket/lmtp" prefork=0 maxchild=20
		}
		EVENTS {
		  checkpoint cmd="ctl_cyrusdb -c" period=30
		}
	EOF
	if [ "${MXD_CYRUS_IDLED:-0}" = 1 ]; then
		printf 'DAEMON {\n  idled cmd="idled"\n}\n' >>"$D/etc.layer/cyrus.conf"
	fi
	# The SASL realm is the servername ("localhost"); saslpasswd2 runs inside the namespace.
	printf '%s' "$MXD_IMAP_PASS" >"$D/etc.layer/tester.pw"
	chmod 600 "$D/etc.layer/tester.pw"
	write_launcher "if [ ! -s /run/cyrus/sasldb2 ]; then
  /usr/sbin/saslpasswd2 -p -c -f /run/cyrus/sasldb2 -u localhost tester </etc/tester.pw
  chown cyrus /run/cyrus/sasldb2
fi
/usr/lib/cyrus/bin/master -D -l 64 -p /run/cyrus/master.pid >>$(q "$D/log/master.log") 2>&1 &
echo \$! >>$(q "$D/pids")"
}

# ---------------------------------------------------------------------------------------------------
# Processes

alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $st in Z* | X*) return 1 ;; esac
	return 0
}

instance_pids() {
	# Mailutils: the recorded master and its children.  Courier/Cyrus: every process in the
	# instance's mount namespace (that includes helpers such as gam_server that reparent to init).
	local ns p want
	ns=$(cat "$D/ns" 2>/dev/null || true)
	if [ -n "$ns" ]; then
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && printf '%s\n' "${p#/proc/}"
		done
		return 0
	fi
	for want in $(cat "$D/pids" 2>/dev/null); do
		local cmd
		cmd=$(tr '\0' ' ' <"/proc/$want/cmdline" 2>/dev/null) || continue
		case $cmd in *"$D/imap4d.conf"*) ;; *) continue ;; esac
		printf '%s\n' "$want"
		for p in /proc/[0-9]*; do
			local stat rest
			stat=$(cat "$p/stat" 2>/dev/null) || continue
			rest=${stat##*) }
			# shellcheck disable=SC2086
			set -- $rest
			[ "${2:-}" = "$want" ] && printf '%s\n' "${p#/proc/}"
		done
	done
	return 0
}

do_stop() {
	local pids p any
	pids=$(instance_pids | sort -u)
	[ -n "$pids" ] || { rm -f "$D/ns.active"; return 0; }
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for _ in $(seq 1 100); do
		any=0
		for p in $pids; do alive "$p" && any=1 && break; done
		[ $any = 1 ] || break
		sleep 0.05
	done
	if [ $any = 1 ]; then
		say "warning: $SERVER (pids $(echo $pids)) did not stop after SIGTERM, sending SIGKILL"
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.2
	fi
	for p in $pids; do ! alive "$p" || die "$SERVER process $p still alive"; done
}

do_start() {
	local timeout=${MXD_START_TIMEOUT:-20} pids
	if [ -n "$(instance_pids)" ]; then die "$SERVER of $D is already running"; fi
	mkdir -p "$D/log" "$D/run"
	case $SERVER in
	mailutils) start_mailutils ;;
	*) start_ns ;;
	esac
	trap 'do_stop >/dev/null 2>&1 || true; exit 1' INT TERM
	pids=$( (cat "$D/launcher.pid" 2>/dev/null || true; cat "$D/pids") | tr '\n' ',' )
	if ! "$PYTHON" "$TOOL" wait-ready --port "$IMAP_PORT" --tls-port "$IMAPS_PORT" --ca "$D/tls/ca.pem" \
		--timeout "$timeout" --pids "${pids%,}" 2>"$D/log/wait-ready.err"; then
		do_stop || true
		die "$SERVER did not become ready: $(cat "$D/log/wait-ready.err")"
	fi
	rm -f "$D/log/wait-ready.err"
	if [ "$SERVER" = cyrus ]; then
		# Cyrus creates user.tester (INBOX) at the first login (autocreate_quota: 0, as on Debian);
		# LMTP delivery before that answers 550 "Mailbox unknown".
		"$PYTHON" "$TOOL" count --port "$IMAP_PORT" --user "$MXD_IMAP_USER" INBOX >/dev/null ||
			{ do_stop || true; die "first login to cyrus failed"; }
	fi
	trap - INT TERM
	write_env
}

# ---------------------------------------------------------------------------------------------------
# Subcommands

cmd_start() {
	local srv=${1:-} dir=${2:-} port=""
	[ -n "$srv" ] && [ -n "$dir" ] || usage
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--port) port=${2:?--port needs a number}; shift 2 ;;
		--port=*) port=${1#--port=}; shift ;;
		*) usage ;;
		esac
	done
	server_packages "$srv" >/dev/null
	[ "$(id -u)" = 0 ] || die "must run as root"
	mkdir -p "$dir"
	D=$(canon "$dir")
	mkdir -p "$D/log"
	if [ -f "$D/harness.state" ]; then
		load_state "$D"
		[ "$SERVER" = "$srv" ] || die "$D holds a $SERVER instance, not $srv"
		[ -z "$port" ] || [ "$port" = "$IMAP_PORT" ] || die "$D already uses port $IMAP_PORT"
		do_start
		return
	fi
	fetch_debs "$srv"
	SERVER=$srv ROOT="$CACHE/$srv/root"
	chmod 755 "$D"
	MXD_IMAP_PASS="pw-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
	export MXD_IMAP_PASS
	MU_FORMAT="" MAIL_UID="" MAIL_GID="" SVC_UID="" SVC_GID="" INBOX_PATH=""
	local ports
	ports=$("$PYTHON" "$TOOL" freeports 2) || die "cannot find free ports"
	# shellcheck disable=SC2086
	set -- $ports
	IMAP_PORT=${port:-$1} IMAPS_PORT=$2
	[ "$IMAPS_PORT" != "$IMAP_PORT" ] || IMAPS_PORT=$1
	make_certs
	"setup_$srv"
	write_state
	do_start
}

cmd_stop() {
	[ $# = 1 ] || usage
	[ -f "$1/harness.state" ] || return 0
	load_state "$1"
	do_stop
}

cmd_cleanup() {
	[ $# = 1 ] || usage
	[ -d "$1" ] || return 0
	D=$(canon "$1")
	if [ -f "$D/harness.state" ]; then
		load_state "$D"
		do_stop
	fi
	rm -rf "$D"
}

cmd_load() {
	[ $# -ge 2 ] || usage
	load_state "$1"
	shift
	case $SERVER in
	mailutils)
		if [ "$MU_FORMAT" = maildir ]; then
			"$PYTHON" "$TOOL" maildir --maildir "$INBOX_PATH" --uid "$MAIL_UID" --gid "$MAIL_GID" "$@"
		else
			"$PYTHON" "$TOOL" mbox --mbox "$INBOX_PATH" --uid "$MAIL_UID" --gid "$MAIL_GID" "$@"
		fi || die "load failed"
		;;
	courier)
		"$PYTHON" "$TOOL" maildir --maildir "$INBOX_PATH" --uid "$MAIL_UID" --gid "$MAIL_GID" "$@" ||
			die "load failed"
		;;
	cyrus)
		[ -n "$(instance_pids)" ] || die "cyrus of $D is not running (load delivers over LMTP)"
		"$PYTHON" "$TOOL" lmtp --socket "$D/run/cyrus/socket/lmtp" --rcpt tester "$@" || die "load failed"
		;;
	esac
}

cmd_append() {
	[ $# -ge 3 ] || usage
	load_state "$1"
	local box=$2
	shift 2
	"$PYTHON" "$TOOL" append --port "$IMAP_PORT" --user "$MXD_IMAP_USER" "$box" "$@" || die "APPEND failed"
}

cmd_count() {
	[ $# = 2 ] || usage
	load_state "$1"
	"$PYTHON" "$TOOL" count --port "$IMAP_PORT" --user "$MXD_IMAP_USER" "$2" || die "count $2 failed"
}

[ $# -ge 1 ] || usage
sub=$1
shift
case $sub in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
cleanup) cmd_cleanup "$@" ;;
load) cmd_load "$@" ;;
append) cmd_append "$@" ;;
count) cmd_count "$@" ;;
env) [ $# = 1 ] || usage; load_state "$1"; printf '%s\n' "$D/env.sh" ;;
fetch-debs) [ $# = 1 ] || usage; server_packages "$1" >/dev/null; fetch_debs "$1" ;;
-h | --help | help) usage ;;
*) usage ;;
esac
