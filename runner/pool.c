// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: the huge page pool for the whole run.
 *
 * A case binary makes sure it has free huge pages (hugetlb_reserve()
 * raises vm.nr_hugepages and gives it back at exit). With several binaries
 * at once that races: one gives the pages back while another still maps
 * them. So the runner raises it once, before any binary starts, far
 * enough that every binary finds its pages free and leaves the sysctl
 * alone, and gives back after the last one (harness/hugepages.c: one
 * policy for both).
 *
 * Two runs on one host would each add their share and each give back a
 * share computed from a value the other moved: one run owns the pool at a
 * time (flock on POOL_LOCK), the next waits for it, saying for whom.
 *
 * A run that is SIGKILLed cannot give back. So the owner writes what it
 * raised into the lock file (the record) and clears it once it has given
 * the pages back; the next run that gets the lock and finds a record gives
 * back for the dead run, and says so in its run frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "hugepages.h"
#include "lockfile.h"
#include "runner.h"
#include "sysctl.h"

#define POOL_LOCK		"/run/faultline-hugepages.lock"
#define RECORD_MAGIC		"faultline-hugepages 1"
/* A case binary needs at most 16 free pages: twice that per job. */
#define PAGES_PER_JOB		32
/* Never more than this share of RAM by default (small VMs). */
#define RAM_SHARE		16
/* How often a waiting run tries the lock again. */
#define WAIT_POLL_MS		200

long pool_default(int jobs)
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

static void unlock(struct pool *p)
{
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	p->lock_fd = -1;
}

/*
 * Wait for the lock, trying again every WAIT_POLL_MS, while the runner's
 * signalfd is watched: SIGINT/SIGTERM/SIGHUP end the wait. 0 once the
 * lock is ours, else the signal.
 */
static int wait_lock(struct pool *p)
{
	struct pollfd pfd = { .fd = spawn_sigfd(), .events = POLLIN };
	struct signalfd_siginfo si;
	char pid[24] = "?";

	p->waited = true;
	p->waited_for = lockfile_holder(p->lock_fd);
	if (p->waited_for)
		snprintf(pid, sizeof(pid), "%ld", p->waited_for);
	fprintf(stderr, "faultline-runner: waiting for run PID %s (%s), which holds the huge page pool\n",
		pid, POOL_LOCK);
	for (;;) {
		if (!flock(p->lock_fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			unlock(p);	/* no locking after all: go on without */
			return 0;
		}
		/* poll() ignores an fd < 0, and sleeps all the same. */
		if (poll(&pfd, 1, WAIT_POLL_MS) <= 0 || pfd.fd < 0)
			continue;
		while (read(pfd.fd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo != SIGCHLD)
				return (int)si.ssi_signo;
	}
}

static void record_write(struct pool *p)
{
	char buf[160];
	int n;

	n = snprintf(buf, sizeof(buf), RECORD_MAGIC " pid=%ld before=%ld set=%ld added=%ld\n",
		     (long)getpid(), p->raise.before, p->raise.set,
		     p->raise.added);
	if (pwrite(p->lock_fd, buf, (size_t)n, 0) != n ||
	    ftruncate(p->lock_fd, n))
		p->record_err = errno ? errno : EIO;
}

static void record_clear(struct pool *p)
{
	if (ftruncate(p->lock_fd, 0))
		p->record_err = errno;
}

/* What a run that died holding the pool left there: 1 if a record. */
static int record_read(struct pool *p, long *pid, struct hugetlb_raise *r)
{
	char buf[160];
	ssize_t n = pread(p->lock_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, RECORD_MAGIC " pid=%ld before=%ld set=%ld added=%ld",
		      pid, &r->before, &r->set, &r->added) == 4 &&
	       r->before >= 0 && r->added > 0;
}

/* Give back what a dead owner raised; keep its record if we cannot. */
static void repair(struct pool *p)
{
	struct pool_repair *rp = &p->repair;
	struct hugetlb_raise dead;

	if (!record_read(p, &rp->pid, &dead))
		return;
	rp->owed = dead.added;
	rp->found = sysctl_read(HUGETLB_NR_PATH);
	rp->err = -hugetlb_give_back(&dead);
	rp->left = sysctl_read(HUGETLB_NR_PATH);
	if (!rp->err)
		record_clear(p);
	fprintf(stderr, "faultline-runner: run PID %ld ended without giving back the %ld huge pages it added: vm.nr_hugepages %ld -> %ld%s%s\n",
		rp->pid, rp->owed, rp->found, rp->left, rp->err ? ": " : "",
		rp->err ? strerror(rp->err) : "");
}


static void raise_pool(struct pool *p)
{
	int err;

	if (!mem_huge_page_size()) {
		p->error = "the kernel has no huge pages";
		return;
	}
	err = hugetlb_raise(&p->raise, p->wanted);
	if (p->raise.before < 0 || err == -ENODATA)
		p->error = "cannot read vm.nr_hugepages or /proc/meminfo";
	else if (err)
		p->error = strerror(-err);
	if (p->raise.added > 0 && p->lock_fd >= 0) {
		record_write(p);
		p->recorded = true;
	}
	p->free_after = hugetlb_free_pages();
}

int pool_take(struct pool *p)
{
	int sig = 0;

	memset(&p->raise, 0, sizeof(p->raise));
	p->raise.before = p->raise.set = -1;
	p->free_after = -1;
	p->lock_fd = open(POOL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	/* No /run (a bare VM): nothing else can run there anyway. */
	if (p->lock_fd >= 0 && flock(p->lock_fd, LOCK_EX | LOCK_NB)) {
		/* In use (its owner is alive), or no locking here. */
		if (errno != EWOULDBLOCK || p->wanted <= 0)
			unlock(p);
		else
			sig = wait_lock(p);
	}
	if (sig) {
		p->interrupted = sig;
		unlock(p);
		return sig;
	}
	if (p->lock_fd >= 0)
		repair(p);
	p->nr_at_start = sysctl_read(HUGETLB_NR_PATH);
	if (p->wanted > 0)
		raise_pool(p);
	else
		unlock(p);
	return 0;
}

int pool_give_back(struct pool *p)
{
	p->restore_err = hugetlb_give_back(&p->raise);
	/* Not given back: the record stays for the next run to repair. */
	if (!p->restore_err) {
		if (p->recorded)
			record_clear(p);
		unlock(p);
	}
	return p->restore_err;
}

void pool_json(const struct pool *p, struct json *b)
{
	if (p->repair.pid) {
		json_open(b, "hugepages_repair", '{');
		json_int(b, "pid", p->repair.pid);
		json_int(b, "owed", p->repair.owed);
		json_int(b, "found", p->repair.found);
		json_int(b, "restored", p->repair.left);
		if (p->repair.err)
			json_str(b, "error", strerror(p->repair.err));
		json_close(b);
	}
	if (p->wanted <= 0)
		return;
	json_open(b, "hugepages", '{');
	json_int(b, "wanted", p->wanted);
	if (p->raise.before >= 0)
		json_int(b, "before", p->raise.before);
	json_int(b, "reserved", p->raise.added);
	if (p->free_after >= 0)
		json_int(b, "free", p->free_after);
	if (p->waited) {
		json_bool(b, "waited_for_other_run", true);
		if (p->waited_for)
			json_int(b, "waited_for_pid", p->waited_for);
	}
	if (p->interrupted)
		json_int(b, "interrupted", p->interrupted);
	if (p->error)
		json_str(b, "error", p->error);
	if (p->record_err)
		json_str(b, "record_error", strerror(p->record_err));
	json_close(b);
}
