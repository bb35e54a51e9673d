// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: which register modes each memory type accepts, and the
 * ioctl mask REGISTER returns for it.
 *
 * Nothing is populated: REGISTER only looks at the vma. The library maps
 * each type with MEM_NORESERVE, so no huge page is needed or reserved and
 * nr_hugepages is never touched.
 */
#include <stdio.h>
#include <string.h>

#include "probe.h"

int reg_mode_count(void)
{
	return (1 << uffd_mode_count) - 1;
}

/*
 * The i-th combination of the table's mode bits: by number of modes,
 * then by value (MISSING, WP, MINOR, MISSING|WP, ...).
 */
uint64_t reg_mode(int i)
{
	uint64_t all = uffd_known_modes(), mode;
	int k;

	for (k = 1; k <= (int)uffd_mode_count; k++)
		for (mode = 1; mode <= all; mode++)
			if ((mode & all) == mode &&
			    __builtin_popcountll(mode) == k && i-- == 0)
				return mode;
	return 0;
}

static void explain_refusal(const struct probe *p, enum mem_type mem,
			    uint64_t mode, int err, struct verdict *v)
{
	const struct mem_type_info *t = mem_type_info(mem);
	uint64_t lack;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(mode & UFFD_BIT(bit)))
			continue;
		if (!mem_mode_applies(mem, UFFD_BIT(bit))) {
			verdict_set(v, TRI_NO, err, "not_applicable",
				    "%s faults are not defined for %s",
				    uffd_mode_name(UFFD_BIT(bit)), t->what);
			return;
		}
		lack = mem_mode_needs(mem, UFFD_BIT(bit)) & ~p->features;
		if (lack) {
			/* The lowest missing bit is the prerequisite. */
			unsigned int first = __builtin_ctzll(lack);
			char cause[REASON_LEN - 64];

			feature_absence(p, first, cause, sizeof(cause));
			verdict_set(v, TRI_NO, err, "no_feature",
				    "kernel does not report UFFD_FEATURE_%s (%s)",
				    uffd_feature_name(first), cause);
			return;
		}
	}
	verdict_set(v, TRI_NO, err, "refused", "REGISTER %s on %s: %s",
		    uffd_mode_name(mode), mem_type_name(mem), strerror(err));
}

static void probe_one(struct probe *p, const struct mem_area *m)
{
	int i;

	for (i = 0; i < reg_mode_count(); i++) {
		struct reg_result *r = &p->reg[m->type][i];
		uint64_t ioctls = 0;
		int ret;

		r->mode = reg_mode(i);
		ret = uffd_register_range(p->work_fd, m->addr, m->len,
					  r->mode, &ioctls);
		if (ret) {
			explain_refusal(p, m->type, r->mode, -ret, &r->v);
			continue;
		}
		r->ioctls = ioctls;
		ret = uffd_unregister_range(p->work_fd, m->addr, m->len);
		verdict_set(&r->v, TRI_YES, 0, "ok", "%s",
			    ret ? "accepted, but UNREGISTER failed" : "accepted");
	}
}

static void mem_unknown(struct probe *p, enum mem_type mem, int err,
			const char *cause, const char *why)
{
	int i;

	/* Without an fd the memory was not even tried. */
	verdict_set(&p->mem[mem], strcmp(cause, "no_fd") ? TRI_NO :
		    TRI_UNKNOWN, err, cause, "%s", why);
	for (i = 0; i < reg_mode_count(); i++) {
		p->reg[mem][i].mode = reg_mode(i);
		verdict_set(&p->reg[mem][i].v, TRI_UNKNOWN, err, cause,
			    "%s could not be tested: %s", mem_type_name(mem),
			    why);
	}
}

void probe_register(struct probe *p)
{
	char why[REASON_LEN];
	struct mem_area m;
	int t, ret;

	for (t = 0; t < MEM_TYPE_NR; t++) {
		if (p->work_fd < 0) {
			mem_unknown(p, t, 0, "no_fd",
				    "no userfaultfd with a working API handshake");
			continue;
		}
		ret = mem_map(&m, t, 1, MEM_NORESERVE, why, sizeof(why));
		if (ret) {
			mem_unknown(p, t, -ret, "no_mapping", why);
			continue;
		}
		verdict_set(&p->mem[t], TRI_YES, 0, "ok",
			    "one %zu KiB page mapped, nothing populated",
			    m.len >> 10);
		p->mem_page[t] = m.len;
		probe_one(p, &m);
		mem_free(&m);
	}
}
