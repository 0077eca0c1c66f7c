/*
 * timeutil.h — UTC calendar arithmetic and the date-time grammars mxdigest
 * reads: RFC 3339 (leniently, as senders write it), plain dates, and the
 * "7d"/"2w"/"12h" durations of the command line.  Times are int64 seconds
 * since the Unix epoch, always UTC.  No locale, no TZ, no libc time zone.
 */
#ifndef MXD_UTIL_TIMEUTIL_H
#define MXD_UTIL_TIMEUTIL_H

#include <stdint.h>

#define DAY_SECS 86400

/* What a lenient parse had to accept; see docs/TOLERANCE.md. */
enum {
	TIME_NO_ZONE = 1 << 0,	 /* no Z or offset: read as UTC */
	TIME_FRACTION = 1 << 1,	 /* fractional seconds, dropped */
	TIME_OFFSET = 1 << 2,	 /* numeric offset, converted to UTC */
	TIME_DATE_ONLY = 1 << 3, /* a date without a time: 00:00:00 */
	TIME_SPACE = 1 << 4,	 /* ' ' instead of 'T' */
	TIME_LEAP = 1 << 5,	 /* second 60, read as 59 */
};

int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Floor division of t by one day, times one day: midnight UTC on or before t. */
int64_t time_day_floor(int64_t t);

/* RFC 3339 date-time, leniently.  Returns 0 and sets *flags, or -1. */
int time_parse_rfc3339(const char *s, int64_t *out, unsigned *flags);
/* Command line: "YYYY-MM-DD" or an RFC 3339 date-time.  0 or -1. */
int time_parse_user(const char *s, int64_t *out);

/* "2026-11-09T00:00:00Z" (21 bytes with the NUL). */
void time_format_iso(int64_t t, char out[32]);
/* "2026-11-09" */
void time_format_date(int64_t t, char out[16]);

#endif
