// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: clocks, percentiles, and the repeat loop every measurement
 * shares (a fixed repeat count, cut short by the measurement's time share).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_clock_step_ns(void)
{
	static uint64_t step;
	uint64_t deadline, a, b;
	int i;

	if (step)
		return step;
	step = UINT64_MAX;
	/* Bounded: a jiffies clock needs a few ticks to show its step. */
	deadline = bench_now_ns() + 50000000;
	for (i = 0; i < 200; i++) {
		a = bench_now_ns();
		while ((b = bench_now_ns()) == a)
			;
		if (b - a < step)
			step = b - a;
		if (b > deadline && i >= 2)
			break;
	}
	return step;
}

const char *bench_clock_source(void)
{
	static char name[32];
	FILE *f;

	if (name[0])
		return name;
	snprintf(name, sizeof(name), "unknown");
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  "re");
	if (f) {
		if (fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = 0;
		fclose(f);
	}
	return name;
}

bool clock_times_faults(struct result *r)
{
	uint64_t step = bench_clock_step_ns();

	if (step <= CLOCK_MAX_STEP_FOR_FAULTS_NS)
		return true;
	res_skip(r, "coarse_clock",
		 "CLOCK_MONOTONIC advances in %llu ns steps (clocksource %s): too coarse to time one fault",
		 (unsigned long long)step, bench_clock_source());
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

uint64_t pct_sorted(const uint64_t *sorted, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return 0;
	/* Nearest rank: the smallest value with pct% of the values <= it. */
	rank = (size_t)((pct / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

struct spread spread_of(double *v, size_t n)
{
	struct spread s = { 0, 0, 0 };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

double spread_rel(const struct spread *s)
{
	return s->median > 0 ? (s->max - s->min) / s->median : 0;
}

void repeat_begin(struct repeat *r, unsigned int want, double share_s)
{
	r->want = want > 64 ? 64 : want;
	r->done = 0;
	r->start_ns = bench_now_ns();
	r->share_ns = (uint64_t)(share_s * 1e9);
	r->shortest_ns = UINT64_MAX;
}

void repeat_record(struct repeat *r, size_t pages, uint64_t ns)
{
	if (ns < r->shortest_ns)
		r->shortest_ns = ns;
	/* 0 ns only on a coarse clock, which check_resolution() refuses. */
	r->rate[r->done++] = (double)pages * 1e9 / (double)(ns ? ns : 1);
}

bool repeat_more(const struct repeat *r)
{
	if (r->done >= r->want)
		return false;
	/* The first repeat always runs: no figure without one. */
	return r->done == 0 || bench_now_ns() - r->start_ns < r->share_ns;
}

/* A timed interval of few clock steps is a guess, not a figure. */
static void check_resolution(const struct repeat *r, struct result *res)
{
	uint64_t step = bench_clock_step_ns();

	if (res->status != RES_MEASURED || !r->done ||
	    r->shortest_ns >= CLOCK_STEPS_PER_TIMING * step)
		return;
	res_skip(res, "coarse_clock",
		 "a timed run took %llu ns, under %d steps of CLOCK_MONOTONIC (%llu ns, clocksource %s)",
		 (unsigned long long)r->shortest_ns, CLOCK_STEPS_PER_TIMING,
		 (unsigned long long)step, bench_clock_source());
}

void repeat_end(struct repeat *r, struct result *res, bool latency)
{
	size_t n = r->done;
	double bytes_per_page = (double)res->page_size;
	double gb[64];
	size_t i;

	res->repeats = r->done;
	res->budget_cut = r->done < r->want;
	res->seconds = (double)(bench_now_ns() - r->start_ns) / 1e9;
	for (i = 0; i < n; i++)
		gb[i] = r->rate[i] * bytes_per_page / 1e9;
	res->pages_per_s = spread_of(r->rate, n);
	res->gb_per_s = spread_of(gb, n);
	if (!latency) {
		check_resolution(r, res);
		return;
	}
	res->p50 = spread_of(r->p50, n);
	res->p90 = spread_of(r->p90, n);
	res->p99 = spread_of(r->p99, n);
}
