// SPDX-License-Identifier: GPL-2.0
/* faultline harness: pagemap and smaps readers. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pagemap.h"
#include "vmstate.h"

#define THP_DIR			"/sys/kernel/mm/transparent_hugepage/"

/*
 * No malloc here: a case may look while another thread is held in fork()
 * by an unread FORK event, and glibc's fork holds the malloc locks.
 */
static long present_count_fd(int fd, const void *addr, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t ents[64];
	uintptr_t first = (uintptr_t)addr / page;
	size_t n = (len + page - 1) / page, done = 0, i;
	long count = 0;

	while (done < n) {
		size_t chunk = n - done < 64 ? n - done : 64;
		ssize_t got = pread(fd, ents, chunk * sizeof(ents[0]),
				    (first + done) * sizeof(ents[0]));

		if (got != (ssize_t)(chunk * sizeof(ents[0])))
			return got < 0 ? -errno : -EIO;
		for (i = 0; i < chunk; i++)
			count += !!(ents[i] & PM_PRESENT);
		done += chunk;
	}
	return count;
}

long vm_present_count(const void *addr, size_t len)
{
	int fd = pagemap_fd();

	return fd < 0 ? fd : present_count_fd(fd, addr, len);
}

int vm_present(const void *addr)
{
	return (int)vm_present_count(addr, 1);
}

int vm_present_pid(int pid, const void *addr)
{
	char path[64];
	long ret;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = present_count_fd(fd, addr, 1);
	close(fd);
	return (int)ret;
}

long vm_smaps_kb(const void *addr, const char *field)
{
	uintptr_t a = (uintptr_t)addr;
	size_t flen = strlen(field);
	bool in_vma = false;
	char line[256];
	long val = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		/* A mapping header: "start-end perms ..." */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (in_vma)
				break;
			in_vma = a >= start && a < end;
			continue;
		}
		if (in_vma && !strncmp(line, field, flen) &&
		    line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

size_t vm_thp_size(void)
{
	char buf[64];

	if (read_line(THP_DIR "hpage_pmd_size", buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 10);
}

const char *vm_thp_unavailable(void)
{
	static char why[160];
	char buf[96];

	if (!vm_thp_size())
		return "no transparent huge pages (" THP_DIR
		       "hpage_pmd_size missing: CONFIG_TRANSPARENT_HUGEPAGE off)";
	if (read_line(THP_DIR "enabled", buf, sizeof(buf)))
		return "cannot read " THP_DIR "enabled";
	if (strstr(buf, "[never]")) {
		snprintf(why, sizeof(why), "THP disabled (%senabled is %s)",
			 THP_DIR, buf);
		return why;
	}
	return NULL;
}
