#!/bin/sh
# Policy strings, MX host lists and contact-info are stored once each
# (table texts, store/store.c text_id): every distinct text the reports
# carry is one row, every policy and report names its own, and a reparse
# keeps them whole.  The oracle is the reports' JSON itself, read here
# with Python.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$PY" "$SRCDIR/bench/gen-maildir.py" --count 300 --out "$TMP/md" --gz-dir "$TMP/gz" \
	--seed 5 --quiet

q() { sql "$1"; }

# the texts the reports carry, as the parser normalizes them (policy-string
# lines without trailing blanks, a packed TLSA array one line per record;
# MX names lower case, no trailing dot);
# prints: distinct texts, policies with strings, policies with MX names
"$PY" - "$TMP/gz" "$TMP/expected" "$TMP/contacts" <<'PYEOF' >"$TMP/counts"
import glob, gzip, json, sys
texts, with_strings, with_mx, contacts = set(), 0, 0, set()
for f in sorted(glob.glob(sys.argv[1] + "/*.json.gz")):
    d = json.load(gzip.open(f))
    if isinstance(d.get("contact-info"), str):
        contacts.add(d["contact-info"])
    for p in d.get("policies", []):
        pol = p.get("policy", {})
        s = pol.get("policy-string") or []
        if isinstance(s, str):
            s = [s]
        # a TLSA RRset packed as a JSON array in one string (Microsoft)
        # is read as one line per record
        lines = []
        for x in s:
            try:
                v = json.loads(x) if x.lstrip().startswith("[") else None
            except ValueError:
                v = None
            if isinstance(v, list) and all(isinstance(e, str) for e in v):
                lines.extend(v)
            else:
                lines.append(x)
        s = [x.rstrip("\r \t") for x in lines]
        if s:
            texts.add("\n".join(s))
            with_strings += 1
        m = pol.get("mx-host") or []
        if isinstance(m, str):
            m = [m]
        m = [x.lower().rstrip(".") for x in m]
        if m:
            texts.add("\n".join(m))
            with_mx += 1
with open(sys.argv[2], "w") as out:
    for t in sorted(texts):
        out.write(json.dumps(t) + "\n")
with open(sys.argv[3], "w") as out:
    for t in sorted(contacts):
        out.write(json.dumps(t) + "\n")
print(len(texts), with_strings, with_mx)
PYEOF
read -r n_texts n_strings n_mx <"$TMP/counts"

# one text per row, separated by RS so that their newlines survive: the
# policies' texts, or with an argument the reports' contact-info
texts_now() {
	if [ -n "${1:-}" ]; then
		w="id IN (SELECT contact_id FROM reports)"
	else
		w="id IN (SELECT strings_id FROM policies UNION SELECT mx_id FROM policies)"
	fi
	if [ "$BACKEND" = pg ]; then
		# each text ends with RS; psql adds one newline at the end
		psql -XAtq -R "" -d "$DB" -c "SELECT text || chr(30) FROM texts WHERE $w" |
			head -c -1
	else
		sqlite3 -newline "$(printf '\036')" "$DB" "SELECT text FROM texts WHERE $w"
	fi | "$PY" -c '
import json, sys
print("\n".join(sorted(json.dumps(t) for t in sys.stdin.read().split("\x1e") if t)))'
}

mxd import --dkim=off "$TMP/md"
expect_rc 0 "import of 300 mails"
[ "$n_texts" -gt 0 ] && [ "$n_texts" -lt $((n_strings + n_mx)) ] ||
	fail "the mails share too few policy texts to test ($n_texts texts for $n_strings + $n_mx)"
expect_eq "$(texts_now)" "$(cat "$TMP/expected")" "each distinct text stored once, as the reports say it"
expect_eq "$(texts_now contacts)" "$(cat "$TMP/contacts")" "each contact-info stored once"
expect_eq "$(q 'SELECT count(*) FROM texts')" \
	"$(( $(wc -l <"$TMP/expected") + $(wc -l <"$TMP/contacts") ))" "no other texts"
expect_eq "$(q 'SELECT count(*) FROM reports WHERE contact_id NOT IN (SELECT id FROM texts)')" 0 \
	"no report names a missing text"
expect_eq "$(q 'SELECT count(*) FROM policies WHERE strings_id IS NOT NULL')" "$n_strings" \
	"every policy with strings names its text"
expect_eq "$(q 'SELECT count(*) FROM policies WHERE mx_id IS NOT NULL')" "$n_mx" \
	"every policy with MX names names its list"
expect_eq "$(q 'SELECT count(*) FROM policies WHERE strings_id NOT IN (SELECT id FROM texts)
	OR mx_id NOT IN (SELECT id FROM texts)')" 0 "no policy names a missing text"

# a reparse stores every policy again: the same texts, not a second copy
mxd reparse --dkim=off
expect_rc 0 "reparse"
expect_eq "$(texts_now)" "$(cat "$TMP/expected")" "the texts after a reparse"
expect_eq "$(q 'SELECT count(*) FROM policies WHERE strings_id IS NOT NULL')" "$n_strings" \
	"every policy after a reparse names its text"
finish
