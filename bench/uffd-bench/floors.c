// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: the floors, on the same memory type and machine, with no
 * userfaultfd at all:
 * - touch: the first write to each missing page (the kernel allocates and
 *   zeroes it), timed one by one: what a fault costs without a round trip;
 * - memcpy: the same bytes a COPY moves, copied into present pages.
 * The ratio of a uffd figure to these is the overhead userfaultfd adds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rig.h"
#include "verify.h"

static bool floor_touch(struct mem_area *a, size_t npages, uint64_t *ns,
			struct repeat *rep, struct result *r)
{
	unsigned char v = (unsigned char)(0x80 | rep->done);
	struct touch_plan p = { .count = npages, .step = 1,
				.kind = FAULT_WRITE, .value = v, .ns = ns };
	size_t base = (size_t)getpagesize();
	uint64_t t0, t;
	char why[200];
	int ret = mem_drop(a, true, -1, 0);

	if (ret) {
		res_fail(r, "setup_failed", "dropping the pages: %s",
			 strerror(-ret));
		return false;
	}
	t0 = bench_now_ns();
	touch_pages(a->addr, a->page, &p);
	t = bench_now_ns() - t0;
	if (!res_verify(r, verify_present(a->addr, a->len, a->len / base,
					  why, sizeof(why)) &&
			verify_first_bytes(a->addr, a->page, npages, v, why,
					   sizeof(why)),
			"after touching", why))
		return false;
	sort_u64(ns, npages);
	rep->p50[rep->done] = (double)pct_sorted(ns, npages, 50);
	rep->p90[rep->done] = (double)pct_sorted(ns, npages, 90);
	rep->p99[rep->done] = (double)pct_sorted(ns, npages, 99);
	repeat_record(rep, npages, t);
	return true;
}

static bool floor_memcpy(struct mem_area *a, size_t npages, size_t batch,
			 char *src, struct repeat *rep, struct result *r)
{
	unsigned int seed = rep->done + 1;
	size_t chunk = batch * a->page, i;
	uint64_t t0, t;
	char why[200];

	pattern_fill(src, a->len, seed);
	t0 = bench_now_ns();
	for (i = 0; i < a->len; i += chunk)
		memcpy(a->addr + i, src + i,
		       a->len - i < chunk ? a->len - i : chunk);
	t = bench_now_ns() - t0;
	if (!res_verify(r, verify_pattern(a->addr, a->page, npages, seed, why,
					  sizeof(why)),
			"after memcpy", why))
		return false;
	repeat_record(rep, npages, t);
	return true;
}

void measure_floor(enum op_id op, const struct bench_cfg *cfg,
		   struct result *r)
{
	struct mem_area a;
	struct repeat rep;
	uint64_t *ns = NULL;
	char *src = NULL;
	bool ok = true;

	if ((op == OP_TOUCH && !clock_times_faults(r)) ||
	    bench_alloc(&a, cfg->mem, cfg->pages, r))
		return;
	r->page_size = a.page;
	r->pages = cfg->pages;
	r->batch = 1;
	if (op == OP_TOUCH) {
		r->faults = cfg->pages;
		ns = malloc(cfg->pages * sizeof(*ns));
	} else {
		r->batch = cfg->batch;
		src = malloc(a.len);
		/* Copy into present pages: the floor has no fault in it. */
		memset(a.addr, 0, a.len);
	}
	if (!ns && !src) {
		res_fail(r, "no_memory", "malloc: out of memory");
		goto out;
	}
	repeat_begin(&rep, cfg->repeats, cfg->share_s);
	while (ok && repeat_more(&rep)) {
		ok = op == OP_TOUCH ?
			floor_touch(&a, cfg->pages, ns, &rep, r) :
			floor_memcpy(&a, cfg->pages, cfg->batch, src, &rep, r);
	}
	repeat_end(&rep, r, op == OP_TOUCH);
out:
	free(ns);
	free(src);
	mem_free(&a);
}

static double ratio(double floor_rate, const struct result *r)
{
	if (floor_rate <= 0 || r->pages_per_s.median <= 0)
		return NAN;
	return floor_rate / r->pages_per_s.median;
}

void bench_ratios(struct type_result *t)
{
	const struct result *touch = &t->op[OP_TOUCH];
	const struct result *cp = &t->op[OP_MEMCPY];
	double touch_rate = touch->status == RES_MEASURED ?
		touch->pages_per_s.median : 0;
	double cp_rate = cp->status == RES_MEASURED ? cp->pages_per_s.median : 0;
	int i;

	for (i = 0; i < OP_NR; i++) {
		struct result *r = &t->op[i];

		r->x_touch = r->x_memcpy = NAN;
		if (r->status != RES_MEASURED)
			continue;
		switch (op_table[i].kind) {
		case KIND_LATENCY:
			/* How many plain faults one round trip costs. */
			if (touch->status == RES_MEASURED && touch->p50.median > 0)
				r->x_touch = r->p50.median / touch->p50.median;
			break;
		case KIND_THROUGHPUT:
			/* A scan is not comparable with moving bytes. */
			if (i == OP_WP_ASYNC_SCAN)
				break;
			r->x_touch = ratio(touch_rate, r);
			r->x_memcpy = ratio(cp_rate, r);
			break;
		default:
			break;
		}
	}
}
