// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: throughput of one ioctl kind, issued back to back over an
 * area (cfg->batch pages per call, one by default: what a VMM resolving
 * page by page does). Each repeat is prepared untimed, timed as a whole,
 * then verified: the bytes, the pagemap, and where only behaviour can
 * tell (poison, write protection) a vCPU thread's accesses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pagemap.h"
#include "rig.h"
#include "verify.h"

struct tput {
	struct rig *g;
	unsigned int seed;
};

/* Bring the area to the state the op starts from (untimed). */
static int prepare_repeat(struct tput *t)
{
	struct rig *g = t->g;
	size_t len = rig_len(g);

	t->seed++;
	if (g->op != OP_WRITEPROTECT && g->op != OP_UNPROTECT)
		return rig_reset(g, t->seed);
	/* Un-protected before protecting, protected before un-protecting. */
	return uffd_wp_range(rig_uffd(g), g->area.addr, len,
			     g->op == OP_UNPROTECT);
}

/* Resolve the WP faults the check below provokes: un-protect the page. */
static int resolve_wp(void *arg, const struct uffd_msg *msg, char *why,
		      size_t whylen)
{
	struct rig *g = arg;
	long i = fault_index(msg, g->area.addr, g->page, g->npages);

	if (i < 0 || !(msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)) {
		snprintf(why, whylen, "unexpected fault at 0x%llx flags 0x%llx",
			 (unsigned long long)msg->arg.pagefault.address,
			 (unsigned long long)msg->arg.pagefault.flags);
		return -EPROTO;
	}
	return uffd_wp_range(rig_uffd(g), mem_page(&g->area, i), g->page,
			     false);
}

/* Write protection: the pagemap bit if shown, and what a write does. */
static bool verify_wp(struct tput *t, struct result *r)
{
	struct rig *g = t->g;
	bool protect = g->op == OP_WRITEPROTECT;
	unsigned char v = (unsigned char)(t->seed | 0x80);
	size_t last = g->npages - 1;
	char why[200];

	if (pagemap_wp_shown() == 1 &&
	    !res_verify(r, verify_wp_bits(g->area.addr, g->page, g->npages,
					  protect, why, sizeof(why)),
			"pagemap", why))
		return false;
	g->plan = (struct touch_plan){ .kind = FAULT_WRITE, .value = v };
	if (protect) {
		/* The first and the last page must trap a write. */
		g->plan.count = last ? 2 : 1;
		g->plan.step = last ? last : 1;
		session_resolver(g->s, resolve_wp, g);
	} else {
		/* No page may trap a write any more. */
		g->plan.count = g->npages;
		g->plan.step = 1;
		session_resolver(g->s, NULL, NULL);
	}
	if (!rig_touch_expect(g, protect ? g->plan.count : 0,
			      protect ? "writes to protected pages" :
			      "writes to un-protected pages", r))
		return false;
	return res_verify(r, (unsigned char)g->area.addr[0] == v &&
			  (unsigned char)mem_page(&g->area, last)[0] == v,
			  "after the writes", "a written byte did not land");
}

/* Every page must raise SIGBUS; a fault instead means it was not poisoned. */
static bool verify_poison(struct tput *t, struct result *r)
{
	struct rig *g = t->g;
	char why[160];

	session_resolver(g->s, NULL, NULL);
	g->plan = (struct touch_plan){ .count = g->npages, .step = 1,
				       .sigbus = true };
	if (!rig_touch_expect(g, 0, "reading poisoned pages", r))
		return false;
	return res_verify(r, verify_count("pages raising SIGBUS",
					  g->plan.sigbus_seen, g->npages, why,
					  sizeof(why)),
			  "reading poisoned pages", why);
}

static bool verify_repeat(struct tput *t, struct result *r)
{
	struct rig *g = t->g;
	char why[200];

	switch (g->op) {
	case OP_POISON:
		return verify_poison(t, r);
	case OP_WRITEPROTECT:
	case OP_UNPROTECT:
		return verify_wp(t, r);
	default:
		break;
	}
	return res_verify(r, rig_verify_filled(g, t->seed, why, sizeof(why)),
			  "after the ioctls", why);
}

/* The timed part: every page, cfg->batch at a time; false on an error. */
static bool timed_ioctls(struct rig *g, size_t batch, uint64_t *ns,
			 struct result *r)
{
	uint64_t t0 = bench_now_ns();
	char why[200];
	size_t i, n;

	for (i = 0; i < g->npages; i += n) {
		n = g->npages - i < batch ? g->npages - i : batch;
		if (rig_ioctl(g, op_io(g->op), i, n, why, sizeof(why))) {
			res_fail(r, "ioctl_failed", "%s", why);
			return false;
		}
	}
	*ns = bench_now_ns() - t0;
	return true;
}

void measure_throughput(enum op_id op, const struct bench_cfg *cfg,
			struct result *r)
{
	struct tput t = { 0 };
	struct repeat rep;
	uint64_t ns;
	int ret;

	if (op == OP_WP_ASYNC_SCAN) {
		measure_wp_async(cfg, r);
		return;
	}
	t.g = rig_new(op, cfg, cfg->pages, r);
	if (!t.g)
		return;
	r->page_size = t.g->page;
	r->pages = cfg->pages;
	r->batch = cfg->batch;
	repeat_begin(&rep, cfg->repeats, cfg->share_s);
	while (repeat_more(&rep)) {
		ret = prepare_repeat(&t);
		if (ret) {
			res_fail(r, "setup_failed", "preparing the area: %s",
				 strerror(-ret));
			break;
		}
		if (!timed_ioctls(t.g, cfg->batch, &ns, r) ||
		    !verify_repeat(&t, r))
			break;
		repeat_record(&rep, cfg->pages, ns);
	}
	repeat_end(&rep, r, false);
	rig_free(t.g);
}
