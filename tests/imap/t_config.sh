#!/usr/bin/env bash
# fetch's configuration checks and secrets, without a server: every error
# is one line, exit status 78 (64 for usage), before any connection.
. "$(dirname "$0")/lib.sh"

MXD_IMAPS_PORT=1 MXD_IMAP_USER=tester MXD_CA=/dev/null
printf 'secret\n' >"$PWFILE"
chmod 600 "$PWFILE"

# writes $CONF with the given lines after [account test]
account() {
	{
		printf 'database = %s\n\n[account test]\n' "$DB"
		printf '%s\n' "$@"
	} >"$CONF"
}

printf 'database = %s\n' "$DB" >"$CONF"
mxd fetch --help
expect_rc 0 "fetch --help"
expect_in "$out" "usage: mxdigest fetch [-n] [--watch] [--dkim=MODE] [--insecure] [ACCOUNT]" "help synopsis"
mxd fetch --bogus
expect_rc 64 "unknown option"
expect_in "$err" 'mxdigest fetch: unknown option "--bogus"' "unknown option message"
mxd fetch a b
expect_rc 64 "two accounts"

mxd fetch
expect_rc 78 "no account"
expect_in "$err" "no [account NAME] section: nothing to fetch" "no account message"

account "host = localhost" "user = u" "password_file = $PWFILE"
mxd fetch nosuch
expect_rc 78 "an unknown account"
expect_in "$err" 'mxdigest: "nosuch": no such account in' "unknown account message"

account "user = u" "password_file = $PWFILE"
mxd fetch
expect_rc 78 "no host"
expect_eq "$err" 'mxdigest: "test": no host' "no host message"

account "host = localhost" "password_file = $PWFILE"
mxd fetch
expect_rc 78 "no user"

account "host = localhost" "user = u"
mxd fetch
expect_rc 78 "no password source"
expect_in "$err" "no password source: set password_command, password_file or password_env" "no source message"

account "host = localhost" "user = u" "password_file = $PWFILE" "password_env = X"
mxd fetch
expect_rc 78 "two password sources"

account "host = localhost" "user = u" "password = hunter2"
mxd fetch
expect_rc 78 "a password in the file"
expect_in "$err" '"password" is not accepted in the file' "password key refused"

# an address is refused at once; a name when it resolves (t_hostile.sh)
account "host = 192.0.2.1" "user = u" "password_file = $PWFILE" "security = none"
mxd fetch
expect_rc 78 "security = none off loopback"
expect_in "$err" 'security = none is only allowed for a loopback host, not "192.0.2.1"' "none off loopback message"

account "host = localhost" "user = u" "password_file = $PWFILE" "security = ssl"
mxd fetch
expect_rc 78 "unknown security"

account "host = localhost" "user = u" "password_file = $PWFILE" "auth = cram-md5"
mxd fetch
expect_rc 78 "unknown auth"

account "host = localhost" "user = u" "password_file = $PWFILE" "auth = xoauth2"
mxd fetch
expect_rc 78 "xoauth2 without a token command"

account "host = localhost" "user = u" "password_file = $PWFILE" "oauth2_token_command = echo t"
mxd fetch
expect_rc 78 "a token command without xoauth2"

account "host = localhost" "user = u" "password_file = $PWFILE" "ca_file = $TMP/none.pem"
mxd fetch
expect_rc 78 "a missing ca_file"
expect_in "$err" "ca_file \"$TMP/none.pem\": No such file or directory" "missing ca_file message"

account "host = localhost" "user = u" "password_file = $PWFILE" "archive_mailbox = INBOX"
mxd fetch
expect_rc 78 "archive_mailbox = mailbox"

account "host = localhost" "user = u" "password_file = $PWFILE" "timeout = 0"
mxd fetch
expect_rc 78 "a zero timeout"

# secrets: a file others can read is refused; a failing command; an unset variable
chmod 644 "$PWFILE"
account "host = 127.0.0.1" "port = 1" "user = u" "password_file = $PWFILE"
mxd fetch
expect_rc 78 "a password file readable by others"
expect_in "$err" "readable or writable by group or others (mode 0644): refused; chmod 600 it" "mode message"
chmod 640 "$PWFILE"
mxd fetch
expect_rc 78 "a password file readable by the group"
chmod 600 "$PWFILE"
mxd fetch
expect_rc 69 "a private password file (then nothing listens)"

account "host = 127.0.0.1" "port = 1" "user = u" "password_command = exit 3"
mxd fetch
expect_rc 78 "a failing password_command"
expect_in "$err" "password_command failed (exit status 3)" "failing command message"

account "host = 127.0.0.1" "port = 1" "user = u" "password_command = printf ''"
mxd fetch
expect_rc 78 "an empty password"
expect_in "$err" "the secret is empty" "empty secret message"

account "host = 127.0.0.1" "port = 1" "user = u" "password_env = MXD_NO_SUCH_VAR"
mxd fetch
expect_rc 78 "an unset password_env"
expect_in "$err" 'password_env: $MXD_NO_SUCH_VAR is not set' "unset variable message"

# one bad account stops nothing else from being checked first
{
	printf 'database = %s\n\n' "$DB"
	printf '[account good]\nhost = 127.0.0.1\nport = 1\nuser = u\npassword_file = %s\n\n' "$PWFILE"
	printf '[account bad]\nhost = 127.0.0.1\nuser = u\n'
} >"$CONF"
mxd fetch
expect_rc 78 "a bad account among good ones"
expect_in "$err" 'mxdigest: "bad": no password source' "the bad one is named"
mxd fetch good
expect_rc 69 "the good one alone"

# the installed example configuration is valid: its only account passes every
# check and fails only when its password command (pass) cannot run
CONF="$SRCDIR/contrib/config.example" PATH=/usr/bin:/bin mxd --db "$DB" fetch
expect_rc 78 "contrib/config.example"
expect_in "$err" 'mxdigest: "reports": password_command failed' "the example's account is valid"

finish
