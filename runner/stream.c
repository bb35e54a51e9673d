// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: the output side. Every line of the stream leaves in a
 * single write(2), so a reader (or a VM console that is cut at any moment)
 * sees whole lines, and nothing sits in a stdio buffer. A frame's JSON is
 * written with the library's writer (harness/json.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

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

void stream_frame_json(struct stream *s, const char *kw, struct json *j)
{
	const char *text = json_end(j);

	stream_frame(s, kw, text ? text : "{\"error\":\"runner out of memory\"}");
	json_free(j);
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
