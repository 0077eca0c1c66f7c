/* timeutil.c — UTC civil-date arithmetic and RFC 3339 parsing. */
#include "util/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Days since 1970-01-01 of a proleptic Gregorian date.  Counts in 400-year
 * eras of 146097 days, with years starting on March 1 so that the leap day
 * ends the year.
 */
int64_t
time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int64_t
time_day_floor(int64_t t)
{
	int64_t q = t / DAY_SECS;

	if (t % DAY_SECS < 0)
		q--;
	return q * DAY_SECS;
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(int64_t y, unsigned m)
{
	static const unsigned md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* Reads exactly n digits. */
static int
digits(const char **sp, int n, int *out)
{
	const char *s = *sp;
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = v;
	return 0;
}

int
time_parse_rfc3339(const char *s, int64_t *out, unsigned *flags)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
	int64_t t = 0;

	*flags = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > month_days(y, (unsigned)mo))
		return -1;
	if (*s == '\0' || (*s == ' ' && s[1] == '\0')) {
		*flags |= TIME_DATE_ONLY | TIME_NO_ZONE;
		goto done;
	}
	if (*s == ' ')
		*flags |= TIME_SPACE;
	else if (*s != 'T' && *s != 't')
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
		return -1;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &sec))
			return -1;
	}
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	if (sec == 60) {
		/* RFC 3339 §5.7 allows a leap second; count it as :59. */
		sec = 59;
		*flags |= TIME_LEAP;
	}
	if (*s == '.' || *s == ',') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
		*flags |= TIME_FRACTION;
	}
	t = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh))
			return -1;
		if (*s == ':')
			s++;
		if (digits(&s, 2, &om) || oh > 23 || om > 59)
			return -1;
		t = -sign * (int64_t)(oh * 3600 + om * 60);
		if (oh || om)
			*flags |= TIME_OFFSET;
	} else {
		*flags |= TIME_NO_ZONE;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return -1;
done:
	*out = time_days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY_SECS +
	       h * 3600 + mi * 60 + sec + t;
	return 0;
}

int
time_parse_user(const char *s, int64_t *out)
{
	unsigned flags;

	return time_parse_rfc3339(s, out, &flags);
}

void
time_format_iso(int64_t t, char out[32])
{
	int64_t days = time_day_floor(t) / DAY_SECS, y, rem = t - days * DAY_SECS;
	unsigned m, d;

	time_civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

void
time_format_date(int64_t t, char out[16])
{
	int64_t y;
	unsigned m, d;

	time_civil_from_days(time_day_floor(t) / DAY_SECS, &y, &m, &d);
	snprintf(out, 16, "%04lld-%02u-%02u", (long long)y, m, d);
}
