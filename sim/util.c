/*
 * util.c - PRNG, hashes, generated data bytes, allocation and errno names
 * for h2sim.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint64_t sm64(uint64_t *state)
{
	*state += 0x9E3779B97F4A7C15ULL;
	return mix64(*state);
}

uint64_t rnd(uint64_t *state, uint64_t n)
{
	return n ? sm64(state) % n : 0;
}

uint64_t fnv1a64(const void *p, size_t len)
{
	const uint8_t *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void gen_fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t key,
	      uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = gen_byte(seed, key, off + i);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (p == NULL)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

const char *errno_name(int e)
{
	return e > 0 ? strerrorname_np(e) : NULL;
}

int errno_from_name(const char *s)
{
	for (int e = 1; e < 200; e++) {
		const char *n = strerrorname_np(e);

		if (n && strcmp(n, s) == 0)
			return e;
	}
	if (strcmp(s, "ENOTSUP") == 0)
		return ENOTSUP;
	return 0;
}
