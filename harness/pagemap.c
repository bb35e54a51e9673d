// SPDX-License-Identifier: GPL-2.0
/* faultline harness: /proc/self/pagemap entries and PAGEMAP_SCAN. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pagemap.h"

/*
 * This process's /proc/self/pagemap, opened once per process (a case reads
 * it several times per point). The descriptor a forked child inherits is
 * its parent's view (the file is bound to the mm it was opened in), so a
 * process whose pid is not the one it was opened by opens its own. The pid
 * and the descriptor are one word, swapped atomically: threads may race
 * to open, and a fork may come at any time (no lock to inherit held).
 */
static uint64_t pagemap_owner;	/* pid << 32 | fd, 0: none */

int pagemap_fd(void)
{
	uint64_t old = __atomic_load_n(&pagemap_owner, __ATOMIC_ACQUIRE), mine;
	pid_t pid = getpid();
	int fd;

	if (old && (pid_t)(old >> 32) == pid)
		return (int)(uint32_t)old;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	mine = (uint64_t)(uint32_t)pid << 32 | (uint32_t)fd;
	if (!__atomic_compare_exchange_n(&pagemap_owner, &old, mine, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Another thread of ours was first (or we are a new child). */
		close(fd);
		return (pid_t)(old >> 32) == pid ? (int)(uint32_t)old :
		       pagemap_fd();
	}
	/* The parent's descriptor, inherited: ours to close. */
	if (old)
		close((int)(uint32_t)old);
	return fd;
}

int pagemap_entries(const void *addr, size_t n, uint64_t *entries)
{
	long psize = sysconf(_SC_PAGESIZE);
	off_t off = (off_t)((uintptr_t)addr / psize) * sizeof(*entries);
	size_t want = n * sizeof(*entries);
	int fd = pagemap_fd();
	ssize_t got;

	if (fd < 0)
		return fd;
	/* One read for the whole range: callers check every page of it. */
	got = pread(fd, entries, want, off);
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
	int fd = pagemap_fd();
	int ret;

	if (fd < 0)
		return fd;
	ret = ioctl(fd, PAGEMAP_SCAN, &arg);
	if (ret < 0)
		ret = -errno;
	if (walk_end)
		*walk_end = arg.walk_end;
	return ret;
}
