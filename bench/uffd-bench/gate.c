// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: the measurements, and why one cannot run on a memory type.
 * Every reason comes from what the kernel reports (a feature bit it does
 * not list, a REGISTER it refuses, an ioctl REGISTER does not offer),
 * never from its version number.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "require.h"

#define MISSING		UFFDIO_REGISTER_MODE_MISSING
#define WP		UFFDIO_REGISTER_MODE_WP
#define MINOR		UFFDIO_REGISTER_MODE_MINOR

const struct op_desc op_table[OP_NR] = {
	[OP_TOUCH] = { "touch", KIND_FLOOR, 0, 0, 0, FAULT_WRITE,
		"floor: first write to a missing page, no userfaultfd" },
	[OP_MEMCPY] = { "memcpy", KIND_FLOOR, 0, 0, 0, FAULT_NONE,
		"floor: memcpy of the same bytes into present pages" },
	[OP_LAT_MISSING_COPY] = { "missing_copy", KIND_LATENCY, MISSING,
		_UFFDIO_COPY, 0, FAULT_READ,
		"read fault on a hole, resolved with UFFDIO_COPY" },
	[OP_LAT_MISSING_ZEROPAGE] = { "missing_zeropage", KIND_LATENCY,
		MISSING, _UFFDIO_ZEROPAGE, 0, FAULT_READ,
		"read fault on a hole, resolved with UFFDIO_ZEROPAGE" },
	[OP_LAT_MINOR_CONTINUE] = { "minor_continue", KIND_LATENCY, MINOR,
		_UFFDIO_CONTINUE, 0, FAULT_READ,
		"read fault on a page cached but not mapped, resolved with UFFDIO_CONTINUE" },
	[OP_LAT_WP_UNPROTECT] = { "wp_unprotect", KIND_LATENCY, WP,
		_UFFDIO_WRITEPROTECT, 0, FAULT_WRITE,
		"write fault on a protected page, resolved by un-protecting it" },
	[OP_LAT_MISSING_MOVE] = { "missing_move", KIND_LATENCY, MISSING,
		_UFFDIO_MOVE, UFFD_FEATURE_MOVE, FAULT_READ,
		"read fault on a hole, resolved with UFFDIO_MOVE of a prepared page" },
	[OP_COPY] = { "copy", KIND_THROUGHPUT, MISSING, _UFFDIO_COPY, 0,
		FAULT_NONE, "UFFDIO_COPY into holes" },
	[OP_ZEROPAGE] = { "zeropage", KIND_THROUGHPUT, MISSING,
		_UFFDIO_ZEROPAGE, 0, FAULT_NONE, "UFFDIO_ZEROPAGE into holes" },
	[OP_CONTINUE] = { "continue", KIND_THROUGHPUT, MINOR,
		_UFFDIO_CONTINUE, 0, FAULT_NONE,
		"UFFDIO_CONTINUE of cached, unmapped pages" },
	[OP_MOVE] = { "move", KIND_THROUGHPUT, MISSING, _UFFDIO_MOVE,
		UFFD_FEATURE_MOVE, FAULT_NONE,
		"UFFDIO_MOVE of present pages into holes" },
	[OP_POISON] = { "poison", KIND_THROUGHPUT, MISSING, _UFFDIO_POISON,
		UFFD_FEATURE_POISON, FAULT_NONE, "UFFDIO_POISON of holes" },
	[OP_WRITEPROTECT] = { "writeprotect", KIND_THROUGHPUT, WP,
		_UFFDIO_WRITEPROTECT, 0, FAULT_NONE,
		"UFFDIO_WRITEPROTECT (protect) of present pages" },
	[OP_UNPROTECT] = { "unprotect", KIND_THROUGHPUT, WP,
		_UFFDIO_WRITEPROTECT, 0, FAULT_NONE,
		"UFFDIO_WRITEPROTECT (un-protect) of protected pages" },
	[OP_WP_ASYNC_SCAN] = { "wp_async_scan", KIND_THROUGHPUT, WP,
		_UFFDIO_WRITEPROTECT, UFFD_FEATURE_WP_ASYNC, FAULT_NONE,
		"PAGEMAP_SCAN of WP_ASYNC pages for written ones (pages scanned)" },
};

bool op_by_name(const char *name, enum op_id *id)
{
	int i;

	for (i = 0; i < OP_NR; i++) {
		if (!strcasecmp(name, op_table[i].name)) {
			*id = i;
			return true;
		}
	}
	return false;
}

