// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: clocks, percentiles, and the repeat loop every measurement
 * shares (a fixed repeat count, cut short by the measurement's time share).
 */
#include <stdlib.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
}

bool repeat_more(const struct repeat *r)
{
	if (r->done >= r->want)
		return false;
	/* The first repeat always runs: no figure without one. */
	return r->done == 0 || bench_now_ns() - r->start_ns < r->share_ns;
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
	if (!latency)
		return;
	res->p50 = spread_of(r->p50, n);
	res->p90 = spread_of(r->p90, n);
	res->p99 = spread_of(r->p99, n);
}
