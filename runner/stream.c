// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: the output side. Every line of the stream leaves in a
 * single write(2), so a reader (or a VM console that is cut at any moment)
 * sees whole lines, and nothing sits in a stdio buffer.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

static const char oom_json[] = "{\"error\":\"runner out of memory\"}";

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 2 > b->cap) {
		size_t cap = (b->cap ? b->cap : 256);
		char *p;

		while (cap < b->len + n + 2)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void jb_putc(struct jbuf *b, char c)
{
	jb_put(b, &c, 1);
}

void jb_init(struct jbuf *b)
{
	memset(b, 0, sizeof(*b));
	jb_putc(b, '{');
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

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
static void jb_quote(struct jbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];
	size_t i = 0, len;

	jb_putc(b, '"');
	while (i < n) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			jb_put(b, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			jb_put(b, esc, 6);
			i++;
		} else if ((len = utf8_len(s + i, n - i))) {
			jb_put(b, str + i, len);
			i += len;
		} else {
			jb_put(b, "\\ufffd", 6);
			i++;
		}
	}
	jb_putc(b, '"');
}

static void jb_key(struct jbuf *b, const char *key)
{
	if (b->len > 1)
		jb_putc(b, ',');
	jb_quote(b, key, strlen(key));
	jb_putc(b, ':');
}

void jb_strn(struct jbuf *b, const char *key, const char *val, size_t n)
{
	jb_key(b, key);
	jb_quote(b, val, n);
}

void jb_str(struct jbuf *b, const char *key, const char *val)
{
	if (!val) {
		jb_null(b, key);
		return;
	}
	jb_strn(b, key, val, strlen(val));
}

void jb_int(struct jbuf *b, const char *key, long long val)
{
	char num[32];

	jb_key(b, key);
	jb_put(b, num, (size_t)snprintf(num, sizeof(num), "%lld", val));
}

void jb_num(struct jbuf *b, const char *key, double val)
{
	char num[40];

	if (!isfinite(val)) {
		jb_null(b, key);
		return;
	}
	jb_key(b, key);
	jb_put(b, num, (size_t)snprintf(num, sizeof(num), "%.15g", val));
}

void jb_str_array(struct jbuf *b, const char *key, const char *const *vals,
		  int n)
{
	int i;

	jb_key(b, key);
	jb_putc(b, '[');
	for (i = 0; i < n; i++) {
		if (i)
			jb_putc(b, ',');
		jb_quote(b, vals[i], strlen(vals[i]));
	}
	jb_putc(b, ']');
}

void jb_bool(struct jbuf *b, const char *key, bool val)
{
	jb_key(b, key);
	jb_put(b, val ? "true" : "false", val ? 4 : 5);
}

void jb_null(struct jbuf *b, const char *key)
{
	jb_key(b, key);
	jb_put(b, "null", 4);
}

void jb_raw(struct jbuf *b, const char *key, const char *json)
{
	jb_key(b, key);
	jb_put(b, json, strlen(json));
}

const char *jb_end(struct jbuf *b)
{
	jb_putc(b, '}');
	return b->oom ? oom_json : b->p;
}

void jb_free(struct jbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void write_all(struct stream *s, const char *buf, size_t len)
{
	while (len && !s->broken) {
		ssize_t n = write(s->fd, buf, len);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* EPIPE, EIO, ...: nobody reads us any more. */
			s->broken = true;
			s->write_errno = errno;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Join up to three pieces and write them at once. */
static void write_joined(struct stream *s, const char *a, size_t alen,
			 const char *b, size_t blen, const char *c, size_t clen)
{
	char small[4096 + 128];
	size_t len = alen + blen + clen;
	char *buf = len <= sizeof(small) ? small : malloc(len);

	if (!buf) {
		/* Out of memory: still whole, just not atomic. */
		write_all(s, a, alen);
		write_all(s, b, blen);
		write_all(s, c, clen);
		return;
	}
	memcpy(buf, a, alen);
	memcpy(buf + alen, b, blen);
	memcpy(buf + alen + blen, c, clen);
	write_all(s, buf, len);
	if (buf != small)
		free(buf);
}

void stream_frame(struct stream *s, const char *kw, const char *rest)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%s@@faultline %s%s",
			 s->nl_before_frame ? "\n" : "", kw, rest ? " " : "");

	if (!rest)
		rest = "";
	write_joined(s, head, (size_t)n, rest, strlen(rest), "\n", 1);
}

void stream_write(struct stream *s, const char *buf, size_t len)
{
	write_all(s, buf, len);
}

void stream_line(struct stream *s, const char *prefix, const char *data,
		 size_t len)
{
	write_joined(s, prefix ? prefix : "", prefix ? strlen(prefix) : 0,
		     data, len, "\n", 1);
}
