#!/bin/sh
# The XLSX workbook, read back by openpyxl (python3-openpyxl): sheet names,
# values equal to the JSON digest, the chart, header formats, frozen rows,
# tables (or autofilters in constant-memory mode), formula-like text kept as
# text; and the file handling (-o required, atomic, errors).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
CHECK="$SRCDIR/tests/digest/check_xlsx.py"

$PY -c 'import openpyxl' 2>/dev/null || { echo "python3-openpyxl is not installed" >&2; exit 77; }
mxd import "$SAMPLES" "$SRCDIR/tests/digest/injection.json"
W2="--from 2026-11-16 --to 2026-11-23"

# shellcheck disable=SC2086
{
mxd report $W2 --format json
printf '%s' "$out" > "$TMP/d.json"
"$MXDIGEST" --db "$DB" report $W2 --format csv --by detail > "$TMP/details.csv"

mxd report $W2 --format xlsx -o "$TMP/w2.xlsx"
expect_rc 0 "xlsx"
expect_eq "$out" "" "nothing on stdout"
$PY "$CHECK" "$TMP/w2.xlsx" "$TMP/d.json" "$TMP/details.csv" --injection || fail "workbook (tables)"

# past the threshold the workbook streams: autofilters instead of tables
MXDIGEST_XLSX_STREAM_ROWS=10 mxd report $W2 --format xlsx -o "$TMP/stream.xlsx"
expect_rc 0 "xlsx in constant-memory mode"
$PY "$CHECK" "$TMP/stream.xlsx" "$TMP/d.json" "$TMP/details.csv" --stream --injection ||
	fail "workbook (constant memory)"

# filters reach the workbook, and an empty window still makes one
mxd report --from 2026-11-23 --to 2026-11-30 --format json
printf '%s' "$out" > "$TMP/empty.json"
"$MXDIGEST" --db "$DB" report --from 2026-11-23 --to 2026-11-30 --format csv --by detail > "$TMP/empty.csv"
mxd report --from 2026-11-23 --to 2026-11-30 --format xlsx -o "$TMP/empty.xlsx"
$PY "$CHECK" "$TMP/empty.xlsx" "$TMP/empty.json" "$TMP/empty.csv" || fail "workbook of an empty window"

# week 1 has no previous window: its changes are empty cells (not the whole
# rate as a rise), as they are null in JSON
mxd report --from 2026-11-09 --to 2026-11-16 --format json
printf '%s' "$out" > "$TMP/w1.json"
expect_eq "$(json 'd["totals"]["failure_rate_change"]')" None "JSON: no previous data, a null change"
"$MXDIGEST" --db "$DB" report --from 2026-11-09 --to 2026-11-16 --format csv --by detail > "$TMP/w1.csv"
mxd report --from 2026-11-09 --to 2026-11-16 --format xlsx -o "$TMP/w1.xlsx"
$PY "$CHECK" "$TMP/w1.xlsx" "$TMP/w1.json" "$TMP/w1.csv" || fail "workbook of a window without a previous one"
$PY - "$TMP/w1.xlsx" <<'PYEOF' || fail "changes without previous data"
import openpyxl, sys
wb = openpyxl.load_workbook(sys.argv[1])
s = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
assert "Failure rate change (points)" in s and s["Failure rate change (points)"] is None, s
for name in ("By MX host", "By organization", "By policy domain"):
    ws = wb[name]
    head = [c.value for c in ws[1]]
    col = head.index("Change")
    vals = [r[col] for r in ws.iter_rows(min_row=2, max_row=ws.max_row, values_only=True) if r[0]]
    assert vals and all(v is None for v in vals[:3]), (name, vals)
PYEOF

# binary output: never to a terminal or by accident to stdout
mxd report $W2 --format xlsx
expect_rc 64 "xlsx without -o"
expect_in "$err" "give -o FILE" "says what to do"
mxd report $W2 --format xlsx -o -
expect_rc 0 "-o - writes to a pipe or file on purpose"
[ "$(head -c 2 "$TMP/out")" = "PK" ] || fail "-o - gives the workbook"
mxd report $W2 --format xlsx -o "$TMP/no/such/dir/x.xlsx"
expect_rc 74 "-o into a missing directory"
expect_eq "$(ls "$TMP" | grep -c 'x.xlsx')" 0 "no partial file"
}

# a hostile store: bytes that ingest would have cleaned (invalid UTF-8, an
# escape sequence) written straight into the database never reach the
# workbook, the terminal or the CSV as such
# (PostgreSQL refuses invalid UTF-8 in text: there, only the escape)
if [ "$BACKEND" = pg ]; then
	bad="'Bad' || chr(27) || '[31m'"
	want_py='"Bad\ufffd[31m"'
	want='Bad�[31m'
else
	bad="'Bad' || char(27) || '[31m' || CAST(X'E9FF' AS TEXT)"
	want_py='"Bad\ufffd[31m\ufffd\ufffd"'
	want='Bad�[31m��'
fi
if [ "$BACKEND" = pg ] || command -v sqlite3 >/dev/null 2>&1; then
	sql "UPDATE reports SET org = $bad WHERE org = 'Mimecast';
		UPDATE domain_counts SET org = $bad WHERE org = 'Mimecast';
		UPDATE failure_counts SET org = $bad WHERE org = 'Mimecast';" ||
		fail "update of the store"
	mxd report $W2 --format xlsx -o "$TMP/hostile.xlsx"
	expect_rc 0 "xlsx of a hostile store"
	$PY - "$TMP/hostile.xlsx" "$want_py" <<'PYEOF' || fail "hostile strings in the workbook"
import ast, openpyxl, sys
wb = openpyxl.load_workbook(sys.argv[1])
names = [r[0] for r in wb["By organization"].iter_rows(min_row=2, values_only=True)]
bad = [n for n in names if n and n.startswith("Bad")]
assert bad == [ast.literal_eval(sys.argv[2])], bad
PYEOF
	mxd report $W2 --top 0
	if printf '%s' "$out" | grep -q "$(printf '\033')"; then fail "an escape from the store reached the text"; fi
	expect_in "$out" "$want" "replaced, not dropped"
	mxd report $W2 --format json
	expect_eq "$(json '[o["organization"] for o in d["by_organization"] if o["organization"].startswith("Bad")]')" \
		"['$want']" "valid JSON, bytes replaced"
	"$MXDIGEST" --db "$DB" report $W2 --format csv --by org > "$TMP/h.csv"
	$PY -c 'import sys; open(sys.argv[1], encoding="utf-8").read()' "$TMP/h.csv" || fail "CSV is not UTF-8"
fi

finish
