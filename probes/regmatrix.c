// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: which register modes each memory type accepts, and the
 * ioctl mask REGISTER returns for it.
 *
 * Nothing is populated: REGISTER only looks at the vma. Huge page
 * mappings use MAP_NORESERVE so no huge page is needed or reserved and
 * nr_hugepages is never touched.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "probe.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0x4000
#endif

const uint64_t reg_modes[REG_MODE_NR] = {
	UFFDIO_REGISTER_MODE_MISSING,
	UFFDIO_REGISTER_MODE_WP,
	UFFDIO_REGISTER_MODE_MINOR,
	UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR,
	UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR,
	UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP |
		UFFDIO_REGISTER_MODE_MINOR,
};

const char *reg_mode_name(uint64_t mode)
{
	static const char *const names[8] = {
		"", "MISSING", "WP", "MISSING|WP", "MINOR", "MISSING|MINOR",
		"WP|MINOR", "MISSING|WP|MINOR",
	};

	return mode < 8 ? names[mode] : "?";
}

struct mapping {
	void *addr;
	size_t len;
};

/*
 * The feature the kernel reports when @mode works on @mem; 0 when the
 * combination is not defined (MINOR on anon memory).
 */
static uint64_t mode_feature(enum mem_type mem, uint64_t mode)
{
	bool huge = mem_is_hugetlb(mem);

	switch (mode) {
	case UFFDIO_REGISTER_MODE_MISSING:
		return mem == MEM_ANON ? 0 : huge ?
			UFFD_FEATURE_MISSING_HUGETLBFS :
			UFFD_FEATURE_MISSING_SHMEM;
	case UFFDIO_REGISTER_MODE_WP:
		return mem == MEM_ANON ? UFFD_FEATURE_PAGEFAULT_FLAG_WP :
			UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
	case UFFDIO_REGISTER_MODE_MINOR:
		return mem == MEM_ANON ? 0 : huge ?
			UFFD_FEATURE_MINOR_HUGETLBFS :
			UFFD_FEATURE_MINOR_SHMEM;
	}
	return 0;
}

static void explain_refusal(const struct probe *p, enum mem_type mem,
			    uint64_t mode, int err, struct verdict *v)
{
	uint64_t bit;
	unsigned int i;

	for (bit = 1; bit <= UFFDIO_REGISTER_MODE_MINOR; bit <<= 1) {
		uint64_t f;

		if (!(mode & bit))
			continue;
		if (mem == MEM_ANON && bit == UFFDIO_REGISTER_MODE_MINOR) {
			verdict_set(v, TRI_NO, err, "not_applicable",
				    "MINOR faults are not defined for anonymous memory");
			return;
		}
		f = mode_feature(mem, bit);
		if (f && !(p->features & f)) {
			char cause[REASON_LEN - 64];

			i = (unsigned int)__builtin_ctzll(f);
			feature_absence(p, i, cause, sizeof(cause));
			verdict_set(v, TRI_NO, err, "no_feature",
				    "kernel does not report UFFD_FEATURE_%s (%s)",
				    uffd_feature_name(i), cause);
			return;
		}
	}
	verdict_set(v, TRI_NO, err, "refused", "REGISTER %s on %s: %s",
		    reg_mode_name(mode), mem_type_name(mem), strerror(err));
}

static void probe_one(struct probe *p, enum mem_type mem,
		      const struct mapping *m)
{
	int i;

	for (i = 0; i < REG_MODE_NR; i++) {
		struct reg_result *r = &p->reg[mem][i];
		uint64_t ioctls = 0;
		int ret;

		r->mode = reg_modes[i];
		ret = uffd_register_range(p->work_fd, m->addr, m->len,
					  r->mode, &ioctls);
		if (ret) {
			explain_refusal(p, mem, r->mode, -ret, &r->v);
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
	for (i = 0; i < REG_MODE_NR; i++) {
		p->reg[mem][i].mode = reg_modes[i];
		verdict_set(&p->reg[mem][i].v, TRI_UNKNOWN, err, cause,
			    "%s could not be tested: %s", mem_type_name(mem),
			    why);
	}
}

static bool map_type(struct probe *p, enum mem_type mem, int fd, size_t len,
		     struct mapping *m)
{
	int flags = MAP_NORESERVE, err;
	char why[REASON_LEN];

	flags |= mem_is_shared(mem) ? MAP_SHARED : MAP_PRIVATE;
	if (mem == MEM_ANON)
		flags |= MAP_ANONYMOUS;
	m->len = len;
	m->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (m->addr != MAP_FAILED) {
		verdict_set(&p->mem[mem], TRI_YES, 0, "ok",
			    "one %zu KiB page mapped, nothing populated",
			    len >> 10);
		p->mem_page[mem] = len;
		return true;
	}
	err = errno;
	m->addr = NULL;
	snprintf(why, sizeof(why), "mmap: %s", strerror(err));
	mem_unknown(p, mem, err, "no_mapping", why);
	return false;
}

/* A memfd of one page; returns the fd or -1 after marking both types. */
static int make_memfd(struct probe *p, bool huge, size_t *len)
{
	enum mem_type a = huge ? MEM_HUGETLB : MEM_SHMEM;
	enum mem_type b = huge ? MEM_HUGETLB_PRIVATE : MEM_SHMEM_PRIVATE;
	char why[REASON_LEN];
	struct statfs sfs;
	int fd, err;

	fd = memfd_create("uffd-probe", MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
	if (fd < 0) {
		err = errno;
		snprintf(why, sizeof(why), "memfd_create(%s): %s%s",
			 huge ? "MFD_HUGETLB" : "0", strerror(err),
			 huge ? " (no hugetlbfs or no huge page size)" : "");
		goto fail;
	}
	*len = (size_t)sysconf(_SC_PAGESIZE);
	/* hugetlbfs reports its page size as the block size. */
	if (huge && !fstatfs(fd, &sfs))
		*len = (size_t)sfs.f_bsize;
	if (ftruncate(fd, (off_t)*len) == 0)
		return fd;
	err = errno;
	snprintf(why, sizeof(why), "ftruncate memfd: %s", strerror(err));
	close(fd);
fail:
	mem_unknown(p, a, err, "no_mapping", why);
	mem_unknown(p, b, err, "no_mapping", why);
	return -1;
}

void probe_register(struct probe *p)
{
	struct mapping maps[MEM_TYPE_NR] = { 0 };
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	int fds[2], t, huge;

	if (p->work_fd < 0) {
		for (t = 0; t < MEM_TYPE_NR; t++)
			mem_unknown(p, t, 0, "no_fd",
				    "no userfaultfd with a working API handshake");
		return;
	}
	if (map_type(p, MEM_ANON, -1, len, &maps[MEM_ANON]))
		probe_one(p, MEM_ANON, &maps[MEM_ANON]);
	for (huge = 0; huge < 2; huge++) {
		enum mem_type sh = huge ? MEM_HUGETLB : MEM_SHMEM;
		enum mem_type pr = huge ? MEM_HUGETLB_PRIVATE :
					  MEM_SHMEM_PRIVATE;

		fds[huge] = make_memfd(p, huge, &len);
		if (fds[huge] < 0)
			continue;
		if (map_type(p, sh, fds[huge], len, &maps[sh]))
			probe_one(p, sh, &maps[sh]);
		if (map_type(p, pr, fds[huge], len, &maps[pr]))
			probe_one(p, pr, &maps[pr]);
		close(fds[huge]);
	}
	for (t = 0; t < MEM_TYPE_NR; t++)
		if (maps[t].addr)
			munmap(maps[t].addr, maps[t].len);
}
