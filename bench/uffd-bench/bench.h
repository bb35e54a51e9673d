/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-bench: how fast this kernel resolves userfaultfd faults, per memory
 * type, beside the floors (memcpy, a plain page fault) on the same machine.
 *
 * Every measurement verifies what it did (bytes landed, faults resolved,
 * pages poisoned or protected) before its numbers are reported: a failed
 * verification makes the entry "failed", never a number.
 */
#ifndef UFFD_BENCH_H
#define UFFD_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "uffd.h"

#define BENCH_VERSION		"0.1.0"
#define BENCH_SCHEMA_VERSION	1

/* Exit codes. */
#define BENCH_EXIT_OK		0	/* everything selected was measured or said why not */
#define BENCH_EXIT_FAILED	1	/* a verification (or an ioctl) failed */
#define BENCH_EXIT_USAGE	2	/* bad options, or nothing can run here */

/* Every measurement, in the order it runs and is reported. */
enum op_id {
	/* floors: no userfaultfd */
	OP_TOUCH,
	OP_MEMCPY,
	/* fault round trip */
	OP_LAT_MISSING_COPY,
	OP_LAT_MISSING_ZEROPAGE,
	OP_LAT_MINOR_CONTINUE,
	OP_LAT_WP_UNPROTECT,
	OP_LAT_MISSING_MOVE,
	/* throughput of one ioctl kind */
	OP_COPY,
	OP_ZEROPAGE,
	OP_CONTINUE,
	OP_MOVE,
	OP_POISON,
	OP_WRITEPROTECT,
	OP_UNPROTECT,
	OP_WP_ASYNC_SCAN,
	OP_NR,
};

enum op_kind { KIND_FLOOR, KIND_LATENCY, KIND_THROUGHPUT };

/* Register modes are uint64_t; the fault a latency op provokes. */
enum op_fault { FAULT_NONE, FAULT_READ, FAULT_WRITE };

struct op_desc {
	const char *name;	/* --only name and JSON "op" */
	enum op_kind kind;
	uint64_t mode;		/* register mode (0: none) */
	unsigned int ioctl;	/* _UFFDIO_* bit REGISTER must offer (0: none) */
	uint64_t extra;		/* features needed beside the mode's own */
	enum op_fault fault;	/* latency ops: the access that faults */
	const char *what;	/* one line for --help and the README */
};

extern const struct op_desc op_table[OP_NR];
bool op_by_name(const char *name, enum op_id *id);

enum res_status { RES_MEASURED, RES_NOT_MEASURED, RES_FAILED };

/* min / median / max over the repeats of one figure. */
struct spread {
	double min, median, max;
};

/* The outcome of one measurement on one memory type. */
struct result {
	enum res_status status;
	const char *cause;	/* not measured / failed: a short code */
	char why[256];		/* ... and the human reason */
	unsigned int repeats;
	bool budget_cut;	/* fewer repeats than asked: time budget */
	size_t page_size;
	size_t pages;		/* pages per repeat (throughput, floors) */
	size_t batch;		/* pages per ioctl / memcpy call */
	size_t faults;		/* faults per repeat (latency, touch) */
	struct spread p50, p90, p99;		/* ns, latency ops and touch */
	struct spread pages_per_s, gb_per_s;	/* throughput ops, floors */
	double x_touch, x_memcpy;	/* overhead over the floors, or NAN */
	double seconds;		/* wall time spent on this measurement */
};

struct type_result {
	enum mem_type mem;
	bool selected;
	enum res_status status;	/* NOT_MEASURED: nothing could run (why) */
	const char *cause;
	char why[256];
	size_t page_size;
	double seconds;
	struct result op[OP_NR];
};

/* Where the vCPU and the fault-servicing threads run. */
enum placement { PLACE_SPLIT, PLACE_SAME, PLACE_ANY };
const char *placement_name(enum placement p);
bool placement_by_name(const char *name, enum placement *p);

/* What the user asked for. */
struct options {
	bool json;
	bool quick;
	bool mem_sel[MEM_TYPE_NR];
	bool op_sel[OP_NR];		/* floors are always selected */
	unsigned int repeats;
	size_t batch;			/* pages per ioctl */
	size_t faults;			/* per latency repeat, 4 KiB types */
	size_t huge_faults;		/* per latency repeat, hugetlb */
	size_t pages;			/* per throughput repeat, 4 KiB types */
	size_t huge_pages;		/* per throughput repeat, hugetlb */
	double budget_s;		/* per memory type */
	enum placement placement;
	bool placement_given;
	int cpu_vcpu, cpu_servicer;	/* -1: not pinned */
};

struct run_info {
	uint64_t features, ioctls;	/* what UFFDIO_API reported */
	long huge_wanted, huge_free;	/* after hugetlb_reserve() */
	size_t huge_page_size;
	char huge_note[160];
	double seconds;
	int exit_code;
};

/*
 * The ioctls measured go through this table. It holds the library's
 * wrappers; only the self-test replaces entries (with liars) to prove that
 * verification catches an ioctl that reports success and does nothing.
 */
