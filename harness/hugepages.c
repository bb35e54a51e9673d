// SPDX-License-Identifier: GPL-2.0
/* faultline harness: huge page counters, and raising vm.nr_hugepages. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hugepages.h"
#include "runenv.h"
#include "sysctl.h"

/*
 * The "<name>: <number>" lines of /proc/meminfo for the @n @names, read in
 * one pass (the kernel computes the whole file for every read), into
 * @vals; HUGETLB_UNKNOWN for a missing one. The kernel prints the
 * HugePages_ counters unsigned: an underflowed one comes back negative.
 */
static void meminfo_values(const char *const names[], long long vals[],
			   size_t n)
{
	char line[128], *colon, *end;
	unsigned long long val;
	size_t i, found = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	for (i = 0; i < n; i++)
		vals[i] = HUGETLB_UNKNOWN;
	if (!f)
		return;
	while (found < n && fgets(line, sizeof(line), f)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		for (i = 0; i < n; i++) {
			if (strcmp(line, names[i]))
				continue;
			val = strtoull(colon + 1, &end, 10);
			if (end != colon + 1) {
				vals[i] = (long long)val;
				found++;
			}
			break;
		}
	}
	fclose(f);
}

static long long meminfo_value(const char *name)
{
	long long val;

	meminfo_values(&name, &val, 1);
	return val;
}

size_t mem_huge_page_size(void)
{
	static size_t cached = (size_t)-1;
	long long kb;

	if (cached == (size_t)-1) {
		kb = meminfo_value("Hugepagesize");
		cached = kb > 0 ? (size_t)kb * 1024 : 0;
	}
	return cached;
}

long long hugetlb_rsvd_pages(void)
{
	return meminfo_value("HugePages_Rsvd");
}

long hugetlb_free_pages(void)
{
	static const char *const names[] = { "HugePages_Free",
					     "HugePages_Rsvd" };
	long long vals[2], free_pages, rsvd;

	meminfo_values(names, vals, 2);
	free_pages = vals[0];
	rsvd = vals[1];

	if (free_pages < 0)
		return -1;
	/*
	 * Reserved pages are free but promised to existing mappings. A
	 * counter that has underflowed (seen as a huge or negative value)
	 * cannot be trusted: fall back to the free count.
	 */
	if (rsvd < 0 || rsvd > free_pages)
		return (long)free_pages;
	return (long)(free_pages - rsvd);
}

int hugetlb_raise(struct hugetlb_raise *r, long want)
{
	long free_pages = hugetlb_free_pages();
	long now;
	int err;

	r->before = sysctl_read(HUGETLB_NR_PATH);
	r->set = -1;
	r->added = 0;
	if (r->before < 0)
		return (int)r->before;
	if (free_pages < 0)
		return -ENODATA;
	if (free_pages >= want)
		return 0;
	err = sysctl_write(HUGETLB_NR_PATH, r->before + want - free_pages);
	/* The kernel may give fewer than asked (memory is short), or none. */
	now = sysctl_read(HUGETLB_NR_PATH);
	if (now > r->before) {
		r->set = now;
		r->added = now - r->before;
	}
	return err;
}

int hugetlb_give_back(struct hugetlb_raise *r)
{
	long now, back;
	int err;

	if (r->added <= 0)
		return 0;
	/*
	 * Someone else moved the value meanwhile (another test on a shared
	 * host putting its own value back): taking our share off the current
	 * value leaves theirs in place, where writing our "before" would
	 * resurrect a value they already undid.
	 */
	now = sysctl_read(HUGETLB_NR_PATH);
	if (now < 0 || now == r->set)
		back = r->before;
	else
		back = now > r->added ? now - r->added : 0;
	err = sysctl_write(HUGETLB_NR_PATH, back);
	if (!err)
		r->added = 0;
	return err;
}

/* ---- a case binary's own reservation ---- */

static struct hugetlb_raise reserved;
/* The process that raised: forked test children inherit the handlers. */
static pid_t reserved_by;
static long long rsvd_at_start = HUGETLB_UNKNOWN;

void hugetlb_restore(void)
{
	if (reserved_by == getpid())
		hugetlb_give_back(&reserved);
}

static void restore_on_signal(int sig)
{
	hugetlb_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Huge page reservations are the kernel's to balance: once every mapping
 * of this binary is gone, HugePages_Rsvd must be back where it started.
 * Other processes can move it too, so this is reported, never failed.
 */
static void check_accounting(void)
{
	long long now = hugetlb_rsvd_pages();

	if (reserved_by != getpid())
		return;
	/* Binaries running beside this one move the counter too. */
	if (runenv_jobs() > 1)
		return;
	if (rsvd_at_start < 0 || now == HUGETLB_UNKNOWN || now == rsvd_at_start)
		return;
	printf("# finding: HugePages_Rsvd was %lld before this binary and is %lld after it%s\n",
	       rsvd_at_start, now,
	       (unsigned long long)now > (1ULL << 62) ?
	       " (the kernel's reservation counter underflowed)" : "");
	fflush(stdout);
}

/* What raising the pool for this binary answered (0: not tried, or done). */
static int raise_error;

int hugetlb_reserve_error(void)
{
	return raise_error;
}

long hugetlb_reserve(long npages)
{
	static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	static bool raised;
	long free_pages = hugetlb_free_pages();
	size_t i;

	if (!mem_huge_page_size() || free_pages < 0)
		return 0;
	if (!reserved_by) {
		reserved_by = getpid();
		rsvd_at_start = hugetlb_rsvd_pages();
		atexit(check_accounting);
	}
	/* One raise per binary: FL_TEST_MAIN asks once for all its tests. */
	if (free_pages >= npages || raised)
		return free_pages;
	raised = true;
	/*
	 * Handlers only once there is something to give back: a sysctl
	 * guard (access cases) leaves handlers it finds installed alone.
	 */
	atexit(hugetlb_restore);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], restore_on_signal);
	raise_error = hugetlb_raise(&reserved, npages);
	return hugetlb_free_pages();
}
