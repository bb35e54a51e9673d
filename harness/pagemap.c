// SPDX-License-Identifier: GPL-2.0
/* faultline harness: /proc/self/pagemap entries and PAGEMAP_SCAN. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pagemap.h"

/* The file is opened per call: a forked child must read its own pagemap. */
static int pagemap_open(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int pagemap_entries(const void *addr, size_t n, uint64_t *entries)
{
	long psize = sysconf(_SC_PAGESIZE);
	off_t off = (off_t)((uintptr_t)addr / psize) * sizeof(*entries);
	size_t want = n * sizeof(*entries);
	int fd = pagemap_open();
	ssize_t got;

	if (fd < 0)
		return fd;
	/* One read for the whole range: callers check every page of it. */
	got = pread(fd, entries, want, off);
	close(fd);
	if (got < 0)
		return -errno;
	return (size_t)got == want ? 0 : -EIO;
}

int pagemap_entry(const void *addr, uint64_t *entry)
{
	return pagemap_entries(addr, 1, entry);
}

static int entry_bit(const void *addr, uint64_t bit)
{
	uint64_t e;
	int ret = pagemap_entry(addr, &e);

	return ret ? ret : !!(e & bit);
}

int pagemap_uffd_wp(const void *addr)
{
	return entry_bit(addr, PM_UFFD_WP);
}

int pagemap_exclusive(const void *addr)
{
	return entry_bit(addr, PM_MMAP_EXCLUSIVE);
}

int pagemap_scan(void *start, size_t len, uint64_t flags, uint64_t mask,
		 uint64_t ret_mask, struct page_region *vec, size_t nvec,
		 uint64_t *walk_end)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = (uintptr_t)start,
		.end = (uintptr_t)start + len,
		.vec = (uintptr_t)vec,
		.vec_len = nvec,
		.category_mask = mask,
		.return_mask = ret_mask,
	};
	int fd = pagemap_open();
	int ret;

	if (fd < 0)
		return fd;
	ret = ioctl(fd, PAGEMAP_SCAN, &arg);
	if (ret < 0)
		ret = -errno;
	close(fd);
	if (walk_end)
		*walk_end = arg.walk_end;
	return ret;
}
