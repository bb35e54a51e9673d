// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the answer type every probe fills and every renderer reads
 * (tri-state, errno, cause, reason), and its small formatting helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

const char *tri_name(enum tri t)
{
	return t == TRI_YES ? "yes" : t == TRI_NO ? "no" : "unknown";
}

void verdict_set(struct verdict *v, enum tri status, int err,
		 const char *cause, const char *fmt, ...)
{
	va_list ap;

	v->status = status;
	v->err = err;
	v->cause = cause;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

void strfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

const char *errno_name(int err)
{
	static char buf[16];
	const char *n;

	if (!err)
		return "";
	n = strerrorname_np(err);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

void put_oneline(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

const char *probe_view(const struct probe *p)
{
	if (p->as_user[0])
		return "as-user";
	return p->unprivileged ? "unprivileged" : "caller";
}
