// SPDX-License-Identifier: GPL-2.0
/*
 * faultline: the compact JSON writer (json.h) the runner, uffd-probe and
 * uffd-bench share.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DEFAULT_DIGITS	15

static void put(struct json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 2 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *p;

		while (cap < j->len + n + 2)
			cap *= 2;
		p = realloc(j->p, cap);
		if (!p) {
			j->failed = true;
			return;
		}
		j->p = p;
		j->cap = cap;
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}

static void putc_(struct json *j, char c)
{
	put(j, &c, 1);
}

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->digits = DEFAULT_DIGITS;
}

/* Length of a valid UTF-8 sequence at @s (at most @n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range code points. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void quote(struct json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];
	size_t i = 0, len;

	putc_(j, '"');
	while (i < n) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(j, esc, 6);
			i++;
		} else if ((len = utf8_len(s + i, n - i))) {
			put(j, str + i, len);
			i += len;
		} else {
			put(j, "\\ufffd", 6);
			i++;
		}
	}
	putc_(j, '"');
}

/* The comma before a member (not the first of its level) and its key. */
static void member(struct json *j, const char *key)
{
	if (j->used[j->depth])
		putc_(j, ',');
	j->used[j->depth] = true;
	if (key) {
		quote(j, key, strlen(key));
		putc_(j, ':');
	}
}

void json_open(struct json *j, const char *key, char bracket)
{
	member(j, key);
	if (j->depth == JSON_DEPTH_MAX) {
		j->failed = true;
		return;
	}
	putc_(j, bracket);
	j->closer[j->depth++] = bracket == '[' ? ']' : '}';
	j->used[j->depth] = false;
}

void json_object(struct json *j)
{
	json_init(j);
	json_open(j, NULL, '{');
}

void json_close(struct json *j)
{
	if (j->depth > 0)
		putc_(j, j->closer[--j->depth]);
}

void json_strn(struct json *j, const char *key, const char *val, size_t n)
{
	member(j, key);
	quote(j, val, n);
}

void json_str(struct json *j, const char *key, const char *val)
{
	if (!val) {
		json_null(j, key);
		return;
	}
	json_strn(j, key, val, strlen(val));
}

void json_strf(struct json *j, const char *key, const char *fmt, ...)
{
	char small[256], *text = small;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		j->failed = true;
		return;
	}
	if ((size_t)n >= sizeof(small)) {
		text = malloc((size_t)n + 1);
		if (!text) {
			j->failed = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	json_strn(j, key, text, (size_t)n);
	if (text != small)
		free(text);
}

/* A number (or literal) already formatted by snprintf(). */
static void scalar(struct json *j, const char *key, const char *text, int n)
{
	member(j, key);
	if (n < 0) {
		j->failed = true;
		return;
	}
	put(j, text, (size_t)n);
}

void json_int(struct json *j, const char *key, long long val)
{
	char num[32];

	scalar(j, key, num, snprintf(num, sizeof(num), "%lld", val));
}

void json_uint(struct json *j, const char *key, unsigned long long val)
{
	char num[32];

	scalar(j, key, num, snprintf(num, sizeof(num), "%llu", val));
}

void json_num(struct json *j, const char *key, double val)
{
	char num[48];

	if (!isfinite(val)) {
		json_null(j, key);
		return;
	}
	scalar(j, key, num, snprintf(num, sizeof(num), "%.*g", j->digits, val));
}

void json_bool(struct json *j, const char *key, bool val)
{
	scalar(j, key, val ? "true" : "false", val ? 4 : 5);
}

void json_null(struct json *j, const char *key)
{
	scalar(j, key, "null", 4);
}

void json_raw(struct json *j, const char *key, const char *json)
{
	scalar(j, key, json, (int)strlen(json));
}

void json_str_array(struct json *j, const char *key, const char *const *vals,
		    int n)
{
	int i;

	json_open(j, key, '[');
	for (i = 0; i < n; i++)
		json_str(j, NULL, vals[i]);
	json_close(j);
}

const char *json_end(struct json *j)
{
	while (j->depth > 0)
		json_close(j);
	if (!j->p && !j->failed)
		put(j, "", 0);		/* an empty document is still text */
	return j->failed ? NULL : j->p;
}

void json_free(struct json *j)
{
	free(j->p);
	memset(j, 0, sizeof(*j));
}
