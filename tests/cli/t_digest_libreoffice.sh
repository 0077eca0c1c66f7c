#!/bin/sh
# LibreOffice opens the workbook the way a user's office suite would:
# headless conversion to PDF must succeed, the chart of the Daily sheet must
# be drawn (its title is in the PDF's text, and its page has the green and
# red bars), and the sheets' values come through (converted to CSV).
# Skipped (77) when LibreOffice or poppler-utils is not installed.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

SOFFICE=$(command -v soffice || command -v libreoffice || true)
if [ -z "$SOFFICE" ] || ! command -v pdftoppm >/dev/null || ! command -v pdftotext >/dev/null; then
	echo "LibreOffice (libreoffice-calc-nogui) or poppler-utils is not installed" >&2
	exit 77
fi
mxd import "$SAMPLES"
mxd report --from 2026-11-16 --to 2026-11-23 --format xlsx -o "$TMP/digest.xlsx"
expect_rc 0 "xlsx"
# a private profile: no interference with a user's LibreOffice
lo() {
	HOME="$TMP" timeout 180 "$SOFFICE" -env:UserInstallation="file://$TMP/lo-profile" \
		--headless --norestore "$@" >"$TMP/lo.log" 2>&1
}
lo --convert-to pdf --outdir "$TMP/pdf" "$TMP/digest.xlsx" || { cat "$TMP/lo.log" >&2; fail "LibreOffice could not convert the workbook"; }
[ -s "$TMP/pdf/digest.pdf" ] || { cat "$TMP/lo.log" >&2; fail "no PDF"; finish; }
pages=$(pdfinfo "$TMP/pdf/digest.pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
[ "${pages:-0}" -ge 9 ] || fail "PDF has $pages pages, expected one or more per sheet"
page=""
i=1
while [ "$i" -le "${pages:-0}" ]; do
	if pdftotext -f "$i" -l "$i" "$TMP/pdf/digest.pdf" - | grep -q "Sessions per day (UTC)"; then
		page=$i
		break
	fi
	i=$((i + 1))
done
[ -n "$page" ] || fail "the chart's title is not in the PDF: the chart was not drawn"
if [ -n "$page" ]; then
	pdftoppm -f "$page" -l "$page" -r 40 "$TMP/pdf/digest.pdf" "$TMP/page"
	$PY - "$TMP"/page*.ppm <<'PYEOF' || fail "the chart's bars are not on its page"
import sys
data = open(sys.argv[1], "rb").read()
# binary PPM: P6, width, height, maxval, then RGB bytes
parts = data.split(maxsplit=4)
w, h, px = int(parts[1]), int(parts[2]), parts[4]
green = red = 0
for i in range(0, w * h * 3, 3):
    r, g, b = px[i], px[i + 1], px[i + 2]
    if abs(r - 0x70) < 24 and abs(g - 0xAD) < 24 and abs(b - 0x47) < 24:
        green += 1
    if abs(r - 0xC0) < 24 and g < 40 and b < 40:
        red += 1
print("chart pixels: green %d, red %d" % (green, red))
sys.exit(0 if green > 200 and red > 50 else 1)
PYEOF
fi
# the values as LibreOffice reads them: the first sheet as CSV
lo --convert-to csv --outdir "$TMP/csv" "$TMP/digest.xlsx" || fail "LibreOffice CSV conversion"
grep -q '^Failed sessions,3942' "$TMP/csv/digest.csv" || fail "LibreOffice reads Failed sessions 3942 on the Summary"

finish
