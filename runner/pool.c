// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: huge pages for the whole run.
 *
 * A case binary makes sure it has free huge pages (hugetlb_reserve()
 * raises vm.nr_hugepages and puts it back at exit). With several binaries
 * at once that races: one puts the value back while another still maps
 * the pages. So the runner raises it once, before any binary starts, far
 * enough that every binary finds its pages free and leaves the sysctl
 * alone, and takes it back after the last one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mem.h"
#include "runner.h"
#include "sysctl.h"

#define NR_HUGEPAGES_PATH	"/proc/sys/vm/nr_hugepages"
/*
 * Two runs on one host would each add their share and each take back a
 * share computed from a value the other moved: one run owns the pool at a
 * time, the next waits for it.
 */
#define HUGE_LOCK		"/run/faultline-hugepages.lock"
/* A case binary needs at most 16 free pages: twice that per job. */
#define PAGES_PER_JOB		32
/* Never more than this share of RAM by default (small VMs). */
#define RAM_SHARE		16

long huge_default(int jobs)
{
	size_t hps = mem_huge_page_size();
	long pages = (long)PAGES_PER_JOB * jobs;
	long ram_pages = sysconf(_SC_PHYS_PAGES);
	long page = sysconf(_SC_PAGESIZE);
	long cap;

	if (!hps || ram_pages <= 0 || page <= 0)
		return pages;
	cap = (long)((unsigned long long)ram_pages * (unsigned long)page /
		     RAM_SHARE / hps);
	return pages < cap ? pages : cap;
}

static void huge_lock(struct huge_state *h)
{
	/* No /run (a bare VM): nothing else can run there anyway. */
	h->lock_fd = open(HUGE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (h->lock_fd < 0)
		return;
	if (!flock(h->lock_fd, LOCK_EX | LOCK_NB))
		return;
	fprintf(stderr, "faultline-runner: another run holds the huge page pool (%s); waiting for it\n",
		HUGE_LOCK);
	h->waited = true;
	while (flock(h->lock_fd, LOCK_EX) && errno == EINTR)
		;
}

static void huge_unlock(struct huge_state *h)
{
	if (h->lock_fd >= 0)
		close(h->lock_fd);
	h->lock_fd = -1;
}

void huge_reserve(struct huge_state *h)
{
	long free_pages, now;
	int err;

	h->before = -1;
	h->set = -1;
	h->added = 0;
	h->free_after = -1;
	h->error = NULL;
	h->restore_err = 0;
	h->lock_fd = -1;
	h->waited = false;
	if (h->wanted <= 0)
		return;
	huge_lock(h);
	if (!mem_huge_page_size()) {
		h->error = "the kernel has no huge pages";
		return;
	}
	h->before = sysctl_read(NR_HUGEPAGES_PATH);
	free_pages = hugetlb_free_pages();
	if (h->before < 0 || free_pages < 0) {
		h->error = "cannot read vm.nr_hugepages or /proc/meminfo";
		return;
	}
	if (free_pages < h->wanted) {
		err = sysctl_write(NR_HUGEPAGES_PATH,
				   h->before + h->wanted - free_pages);
		if (err)
			h->error = strerror(-err);
		/* The kernel may give fewer than asked (memory is short). */
		now = sysctl_read(NR_HUGEPAGES_PATH);
		if (now > h->before) {
			h->set = now;
			h->added = now - h->before;
		}
	}
	h->free_after = hugetlb_free_pages();
}

int huge_restore(struct huge_state *h)
{
	long now, back;

	if (h->added <= 0) {
		huge_unlock(h);
		return 0;
	}
	/*
	 * Take back what we added. If someone else moved the value meanwhile
	 * (another test on a shared host putting its own value back), taking
	 * our share off the current value leaves theirs in place, where
	 * writing our "before" would resurrect a value they already undid.
	 */
	now = sysctl_read(NR_HUGEPAGES_PATH);
	if (now < 0 || now == h->set)
		back = h->before;
	else
		back = now > h->added ? now - h->added : 0;
	h->restore_err = sysctl_write(NR_HUGEPAGES_PATH, back);
	if (!h->restore_err) {
		h->added = 0;
		huge_unlock(h);
	}
	return h->restore_err;
}

void huge_json(const struct huge_state *h, struct jbuf *b)
{
	struct jbuf o;

	if (h->wanted <= 0)
		return;
	jb_init(&o);
	jb_int(&o, "wanted", h->wanted);
	if (h->before >= 0)
		jb_int(&o, "before", h->before);
	jb_int(&o, "reserved", h->added);
	if (h->free_after >= 0)
		jb_int(&o, "free", h->free_after);
	if (h->waited)
		jb_bool(&o, "waited_for_other_run", true);
	if (h->error)
		jb_str(&o, "error", h->error);
	jb_raw(b, "hugepages", jb_end(&o));
	jb_free(&o);
}
