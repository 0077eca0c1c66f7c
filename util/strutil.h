/*
 * strutil.h — small string helpers (ASCII case, trimming, numbers).
 */
#ifndef MXD_UTIL_STRUTIL_H
#define MXD_UTIL_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

int str_casecmp(const char *a, const char *b);		/* ASCII only */
int str_ncasecmp(const char *a, const char *b, size_t n);
int str_has_suffix_ci(const char *s, const char *suffix);
int str_has_prefix_ci(const char *s, const char *prefix);
void str_lower(char *s);				/* ASCII only */
/* Trims ASCII white space (and CR) in place; returns s. */
char *str_trim(char *s);
/* Writes n with thousands separators ("12,345"); returns out. */
char *str_thousands(uint64_t n, char out[32]);
/* Finds a needle in a byte range, case-insensitively (ASCII). */
const char *mem_casemem(const char *hay, size_t n, const char *needle);

#endif
