// SPDX-License-Identifier: GPL-2.0
/* uffd-bench: options, the run over memory types, exit code. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bench.h"
#include "fault.h"
#include "session.h"

/* Pages a hugetlb measurement may need beside its area (MOVE's probe). */
#define HUGE_SLACK	4

static void usage(FILE *f)
{
	int i;

	fprintf(f,
"usage: uffd-bench [options]\n"
"\n"
"How fast this kernel resolves userfaultfd faults, per memory type, beside\n"
"a plain page fault and memcpy on the same machine. Every figure is\n"
"verified (bytes landed, faults resolved) before it is reported.\n"
"\n"
"  --json            versioned JSON (bench/uffd-bench/schema.json)\n"
"  --quick           small sizes and budget, for CI (well under 1 s a type)\n"
"  --mem LIST        memory types, comma-separated (default all):\n"
"                    anon, shmem, shmem_private, hugetlb, hugetlb_private\n"
"  --only LIST       measurements, comma-separated (default all); also\n"
"                    'latency' and 'throughput'. The floors always run.\n"
"  --repeats N       repeats of each measurement (1-64; default 5, quick 3)\n"
"  --batch N         pages per ioctl in throughput runs (default 1)\n"
"  --faults N        faults per latency repeat (default 1000, quick 200;\n"
"                    hugetlb: N/16, at least 8)\n"
"  --pages N         pages per throughput repeat (default 8192, quick 1024;\n"
"                    hugetlb: N/256, at least 4)\n"
"  --budget SECONDS  time budget per memory type (default 3, quick 0.3);\n"
"                    a measurement stops repeating when its share is used\n"
"  --placement P     split: the fault thread on another CPU than the\n"
"                    faulting thread, as in a VMM (default with 2+ CPUs);\n"
"                    same: one CPU, the kernel's own path; any: unpinned\n"
"  --help            this text\n"
"\n"
"measurements:\n");
	for (i = 0; i < OP_NR; i++)
		fprintf(f, "  %-17s %s\n", op_table[i].name, op_table[i].what);
	fprintf(f,
"\n"
"exit status: 0 measured (or said why not), 1 a verification or an ioctl\n"
"failed, 2 bad usage or no userfaultfd here.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "uffd-bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see uffd-bench --help)\n");
	return BENCH_EXIT_USAGE;
}

static bool parse_size(const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (size_t)v;
	return true;
}

static bool select_mem(struct options *o, char *list, const char **bad)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		enum mem_type t;

		if (!mem_type_by_name(tok, &t)) {
			*bad = tok;
			return false;
		}
		o->mem_sel[t] = true;
	}
	return true;
}

static bool select_ops(struct options *o, char *list, const char **bad)
{
	char *save = NULL, *tok;
	int i;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		enum op_kind group = KIND_FLOOR;
		enum op_id id;

		if (!strcasecmp(tok, "latency"))
			group = KIND_LATENCY;
		else if (!strcasecmp(tok, "throughput"))
			group = KIND_THROUGHPUT;
		else if (!op_by_name(tok, &id)) {
			*bad = tok;
			return false;
		} else {
			o->op_sel[id] = true;
			continue;
		}
		for (i = 0; i < OP_NR; i++)
			if (op_table[i].kind == group)
				o->op_sel[i] = true;
	}
	return true;
}

enum { OPT_JSON = 256, OPT_QUICK, OPT_MEM, OPT_ONLY, OPT_REPEATS,
       OPT_BATCH, OPT_FAULTS, OPT_PAGES, OPT_BUDGET, OPT_PLACEMENT,
       OPT_HELP };

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "repeats", required_argument, NULL, OPT_REPEATS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "faults", required_argument, NULL, OPT_FAULTS },
	{ "pages", required_argument, NULL, OPT_PAGES },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "placement", required_argument, NULL, OPT_PLACEMENT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Sizes not given on the command line come from --quick or the defaults. */