static const char *const placement_names[] = {
	[PLACE_SPLIT] = "split", [PLACE_SAME] = "same", [PLACE_ANY] = "any",
};

const char *placement_name(enum placement p)
{
	return placement_names[p];
}

bool placement_by_name(const char *name, enum placement *p)
{
	unsigned int i;

	for (i = 0; i < sizeof(placement_names) / sizeof(placement_names[0]); i++) {
		if (!strcmp(name, placement_names[i])) {
			*p = i;
			return true;
		}
	}
	return false;
}

static void res_set(struct result *r, enum res_status st, const char *cause,
		    const char *fmt, va_list ap)
{
	r->status = st;
	r->cause = cause;
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
}

void res_skip(struct result *r, const char *cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	res_set(r, RES_NOT_MEASURED, cause, fmt, ap);
	va_end(ap);
}

void res_fail(struct result *r, const char *cause, const char *fmt, ...)
{
	va_list ap;

	/* The first failure is the one worth reading. */
	if (r->status == RES_FAILED)
		return;
	va_start(ap, fmt);
	res_set(r, RES_FAILED, cause, fmt, ap);
	va_end(ap);
}

bool res_verify(struct result *r, bool ok, const char *what, const char *why)
{
	if (!ok)
		res_fail(r, "verify_failed", "%s: %s", what, why);
	return ok;
}

const char *res_status_name(enum res_status s)
{
	switch (s) {
	case RES_MEASURED:	return "measured";
	case RES_NOT_MEASURED:	return "not_measured";
	default:		return "failed";
	}
}

bool gate_features(enum op_id op, enum mem_type mem, uint64_t have,
		   uint64_t *need, struct result *r)
{
	const struct op_desc *d = &op_table[op];
	const char *lack;

	*need = 0;
	if (!d->mode)
		return true;
	if (!mem_mode_applies(mem, d->mode)) {
		res_skip(r, "not_applicable", "%s faults are not defined for %s",
			 uffd_mode_name(d->mode), mem_type_info(mem)->what);
		return false;
	}
	*need = mem_mode_needs(mem, d->mode) | d->extra;
	lack = fl_lack_reason(MASK_FEATURES, have, *need);
	if (lack) {
		res_skip(r, "no_feature", "%s", lack);
		return false;
	}
	return true;
}

int gate_open_register(enum op_id op, enum mem_type mem, uint64_t features,
		       void *addr, size_t len, struct result *r)
{
	const struct op_desc *d = &op_table[op];
	struct uffdio_api api;
	uint64_t ioctls = 0;
	int fd, ret;

	fd = uffd_open(features, &api);
	if (fd < 0) {
		/* The features were reported: a refusal now is the kernel's. */
		res_fail(r, "api_refused", "UFFDIO_API with %s: %s",
			 fl_feature_list(features), strerror(-fd));
		return -1;
	}
	if ((api.features & features) != features) {
		res_fail(r, "api_refused", "UFFDIO_API did not enable %s",
			 fl_feature_list(features & ~api.features));
		close(fd);
		return -1;
	}
	ret = uffd_register_range(fd, addr, len, d->mode, &ioctls);
	if (ret) {
		res_skip(r, "register_refused", "REGISTER %s on %s: %s",
			 uffd_mode_name(d->mode), mem_type_name(mem),
			 strerror(-ret));
		close(fd);
		return -1;
	}
	if (d->ioctl && !(ioctls & (1ull << d->ioctl))) {
		res_skip(r, "not_offered",
			 "REGISTER %s on %s does not offer UFFDIO_%s",
			 uffd_mode_name(d->mode), mem_type_name(mem),
			 uffd_ioctl_name(d->ioctl));
		close(fd);
		return -1;
	}
	return fd;
}

int bench_alloc(struct mem_area *area, enum mem_type mem, size_t npages,
		struct result *r)
{
	char why[200];
	int ret = mem_alloc(area, mem, npages, why, sizeof(why));

	if (ret) {
		res_skip(r, mem_is_hugetlb(mem) ? "no_huge_pages" : "no_memory",
			 "%s", why);
		return -1;
	}
	/*
	 * 4 KiB figures must stay 4 KiB: with THP "always" a first touch
	 * could map 2 MiB at once and the floor would mean something else.
	 */
	if (!mem_is_hugetlb(mem)) {
		madvise(area->addr, area->len, MADV_NOHUGEPAGE);
		if (area->alias)
			madvise(area->alias, area->len, MADV_NOHUGEPAGE);
	}
	return 0;
}
