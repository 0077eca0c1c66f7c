/*
 * count.h — checked arithmetic for session counts.
 *
 * A count from a report is exact up to 2^53: the largest integer that a
 * double holds exactly, and so the largest a JSON reader or a spreadsheet
 * shows without rounding.  Parse rejects larger counts; sums of counts go
 * through count_add(), which saturates at COUNT_OVER instead of wrapping,
 * so that a hostile report can make a total implausibly large (and so
 * visible) but never small.  A sum is trustworthy while it is at most
 * COUNT_MAX.
 */
#ifndef MXD_UTIL_COUNT_H
#define MXD_UTIL_COUNT_H

#include <stdint.h>

#define COUNT_MAX ((uint64_t)1 << 53)
#define COUNT_OVER (COUNT_MAX + 1)

static inline uint64_t
count_add(uint64_t a, uint64_t b)
{
	if (a > COUNT_MAX || b > COUNT_MAX || a + b > COUNT_MAX)
		return COUNT_OVER;
	return a + b;
}

static inline uint64_t
count_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

#endif