static void apply_defaults(struct options *o, size_t repeats, size_t faults,
			   size_t pages, double budget)
{
	bool any;
	int i;

	if (!o->repeats)
		o->repeats = (unsigned int)(repeats ? repeats : o->quick ? 3 : 5);
	o->faults = faults ? faults : o->quick ? 200 : 1000;
	o->pages = pages ? pages : o->quick ? 1024 : 8192;
	o->huge_faults = o->faults / 16 < 8 ? 8 : o->faults / 16;
	o->huge_pages = o->pages / 256 < 4 ? 4 : o->pages / 256;
	o->budget_s = budget > 0 ? budget : o->quick ? 0.3 : 3.0;
	if (!o->batch)
		o->batch = 1;
	for (any = false, i = 0; i < MEM_TYPE_NR; i++)
		any |= o->mem_sel[i];
	for (i = 0; !any && i < MEM_TYPE_NR; i++)
		o->mem_sel[i] = true;
	for (any = false, i = 0; i < OP_NR; i++)
		any |= o->op_sel[i];
	for (i = 0; i < OP_NR; i++)
		if (!any || op_table[i].kind == KIND_FLOOR)
			o->op_sel[i] = true;
}

/* 0 when the options are good, else the exit code. */
static int parse_options(int argc, char **argv, struct options *o)
{
	size_t repeats = 0, faults = 0, pages = 0;
	double budget = 0;
	const char *bad;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_QUICK:
			o->quick = true;
			break;
		case OPT_MEM:
			if (!select_mem(o, optarg, &bad))
				return bad_usage("unknown memory type '%s' (anon, shmem, shmem_private, hugetlb, hugetlb_private)", bad);
			break;
		case OPT_ONLY:
			if (!select_ops(o, optarg, &bad))
				return bad_usage("unknown measurement '%s' (--help lists them)", bad);
			break;
		case OPT_REPEATS:
			if (!parse_size(optarg, 1, 64, &repeats))
				return bad_usage("--repeats wants 1 to 64, not '%s'", optarg);
			break;
		case OPT_BATCH:
			if (!parse_size(optarg, 1, 1u << 20, &o->batch))
				return bad_usage("--batch wants a page count of 1 or more, not '%s'", optarg);
			break;
		case OPT_FAULTS:
			if (!parse_size(optarg, 1, 1u << 24, &faults))
				return bad_usage("--faults wants 1 to 16777216, not '%s'", optarg);
			break;
		case OPT_PAGES:
			if (!parse_size(optarg, 1, 1u << 22, &pages))
				return bad_usage("--pages wants 1 to 4194304, not '%s'", optarg);
			break;
		case OPT_BUDGET:
			budget = strtod(optarg, &end);
			if (*end || !(budget > 0 && budget <= 3600))
				return bad_usage("--budget wants seconds (0 < s <= 3600), not '%s'", optarg);
			break;
		case OPT_PLACEMENT:
			if (!placement_by_name(optarg, &o->placement))
				return bad_usage("--placement wants split, same or any, not '%s'", optarg);
			o->placement_given = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(BENCH_EXIT_OK);
		default:
			return bad_usage("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	apply_defaults(o, repeats, faults, pages, budget);
	return 0;
}

/*
 * Pin the threads to the first one or two CPUs we may run on: unpinned,
 * the scheduler's choice between one CPU and two changes a round trip
 * several times over (a cross-CPU wake-up is an IPI, dear in a VM).
 */
static int place_threads(struct options *o)
{
	cpu_set_t set;
	int cpu, found = 0, cpus[2] = { -1, -1 };

	o->cpu_vcpu = o->cpu_servicer = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[found++] = cpu;
	if (!o->placement_given)
		o->placement = found >= 2 ? PLACE_SPLIT : PLACE_SAME;
	if (o->placement == PLACE_ANY)
		return 0;
	if (o->placement == PLACE_SPLIT && found < 2) {
		fprintf(stderr, "uffd-bench: --placement split needs two CPUs, this process may use %d\n",
			found);
		return -EINVAL;
	}
	o->cpu_vcpu = cpus[0];
	o->cpu_servicer = o->placement == PLACE_SPLIT ? cpus[1] : cpus[0];
	return session_placement(o->cpu_vcpu, o->cpu_servicer);
}

/* Reserve what the selected hugetlb types need; scale down to what is free. */
static void reserve_huge(struct options *o, struct run_info *info)
{
	long want = 2 * (long)o->huge_pages + HUGE_SLACK;
	long got;

	info->huge_page_size = mem_huge_page_size();
	if (!o->mem_sel[MEM_HUGETLB] && !o->mem_sel[MEM_HUGETLB_PRIVATE])
		return;
	if (!info->huge_page_size) {
		snprintf(info->huge_note, sizeof(info->huge_note),
			 "the kernel has no default huge page size");
		return;
	}
	got = hugetlb_reserve(want);
	info->huge_wanted = want;
	info->huge_free = got;
	if (got >= want)
		return;
	if (got >= 2 + HUGE_SLACK) {
		o->huge_pages = (size_t)(got - HUGE_SLACK) / 2;
		snprintf(info->huge_note, sizeof(info->huge_note),
			 "only %ld of %ld huge pages could be reserved: %zu pages per hugetlb measurement",
			 got, want, o->huge_pages);
	} else {
		snprintf(info->huge_note, sizeof(info->huge_note),
			 "no hugetlb pages could be reserved (%ld free, %ld needed)",
			 got, want);
	}
}

static bool huge_unusable(const struct run_info *info)
{
	return !info->huge_page_size || info->huge_free < 2 + HUGE_SLACK;
}

static void run_measure(enum op_id op, const struct bench_cfg *cfg,
			struct result *r)
{
	r->status = RES_MEASURED;
	if (bench_abandoned) {
		res_fail(r, "not_run",
			 "not run: an earlier measurement left a thread blocked");
		return;
	}
	switch (op_table[op].kind) {
	case KIND_FLOOR:
		measure_floor(op, cfg, r);
		break;
	case KIND_LATENCY:
		measure_latency(op, cfg, r);
		break;
	default:
		measure_throughput(op, cfg, r);
		break;
	}
}

static void run_type(const struct options *o, const struct run_info *info,
		     struct type_result *t)
{
	bool huge = mem_is_hugetlb(t->mem);
	struct bench_cfg cfg = {
		.mem = t->mem, .features = info->features,
		.repeats = o->repeats, .batch = o->batch,
		.faults = huge ? o->huge_faults : o->faults,
		.pages = huge ? o->huge_pages : o->pages,
	};
	uint64_t t0 = bench_now_ns();
	unsigned int n = 0;
	int i;

	t->page_size = mem_page_size(t->mem);
	t->status = RES_MEASURED;
	if (huge && huge_unusable(info)) {
		t->status = RES_NOT_MEASURED;
		t->cause = "no_huge_pages";
		snprintf(t->why, sizeof(t->why), "%s", info->huge_note);
		return;
	}
	for (i = 0; i < OP_NR; i++)
		n += o->op_sel[i];
	for (i = 0; i < OP_NR; i++) {
		double left = o->budget_s - (double)(bench_now_ns() - t0) / 1e9;

		if (!o->op_sel[i])
			continue;
		/*
		 * What is left, shared by what is left: a measurement the
		 * kernel cannot do leaves its share to the others.
		 */
		cfg.share_s = left / n > o->budget_s / (4.0 * n) ?
			left / n : o->budget_s / (4.0 * n);
		run_measure(i, &cfg, &t->op[i]);
		n--;
	}
	bench_ratios(t);
	t->seconds = (double)(bench_now_ns() - t0) / 1e9;
}

static int exit_code(const struct options *o, const struct type_result *types)
{
	int m, i;

	for (m = 0; m < MEM_TYPE_NR; m++)
		for (i = 0; types[m].selected && i < OP_NR; i++)
			if (o->op_sel[i] && types[m].op[i].status == RES_FAILED)
				return BENCH_EXIT_FAILED;
	return BENCH_EXIT_OK;
}

int main(int argc, char **argv)
{
	static struct type_result types[MEM_TYPE_NR];
	struct run_info info = { 0 };
	struct options o;
	uint64_t t0 = bench_now_ns();
	int ret, m;

	ret = parse_options(argc, argv, &o);
	if (ret)
		return ret;
	ret = uffd_query(&info.features, &info.ioctls);
	if (ret) {
		fprintf(stderr, "uffd-bench: no userfaultfd here: %s\n",
			strerror(-ret));
		return BENCH_EXIT_USAGE;
	}
	if (place_threads(&o) == -EINVAL)
		return BENCH_EXIT_USAGE;
	sigbus_catch();
	bench_clock_step_ns();
	reserve_huge(&o, &info);
	for (m = 0; m < MEM_TYPE_NR; m++) {
		types[m].mem = m;
		types[m].selected = o.mem_sel[m];
		if (o.mem_sel[m])
			run_type(&o, &info, &types[m]);
	}
	info.seconds = (double)(bench_now_ns() - t0) / 1e9;
	info.exit_code = exit_code(&o, types);
	if (o.json)
		render_json(&o, &info, types);
	else
		render_text(&o, &info, types);
	fflush(stdout);
	hugetlb_restore();
	/*
	 * The library's exit-time huge page accounting note goes to stdout:
	 * after a JSON document it would make the output unparseable.
	 */
	if (o.json)
		_exit(info.exit_code);
	return info.exit_code;
}