struct bench_io {
	int (*copy)(int fd, struct uffdio_copy *arg);
	int (*zeropage)(int fd, struct uffdio_zeropage *arg);
	int (*cont)(int fd, struct uffdio_continue *arg);
	int (*move)(int fd, struct uffdio_move *arg);
	int (*poison)(int fd, struct uffdio_poison *arg);
	int (*writeprotect)(int fd, struct uffdio_writeprotect *arg);
	/* PAGEMAP_SCAN on an open /proc/self/pagemap: regions or -errno. */
	int (*scan)(int pagemap_fd, struct pm_scan_arg *arg);
};
extern struct bench_io bench_io;
/* How long a faulting thread may make no progress before it counts as hung. */
extern int bench_stall_timeout_ms;

/* ---- time and statistics (stats.c) ---- */
uint64_t bench_now_ns(void);
/* Nearest-rank percentile of @n sorted values. */
uint64_t pct_sorted(const uint64_t *sorted, size_t n, double pct);
void sort_u64(uint64_t *v, size_t n);
/* min / median / max of @n values (the array is reordered). */
struct spread spread_of(double *v, size_t n);
/* (max - min) / median, 0 when the median is 0. */
double spread_rel(const struct spread *s);

/*
 * The clock's smallest step, measured once (a guest without a good
 * clocksource ticks in jiffies: 4 ms steps). A figure needs its timed
 * interval to span many steps; one fault needs a step under 1 us.
 */
#define CLOCK_MAX_STEP_FOR_FAULTS_NS	1000
#define CLOCK_STEPS_PER_TIMING		50
uint64_t bench_clock_step_ns(void);
/* /sys/.../current_clocksource ("tsc"), or "unknown". */
const char *bench_clock_source(void);
/* Whether one fault can be timed; if not, @r is not measured (why). */
bool clock_times_faults(struct result *r);

/* ---- the repeat loop shared by every measurement (stats.c) ---- */
struct repeat {
	unsigned int want, done;
	uint64_t start_ns, share_ns;
	uint64_t shortest_ns;		/* shortest timed interval recorded */
	double rate[64];		/* pages per second, per repeat */
	double p50[64], p90[64], p99[64];
};
void repeat_begin(struct repeat *r, unsigned int want, double share_s);
/* True while another repeat should run (at least one always does). */
bool repeat_more(const struct repeat *r);
/* Record a repeat that did @pages pages in @ns timed nanoseconds. */
void repeat_record(struct repeat *r, size_t pages, uint64_t ns);
/*
 * Fill @res from the repeats (rate, GB/s, percentiles as recorded). A
 * timed interval too short for the clock makes @res not measured.
 */
void repeat_end(struct repeat *r, struct result *res, bool latency);

/* ---- results (result.c) ---- */
void res_skip(struct result *r, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void res_fail(struct result *r, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *res_status_name(enum res_status s);
/* @ok, or @r fails with cause "verify_failed" and "@what: @why". */
bool res_verify(struct result *r, bool ok, const char *what, const char *why);

/* ---- requirements: why an op cannot run on a type (gate.c) ---- */
/* Features the op needs on @mem; false (and @r says why) when n/a. */
bool gate_features(enum op_id op, enum mem_type mem, uint64_t have,
		   uint64_t *need, struct result *r);
/*
 * Open a uffd with @features and register @mode on [addr, addr+len);
 * checks REGISTER offered the op's ioctl. Returns the fd, or -1 with @r
 * saying why (not measured, or failed when the kernel contradicts itself).
 */
int gate_open_register(enum op_id op, enum mem_type mem, uint64_t features,
		       void *addr, size_t len, struct result *r);
/* Map @npages of @mem (no THP for 4 KiB types), or -1 with @r saying why. */
int bench_alloc(struct mem_area *area, enum mem_type mem, size_t npages,
		struct result *r);

/* ---- measurements ---- */
struct bench_cfg {
	enum mem_type mem;
	uint64_t features;		/* what the kernel reports */
	unsigned int repeats;
	size_t batch;
	size_t faults;			/* latency faults per repeat */
	size_t pages;			/* throughput pages per repeat */
	double share_s;			/* time share of one measurement */
};

void measure_floor(enum op_id op, const struct bench_cfg *cfg,
		   struct result *r);
void measure_latency(enum op_id op, const struct bench_cfg *cfg,
		     struct result *r);
void measure_throughput(enum op_id op, const struct bench_cfg *cfg,
			struct result *r);
void measure_wp_async(const struct bench_cfg *cfg, struct result *r);
/* x_touch / x_memcpy of every measured op from the floors. */
void bench_ratios(struct type_result *t);

/* ---- renderers ---- */
void render_text(const struct options *o, const struct run_info *info,
		 const struct type_result *types);
void render_json(const struct options *o, const struct run_info *info,
		 const struct type_result *types);

#endif /* UFFD_BENCH_H */
