// SPDX-License-Identifier: GPL-2.0
/* uffd-bench: the human summary (medians over repeats, with the spread). */
#include <math.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "bench.h"

/* "12.3us", "1.20ms": latencies from nanoseconds. */
static const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%.2fms", ns / 1e6);
	return buf;
}

/* "612k", "1.25M": counts per second. */
static const char *fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.0fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static const char *fmt_x(char *buf, size_t len, double x)
{
	if (isnan(x))
		snprintf(buf, len, "-");
	else if (x < 0.01)
		snprintf(buf, len, "<0.01x");
	else
		snprintf(buf, len, x < 1 ? "%.2fx" : "%.1fx", x);
	return buf;
}

/* Not measured or failed: the op and the reason, on one line. */
static bool print_unmeasured(enum op_id op, const struct result *r)
{
	if (r->status == RES_MEASURED)
		return false;
	printf("  %-17s %s: %s\n", op_table[op].name,
	       r->status == RES_FAILED ? "FAILED" : "not measured", r->why);
	return true;
}

static void print_latency(enum op_id op, const struct result *r)
{
	char a[16], b[16], c[16], x[16];

	if (print_unmeasured(op, r))
		return;
	printf("  %-17s %8s %8s %8s %8s %5.0f%%%s\n", op_table[op].name,
	       fmt_ns(a, sizeof(a), r->p50.median),
	       fmt_ns(b, sizeof(b), r->p90.median),
	       fmt_ns(c, sizeof(c), r->p99.median),
	       fmt_x(x, sizeof(x), r->x_touch), 100 * spread_rel(&r->p50),
	       r->budget_cut ? " (budget)" : "");
}

static void print_throughput(enum op_id op, const struct result *r)
{
	char a[16], x1[16], x2[16], gb[16];

	if (print_unmeasured(op, r))
		return;
	if (op == OP_WP_ASYNC_SCAN)
		snprintf(gb, sizeof(gb), "-");
	else
		snprintf(gb, sizeof(gb), "%.2f", r->gb_per_s.median);
	printf("  %-17s %8s %8s %8s %8s %5.0f%%%s\n", op_table[op].name,
	       fmt_rate(a, sizeof(a), r->pages_per_s.median), gb,
	       fmt_x(x1, sizeof(x1), r->x_memcpy),
	       fmt_x(x2, sizeof(x2), r->x_touch),
	       100 * spread_rel(&r->pages_per_s),
	       r->budget_cut ? " (budget)" : "");
}

static void print_floors(const struct type_result *t)
{
	const struct result *touch = &t->op[OP_TOUCH], *cp = &t->op[OP_MEMCPY];
	char a[16], b[16], c[16];

	if (!print_unmeasured(OP_TOUCH, touch))
		printf("  floor touch       p50 %s p99 %s, %s pages/s\n",
		       fmt_ns(a, sizeof(a), touch->p50.median),
		       fmt_ns(b, sizeof(b), touch->p99.median),
		       fmt_rate(c, sizeof(c), touch->pages_per_s.median));
	if (!print_unmeasured(OP_MEMCPY, cp))
		printf("  floor memcpy      %s pages/s, %.2f GB/s\n",
		       fmt_rate(a, sizeof(a), cp->pages_per_s.median),
		       cp->gb_per_s.median);
}

static bool any_of(const struct options *o, enum op_kind kind)
{
	int i;

	for (i = 0; i < OP_NR; i++)
		if (o->op_sel[i] && op_table[i].kind == kind)
			return true;
	return false;
}

static void print_type(const struct options *o, const struct type_result *t)
{
	int i;

	printf("\n%s, %zu KiB pages", mem_type_name(t->mem),
	       t->page_size / 1024);
	if (t->status != RES_MEASURED) {
		printf(": not measured: %s\n", t->why);
		return;
	}
	printf(" (%.1f s)\n", t->seconds);
	print_floors(t);
	if (any_of(o, KIND_LATENCY))
		printf("  %-17s %8s %8s %8s %8s %6s\n", "fault round trip",
		       "p50", "p90", "p99", "x touch", "spread");
	for (i = 0; i < OP_NR; i++)
		if (o->op_sel[i] && op_table[i].kind == KIND_LATENCY)
			print_latency(i, &t->op[i]);
	if (any_of(o, KIND_THROUGHPUT))
		printf("  %-17s %8s %8s %8s %8s %6s\n", "throughput",
		       "pages/s", "GB/s", "x memcpy", "x touch", "spread");
	for (i = 0; i < OP_NR; i++)
		if (o->op_sel[i] && op_table[i].kind == KIND_THROUGHPUT)
			print_throughput(i, &t->op[i]);
}

void render_text(const struct options *o, const struct run_info *info,
		 const struct type_result *types)
{
	struct utsname u;
	int m;

	uname(&u);
	printf("uffd-bench %s: Linux %s %s, features 0x%llx\n", BENCH_VERSION,
	       u.release, u.machine, (unsigned long long)info->features);
	printf("medians of %u repeats (spread = (max-min)/median), %zu page(s) per ioctl%s\n",
	       o->repeats, o->batch, o->quick ? ", quick" : "");
	if (o->cpu_vcpu >= 0)
		printf("faulting thread on CPU %d, fault thread on CPU %d (%s)\n",
		       o->cpu_vcpu, o->cpu_servicer,
		       placement_name(o->placement));
	else
		printf("threads not pinned (any)\n");
	printf("x touch / x memcpy: time per fault or page over the plain-fault and memcpy floors\n");
	printf("clock: %s, %llu ns steps\n", bench_clock_source(),
	       (unsigned long long)bench_clock_step_ns());
	if (info->huge_note[0])
		printf("huge pages: %s\n", info->huge_note);
	for (m = 0; m < MEM_TYPE_NR; m++)
		if (types[m].selected)
			print_type(o, &types[m]);
	printf("\n%.1f s, exit %d\n", info->seconds, info->exit_code);
}
