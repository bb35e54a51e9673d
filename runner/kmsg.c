// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: kernel log records that appear while a binary runs.
 *
 * /dev/kmsg hands out one record per read(2): "prio,seq,usec,flags;text\n"
 * followed by optional " KEY=value\n" lines. Seeking to SEEK_END skips what
 * is already logged; EPIPE means records were overwritten before we read
 * them (the next read continues with the oldest one left).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

/* What kernel splats start with or contain. */
static const char *const alert_marks[] = {
	"WARNING:", "BUG:", "Oops", "general protection fault",
	"Call Trace:", "KASAN",
};

bool kmsg_is_alert(const char *msg)
{
	size_t i;

	for (i = 0; i < sizeof(alert_marks) / sizeof(alert_marks[0]); i++)
		if (strstr(msg, alert_marks[i]))
			return true;
	return false;
}

void kmsg_open(struct kmsg *k, struct stream *out, bool user_alerts)
{
	memset(k, 0, sizeof(*k));
	k->out = out;
	k->user_alerts = user_alerts;
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		k->open_errno = errno;
}

void kmsg_mark(struct kmsg *k)
{
	k->alert = false;
	k->lines = 0;
	if (k->fd >= 0 && !k->keep_pos)
		lseek(k->fd, 0, SEEK_END);
}

static void kmsg_emit(struct kmsg *k, char *rec)
{
	unsigned long long usec = 0;
	unsigned int prio = 0, facility;
	char *text, *end;
	bool alert;
	struct json b;

	/* Header fields before ';', the text up to the first newline. */
	text = strchr(rec, ';');
	if (!text)
		return;
	*text++ = '\0';
	end = strchr(text, '\n');
	if (end)
		*end = '\0';
	if (sscanf(rec, "%u,%*u,%llu", &prio, &usec) < 1)
		return;
	facility = prio >> 3;
	/*
	 * Only the kernel (facility 0) can splat. User space may write
	 * anything to /dev/kmsg (facility >= 1; it cannot pick 0), and on a
	 * shared host another program's "WARNING:" must not fail our binary.
	 */
	alert = kmsg_is_alert(text) && (facility == 0 || k->user_alerts);

	json_object(&b);
	json_str(&b, "line", text);
	json_bool(&b, "alert", alert);
	json_int(&b, "level", prio & 7);
	json_int(&b, "facility", facility);
	json_int(&b, "time_us", (long long)usec);
	stream_frame_json(k->out, "kmsg", &b);

	k->lines++;
	if (alert)
		k->alert = true;
}

void kmsg_drain(struct kmsg *k)
{
	/* A record is at most 1 KiB of text plus its dictionary. */
	char rec[8192 + 1];
	struct json b;
	ssize_t n;

	if (k->fd < 0)
		return;
	for (;;) {
		n = read(k->fd, rec, sizeof(rec) - 1);
		if (n > 0) {
			rec[n] = '\0';
			kmsg_emit(k, rec);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			json_object(&b);
			json_str(&b, "line", "faultline-runner: kernel log records were overwritten before they could be read");
			json_bool(&b, "alert", false);
			json_bool(&b, "lost", true);
			stream_frame_json(k->out, "kmsg", &b);
			continue;
		}
		return;	/* EAGAIN: nothing more for now */
	}
}
