// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: UFFD_FEATURE_WP_ASYNC + PAGEMAP_SCAN, the dirty tracking
 * without messages that live snapshots and CRIU use. Every other page is
 * written (the kernel drops the protection itself, no fault reaches the
 * servicer), then one timed PAGEMAP_SCAN finds the written pages and
 * protects them again (PM_SCAN_WP_MATCHING). The next repeat writes the
 * other half. Figure: pages scanned per second.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rig.h"
#include "verify.h"

/* Write every other page from @parity on the vCPU thread: no fault may queue. */
static bool write_half(struct rig *g, unsigned int parity, unsigned char v,
		       struct result *r)
{
	g->plan = (struct touch_plan){
		.first = parity, .step = 2, .kind = FAULT_WRITE, .value = v,
		.count = (g->npages + 1 - parity) / 2,
	};
	return rig_touch_expect(g, 0, "writes to async-protected pages", r);
}

/* The timed scan; regions found or -errno, time in *ns. */
static long timed_scan(struct rig *g, int pm, struct page_region *vec,
		       size_t nvec, uint64_t *ns)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)g->area.addr,
		.end = (uintptr_t)g->area.addr + rig_len(g),
		.vec = (uintptr_t)vec,
		.vec_len = nvec,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	uint64_t t0 = bench_now_ns();
	long n = bench_io.scan(pm, &arg);

	*ns = bench_now_ns() - t0;
	return n;
}

static bool run_repeats(struct rig *g, int pm, const struct bench_cfg *cfg,
			struct result *r)
{
	size_t nvec = g->npages / 2 + 2;
	struct page_region *vec = calloc(nvec, sizeof(*vec));
	struct repeat rep;
	char why[240];
	uint64_t ns;
	long n;

	if (!vec) {
		res_fail(r, "no_memory", "calloc: out of memory");
		return false;
	}
	repeat_begin(&rep, cfg->repeats, cfg->share_s);
	while (repeat_more(&rep)) {
		unsigned int parity = rep.done % 2;

		if (!write_half(g, parity, (unsigned char)(0x80 | rep.done), r))
			break;
		n = timed_scan(g, pm, vec, nvec, &ns);
		if (n == -ENOTTY && rep.done == 0) {
			res_skip(r, "not_offered",
				 "PAGEMAP_SCAN on /proc/self/pagemap: ENOTTY (the kernel has no PAGEMAP_SCAN)");
			break;
		}
		if (!res_verify(r, verify_scan(vec, n, (uintptr_t)g->area.addr,
					       g->page, g->npages, parity,
					       why, sizeof(why)),
				"PAGEMAP_SCAN after writing every other page",
				why))
			break;
		repeat_record(&rep, g->npages, ns);
	}
	repeat_end(&rep, r, false);
	free(vec);
	return r->status == RES_MEASURED;
}

void measure_wp_async(const struct bench_cfg *cfg, struct result *r)
{
	struct rig *g = rig_new(OP_WP_ASYNC_SCAN, cfg, cfg->pages, r);
	int pm, ret;

	if (!g)
		return;
	r->page_size = g->page;
	r->pages = g->npages;
	r->batch = g->npages;	/* one scan covers the area */
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		res_skip(r, "no_pagemap", "open /proc/self/pagemap: %s",
			 strerror(errno));
		goto out;
	}
	/* Protected pages (rig_new() wrote them): none counts as written. */
	ret = uffd_wp_range(rig_uffd(g), g->area.addr, rig_len(g), true);
	if (ret) {
		res_fail(r, "ioctl_failed", "UFFDIO_WRITEPROTECT of the area: %s",
			 strerror(-ret));
		goto out;
	}
	run_repeats(g, pm, cfg, r);
out:
	if (pm >= 0)
		close(pm);
	rig_free(g);
}
