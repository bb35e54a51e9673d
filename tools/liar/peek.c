// SPDX-License-Identifier: GPL-2.0
/*
 * faultline liar: what a hook may touch in our own memory. A lie that
 * writes "elsewhere" (a refused COPY that writes anyway) must never take a
 * fault that userfaultfd would hold, or the lie would hang its own caller:
 * /proc/self/smaps says whether a uffd watches the VMA, /proc/self/pagemap
 * whether each page is mapped and write-protected. Raw open/read only (see
 * liar.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liar.h"

#define PM_UFFD_WP	(1ULL << 57)
#define PM_PRESENT	(1ULL << 63)

/* Reads a /proc file line by line into a fixed buffer. */
struct lines {
	int fd;
	char buf[4096];
	size_t len, pos;
};

/* The next line (NUL-terminated, without '\n'), or NULL at the end. */
static char *next_line(struct lines *r)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (nl) {
			char *line = r->buf + r->pos;

			*nl = 0;
			r->pos = (size_t)(nl - r->buf) + 1;
			return line;
		}
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		/* A line longer than the buffer (a long path): cut it. */
		if (r->len == sizeof(r->buf) - 1)
			r->len = 0;
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
		if (n <= 0)
			return NULL;
		r->len += (size_t)n;
	}
}

/* "start-end perms ..." -> the range and permissions of a VMA header. */
static bool vma_header(const char *line, struct vma_view *v)
{
	char *end;

	v->start = strtoull(line, &end, 16);
	if (end == line || *end != '-')
		return false;
	v->end = strtoull(end + 1, &end, 16);
	if (*end != ' ')
		return false;
	v->readable = end[1] == 'r';
	v->writable = end[2] == 'w';
	return true;
}

static bool has_flag(const char *flags, const char *f)
{
	size_t n = strlen(f);
	const char *p = flags;

	while ((p = strstr(p, f))) {
		if ((p == flags || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

int vma_view(uintptr_t addr, struct vma_view *v)
{
	struct lines r = { .fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC) };
	bool inside = false, found = false;
	struct vma_view cur;
	char *line;

	if (r.fd < 0)
		return -errno;
	while ((line = next_line(&r))) {
		if (vma_header(line, &cur)) {
			if (found)
				break;
			inside = addr >= cur.start && addr < cur.end;
			if (inside) {
				*v = cur;
				v->page = (size_t)getpagesize();
				v->uffd_armed = false;
			}
			continue;
		}
		if (!inside)
			continue;
		if (!strncmp(line, "KernelPageSize:", 15))
			v->page = strtoull(line + 15, NULL, 10) * 1024;
		if (!strncmp(line, "VmFlags:", 8)) {
			v->uffd_armed = has_flag(line + 8, "um") ||
					has_flag(line + 8, "uw") ||
					has_flag(line + 8, "ui");
			found = true;
		}
	}
	close(r.fd);
	return found ? 0 : -ENOENT;
}

size_t vma_page(uintptr_t addr)
{
	struct vma_view v;

	return vma_view(addr, &v) ? (size_t)getpagesize() : v.page;
}

/* The pagemap entry of the base page at @addr (0 when unreadable). */
static uint64_t pagemap(int fd, uintptr_t addr)
{
	uint64_t e = 0;
	off_t off = (off_t)(addr / (uintptr_t)getpagesize()) * sizeof(e);

	if (pread(fd, &e, sizeof(e), off) != sizeof(e))
		return 0;
	return e;
}

bool safe_to_touch(uintptr_t addr, size_t len, bool write)
{
	size_t base = (size_t)getpagesize();
	uintptr_t p, end = addr + len;
	struct vma_view v;
	bool ok = true;
	int fd;

	for (p = addr; p < end; p = v.end) {
		if (vma_view(p, &v) || !v.readable || (write && !v.writable))
			return false;
		if (!v.uffd_armed)
			continue;
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		for (uintptr_t q = p & ~(base - 1); ok && q < end && q < v.end;
		     q += base) {
			uint64_t e = pagemap(fd, q);

			ok = (e & PM_PRESENT) && !(write && (e & PM_UFFD_WP));
		}
		close(fd);
		if (!ok)
			return false;
	}
	return true;
}

size_t touch_write(uintptr_t dst, const void *src, int fill, size_t len)
{
	size_t base = (size_t)getpagesize(), done = 0, n;
	uintptr_t p;

	if (safe_to_touch(dst, len, true)) {
		if (src)
			memcpy((void *)dst, src, len);
		else
			memset((void *)dst, fill, len);
		return len;
	}
	for (p = dst; p < dst + len; p += n) {
		n = base - (p & (base - 1));
		if (n > dst + len - p)
			n = dst + len - p;
		if (!safe_to_touch(p, n, true))
			continue;
		if (src)
			memcpy((void *)p, (const char *)src + (p - dst), n);
		else
			memset((void *)p, fill, n);
		done += n;
	}
	return done;
}

size_t touch_read(uintptr_t addr, size_t len)
{
	size_t base = (size_t)getpagesize(), pages = 0;
	uintptr_t p;

	for (p = addr & ~(base - 1); p < addr + len; p += base) {
		if (!safe_to_touch(p, base, false))
			continue;
		(void)*(volatile char *)p;
		pages++;
	}
	return pages;
}
