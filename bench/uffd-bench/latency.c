// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: fault round-trip latency. The vCPU thread touches one page
 * after another and times each access; every access faults, the servicer
 * reads the message and resolves it; the time is what a vCPU waits.
 *
 * A repeat is a fixed number of faults, made in passes over the area (a
 * hugetlb area holds few pages). Between passes, untimed, the area is made
 * to fault again (holes punched, page cache refilled, pages re-protected);
 * after each pass the servicer's fault count, the pages' presence and
 * their bytes are checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rig.h"
#include "verify.h"

struct lat {
	struct rig *g;
	unsigned int seed;		/* pattern of the current pass */
	unsigned char wval;		/* byte the WP pass writes */
};

/*
 * The fault flags each latency op must see: WP, MINOR or neither, and
 * WRITE exactly when the access writes.
 */
static uint64_t want_flags(enum op_id op)
{
	uint64_t write = op_table[op].fault == FAULT_WRITE ?
		UFFD_PAGEFAULT_FLAG_WRITE : 0;

	switch (op) {
	case OP_LAT_WP_UNPROTECT:	return UFFD_PAGEFAULT_FLAG_WP | write;
	case OP_LAT_MINOR_CONTINUE:	return UFFD_PAGEFAULT_FLAG_MINOR | write;
	default:			return write;
	}
}

static int resolve(void *arg, const struct uffd_msg *msg, char *why,
		   size_t whylen)
{
	struct lat *l = arg;
	struct rig *g = l->g;
	uint64_t flags = msg->arg.pagefault.flags;
	long i = fault_index(msg, g->area.addr, g->page, g->npages);
	uint64_t kinds = UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_MINOR |
			 UFFD_PAGEFAULT_FLAG_WRITE;

	if (i < 0 || (flags & kinds) != want_flags(g->op)) {
		snprintf(why, whylen, "unexpected fault at 0x%llx flags 0x%llx",
			 (unsigned long long)msg->arg.pagefault.address,
			 (unsigned long long)flags);
		return -EPROTO;
	}
	return rig_ioctl(g, op_io(g->op), (size_t)i, 1, why, whylen);
}

/* Make every page of the area fault again (untimed). 0 or -errno. */
static int prepare_pass(struct lat *l)
{
	struct rig *g = l->g;
	char why[160];

	l->seed++;
	if (g->op != OP_LAT_WP_UNPROTECT)
		return rig_reset(g, l->seed);
	l->wval = (unsigned char)(l->seed | 0x80);
	return rig_ioctl(g, IO_PROTECT, 0, g->npages, why, sizeof(why));
}

/* After a pass: the bytes each resolution must have put there. */
static bool verify_pass(struct lat *l, struct result *r)
{
	struct rig *g = l->g;
	size_t len = rig_len(g);
	char why[200];
	bool ok;

	if (g->op != OP_LAT_WP_UNPROTECT)
		ok = rig_verify_filled(g, l->seed, why, sizeof(why));
	else
		ok = verify_present(g->area.addr, len,
				    len / (size_t)getpagesize(), why,
				    sizeof(why)) &&
		     verify_first_bytes(g->area.addr, g->page, g->npages,
					l->wval, why, sizeof(why));
	return res_verify(r, ok, "after a pass", why);
}

/* One repeat: @passes passes over the area; latencies into @ns. */
static bool run_repeat(struct lat *l, size_t passes, uint64_t *ns,
		       struct result *r)
{
	struct rig *g = l->g;
	size_t p;
	int ret;

	g->plan.nns = 0;
	for (p = 0; p < passes; p++) {
		ret = prepare_pass(l);
		if (ret) {
			res_fail(r, "setup_failed", "making the area fault again: %s",
				 strerror(-ret));
			return false;
		}
		g->plan.count = g->npages;
		g->plan.step = 1;
		g->plan.kind = op_table[g->op].fault;
		g->plan.value = l->wval;
		g->plan.ns = ns;
		if (!rig_touch_expect(g, g->npages, "a pass of faults", r) ||
		    !verify_pass(l, r))
			return false;
	}
	return true;
}

void measure_latency(enum op_id op, const struct bench_cfg *cfg,
		     struct result *r)
{
	size_t k = cfg->faults < cfg->pages ? cfg->faults : cfg->pages;
	size_t passes, nfaults;
	struct repeat rep;
	struct lat l = { 0 };
	uint64_t *ns = NULL;

	if (!clock_times_faults(r))
		return;
	if (!k)
		k = 1;
	passes = (cfg->faults + k - 1) / k;
	nfaults = passes * k;
	l.g = rig_new(op, cfg, k, r);
	if (!l.g)
		return;
	r->page_size = l.g->page;
	r->faults = nfaults;
	r->pages = k;
	r->batch = 1;
	ns = malloc(nfaults * sizeof(*ns));
	if (!ns) {
		res_fail(r, "no_memory", "malloc: out of memory");
		goto out;
	}
	session_resolver(l.g->s, resolve, &l);
	repeat_begin(&rep, cfg->repeats, cfg->share_s);
	while (repeat_more(&rep)) {
		uint64_t sum = 0;
		size_t i;

		if (!run_repeat(&l, passes, ns, r))
			break;
		for (i = 0; i < nfaults; i++)
			sum += ns[i];
		sort_u64(ns, nfaults);
		rep.rate[rep.done] = sum ? (double)nfaults * 1e9 / (double)sum : 0;
		rep.p50[rep.done] = (double)pct_sorted(ns, nfaults, 50);
		rep.p90[rep.done] = (double)pct_sorted(ns, nfaults, 90);
		rep.p99[rep.done] = (double)pct_sorted(ns, nfaults, 99);
		rep.done++;
	}
	repeat_end(&rep, r, true);
out:
	/* A hung vCPU may still write latencies: leak them with the rig. */
	if (l.g && l.g->s && l.g->s->hung)
		ns = NULL;
	free(ns);
	rig_free(l.g);
}
