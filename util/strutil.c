/* strutil.c — small string helpers. */
#include "util/strutil.h"

#include <stdio.h>
#include <string.h>

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
str_casecmp(const char *a, const char *b)
{
	while (*a && lc((unsigned char)*a) == lc((unsigned char)*b)) {
		a++;
		b++;
	}
	return lc((unsigned char)*a) - lc((unsigned char)*b);
}

int
str_ncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int d = lc((unsigned char)*a) - lc((unsigned char)*b);

		if (d || !*a)
			return d;
	}
	return 0;
}

int
str_has_suffix_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && str_casecmp(s + n - k, suffix) == 0;
}

int
str_has_prefix_ci(const char *s, const char *prefix)
{
	return str_ncasecmp(s, prefix, strlen(prefix)) == 0;
}

void
str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)lc((unsigned char)*s);
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

char *
str_trim(char *s)
{
	char *b = s, *e;

	while (is_space((unsigned char)*b))
		b++;
	if (b != s)
		memmove(s, b, strlen(b) + 1);
	e = s + strlen(s);
	while (e > s && is_space((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

char *
str_thousands(uint64_t n, char out[32])
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n);
	int i, o = 0;

	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
	return out;
}

const char *
mem_casemem(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	if (!k)
		return hay;
	for (i = 0; i + k <= n; i++)
		if (str_ncasecmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}
