// SPDX-License-Identifier: GPL-2.0
/*
 * faultline harness: the userfaultfd domain table (see domain.h). The
 * rows say what the kernel source says (fs/userfaultfd.c,
 * include/linux/userfaultfd_k.h); the functions below only read them.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define F(x)		UFFD_FEATURE_##x

/* In bit order; a bit the kernel reports without a row is "bit N". */
const struct uffd_feature_info uffd_features[] = {
	{ 0, "PAGEFAULT_FLAG_WP", "5.7", "x86-64 first",
	  "CONFIG_HAVE_ARCH_USERFAULTFD_WP",
	  "write-protect mode (REGISTER MODE_WP, UFFDIO_WRITEPROTECT)" },
	{ 1, "EVENT_FORK", "4.11", NULL, NULL,
	  "fork(2) hands the child's uffd to the monitor (needs CAP_SYS_PTRACE)" },
	{ 2, "EVENT_REMAP", "4.11", NULL, NULL,
	  "mremap(2) of a registered range is reported" },
	{ 3, "EVENT_REMOVE", "4.11", NULL, NULL,
	  "MADV_REMOVE and MADV_DONTNEED of a registered range are reported" },
	{ 4, "MISSING_HUGETLBFS", "4.11", NULL, "CONFIG_HUGETLBFS",
	  "MISSING faults on hugetlbfs memory" },
	{ 5, "MISSING_SHMEM", "4.11", NULL, "CONFIG_SHMEM",
	  "MISSING faults on shmem" },
	{ 6, "EVENT_UNMAP", "4.11", NULL, NULL,
	  "munmap(2) of a registered range is reported" },
	{ 7, "SIGBUS", "4.14", NULL, NULL,
	  "a fault raises SIGBUS instead of queueing a message" },
	{ 8, "THREAD_ID", "4.14", NULL, NULL,
	  "the fault message carries the faulting thread's id" },
	{ 9, "MINOR_HUGETLBFS", "5.13", NULL,
	  "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR",
	  "MINOR faults and UFFDIO_CONTINUE on hugetlbfs memory" },
	{ 10, "MINOR_SHMEM", "5.14", NULL,
	  "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR",
	  "MINOR faults and UFFDIO_CONTINUE on shmem" },
	{ 11, "EXACT_ADDRESS", "5.18", NULL, NULL,
	  "the fault address is not masked to the page" },
	{ 12, "WP_HUGETLBFS_SHMEM", "5.19", NULL, "CONFIG_PTE_MARKER_UFFD_WP",
	  "write-protect mode on shmem and hugetlbfs memory" },
	{ 13, "WP_UNPOPULATED", "6.4", NULL, "CONFIG_PTE_MARKER_UFFD_WP",
	  "UFFDIO_WRITEPROTECT also protects unpopulated anonymous pages" },
	{ 14, "POISON", "6.6", NULL, NULL,
	  "UFFDIO_POISON: a later access to the range raises SIGBUS" },
	{ 15, "WP_ASYNC", "6.7", NULL, "CONFIG_PTE_MARKER_UFFD_WP",
	  "write faults resolved by the kernel, read back with PAGEMAP_SCAN" },
	{ 16, "MOVE", "6.8", "64-bit", NULL,
	  "UFFDIO_MOVE: move pages between anonymous ranges" },
};
const size_t uffd_feature_count = ARRAY_LEN(uffd_features);

/* In bit order. */
const struct uffd_ioctl_info uffd_ioctls[] = {
	{ _UFFDIO_REGISTER,	"REGISTER",	"ioctls",	false },
	{ _UFFDIO_UNREGISTER,	"UNREGISTER",	NULL,		false },
	{ _UFFDIO_WAKE,		"WAKE",		NULL,		true },
	{ _UFFDIO_COPY,		"COPY",		"copy",		true },
	{ _UFFDIO_ZEROPAGE,	"ZEROPAGE",	"zeropage",	true },
	{ _UFFDIO_MOVE,		"MOVE",		"move",		true },
	{ _UFFDIO_WRITEPROTECT,	"WRITEPROTECT",	NULL,		true },
	{ _UFFDIO_CONTINUE,	"CONTINUE",	"mapped",	true },
	{ _UFFDIO_POISON,	"POISON",	"updated",	true },
	{ _UFFDIO_API,		"API",		"features",	false },
};
const size_t uffd_ioctl_count = ARRAY_LEN(uffd_ioctls);

/* UFFDIO_REGISTER_MODE_* is 1 << bit. */
const struct uffd_mode_info uffd_modes[] = {
	{ 0, "MISSING" },
	{ 1, "WP" },
	{ 2, "MINOR" },
};
const size_t uffd_mode_count = ARRAY_LEN(uffd_modes);

const struct uffd_path_info uffd_paths[UFFD_PATH_NR] = {
	[UFFD_PATH_SYSCALL]		= { "syscall", "SYSCALL" },
	[UFFD_PATH_SYSCALL_USER_ONLY]	= { "syscall-user-mode-only",
					    "USER_MODE_ONLY" },
	[UFFD_PATH_DEV]			= { "dev-userfaultfd",
					    "DEV_USERFAULTFD" },
};

#define MISSING		0	/* needs[] index of a mode bit */
#define WP		1
#define MINOR		2
/*
 * WP on file memory: REGISTER checks the architecture's uffd-wp first (the
 * condition that masks PAGEFAULT_FLAG_WP), then vma_can_userfault() wants
 * pte markers for any non-anonymous vma (the one that masks
 * WP_HUGETLBFS_SHMEM). Both bits must be reported.
 */
#define WP_FILE		(F(PAGEFAULT_FLAG_WP) | F(WP_HUGETLBFS_SHMEM))
#define ALL_MODES	(UFFDIO_REGISTER_MODE_MISSING |			\
			 UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR)

const struct mem_type_info mem_types[MEM_TYPE_NR] = {
	/* MINOR needs a page cache: vma_can_userfault() refuses anon. */
	[MEM_ANON] = {
		.name = "anon", .what = "anonymous memory",
		.modes = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
		.needs = { [MISSING] = 0, [WP] = F(PAGEFAULT_FLAG_WP) },
	},
	[MEM_SHMEM] = {
		.name = "shmem", .what = "a shared memfd mapping",
		.shared = true, .file = true, .modes = ALL_MODES,
		.needs = { [MISSING] = F(MISSING_SHMEM), [WP] = WP_FILE,
			   [MINOR] = F(MINOR_SHMEM) },
	},
	[MEM_SHMEM_PRIVATE] = {
		.name = "shmem_private", .what = "a private memfd mapping",
		.file = true, .modes = ALL_MODES,
		.needs = { [MISSING] = F(MISSING_SHMEM), [WP] = WP_FILE,
			   [MINOR] = F(MINOR_SHMEM) },
	},
	[MEM_HUGETLB] = {
		.name = "hugetlb", .what = "a shared hugetlb memfd mapping",
		.hugetlb = true, .shared = true, .file = true,
		.modes = ALL_MODES,
		.needs = { [MISSING] = F(MISSING_HUGETLBFS), [WP] = WP_FILE,
			   [MINOR] = F(MINOR_HUGETLBFS) },
	},
	[MEM_HUGETLB_PRIVATE] = {
		.name = "hugetlb_private",
		.what = "a private hugetlb memfd mapping",
		.hugetlb = true, .file = true, .modes = ALL_MODES,
		.needs = { [MISSING] = F(MISSING_HUGETLBFS), [WP] = WP_FILE,
			   [MINOR] = F(MINOR_HUGETLBFS) },
	},
};

/*
 * The three bit tables seen alike: where the rows are, and where a row
 * keeps its bit and its name.
 */
struct bit_table {
	const void *rows;
	const size_t *count;
	size_t size, bit_at, name_at;
};

#define BIT_TABLE(rows, count, type)					\
	{ rows, &count, sizeof(type), offsetof(type, bit),		\
	  offsetof(type, name) }

static const struct bit_table bit_tables[] = {
	[MASK_FEATURES]	= BIT_TABLE(uffd_features, uffd_feature_count,
				    struct uffd_feature_info),
	[MASK_IOCTLS]	= BIT_TABLE(uffd_ioctls, uffd_ioctl_count,
				    struct uffd_ioctl_info),
	[MASK_MODES]	= BIT_TABLE(uffd_modes, uffd_mode_count,
				    struct uffd_mode_info),
};

static const char *row_at(const struct bit_table *t, size_t i)
{
	return (const char *)t->rows + i * t->size;
}

static unsigned int row_bit(const struct bit_table *t, size_t i)
{
	unsigned int bit;

	memcpy(&bit, row_at(t, i) + t->bit_at, sizeof(bit));
	return bit;
}

/* The row of @bit in the @kind table, NULL when it has none. */
static const void *find_row(enum uffd_mask_kind kind, unsigned int bit)
{
	const struct bit_table *t = &bit_tables[kind];
	size_t i;

	for (i = 0; i < *t->count; i++)
		if (row_bit(t, i) == bit)
			return row_at(t, i);
	return NULL;
}

static const char *bit_name(enum uffd_mask_kind kind, unsigned int bit)
{
	const char *row = find_row(kind, bit);
	const char *name = NULL;

	if (row)
		memcpy(&name, row + bit_tables[kind].name_at, sizeof(name));
	return name;
}

const struct uffd_feature_info *uffd_feature_info(unsigned int bit)
{
	return find_row(MASK_FEATURES, bit);
}

const struct uffd_ioctl_info *uffd_ioctl_info(unsigned int bit)
{
	return find_row(MASK_IOCTLS, bit);
}

const struct uffd_mode_info *uffd_mode_info(unsigned int bit)
{
	return find_row(MASK_MODES, bit);
}

uint64_t uffd_known_mask(enum uffd_mask_kind kind)
{
	const struct bit_table *t = &bit_tables[kind];
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < *t->count; i++)
		mask |= UFFD_BIT(row_bit(t, i));
	return mask;
}

uint64_t uffd_ioctl_mask(bool range)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < uffd_ioctl_count; i++)
		if (uffd_ioctls[i].range == range)
			mask |= UFFD_BIT(uffd_ioctls[i].bit);
	return mask;
}

const char *uffd_feature_name(unsigned int bit)
{
	return bit_name(MASK_FEATURES, bit);
}

const char *uffd_ioctl_name(unsigned int bit)
{
	return bit_name(MASK_IOCTLS, bit);
}

bool uffd_feature_by_name(const char *name, uint64_t *mask)
{
	size_t i;

	if (!strncasecmp(name, "UFFD_FEATURE_", 13))
		name += 13;
	for (i = 0; i < uffd_feature_count; i++) {
		if (!strcasecmp(name, uffd_features[i].name)) {
			*mask = UFFD_BIT(uffd_features[i].bit);
			return true;
		}
	}
	return false;
}

const char *uffd_feature_since(unsigned int bit)
{
	static char buf[64];
	const struct uffd_feature_info *f = uffd_feature_info(bit);

	if (!f)
		return "?";
	snprintf(buf, sizeof(buf), "Linux >= %s%s%s", f->since,
		 f->since_note ? ", " : "", f->since_note ? f->since_note : "");
	return buf;
}

const char *uffd_feature_config(unsigned int bit)
{
	const struct uffd_feature_info *f = uffd_feature_info(bit);

	return f ? f->config : NULL;
}

unsigned int uffd_mask_split(enum uffd_mask_kind kind, uint64_t mask,
			     bool with_unknown, struct uffd_mask_names *out)
{
	unsigned int bit;

	out->n = 0;
	for (bit = 0; bit < 64; bit++) {
		const char *name;

		if (!(mask & UFFD_BIT(bit)))
			continue;
		name = bit_name(kind, bit);
		if (!name && !with_unknown)
			continue;
		out->known[out->n] = name != NULL;
		if (!name) {
			snprintf(out->unknown[out->n], sizeof(out->unknown[0]),
				 "bit %u", bit);
			name = out->unknown[out->n];
		}
		out->bit[out->n] = (unsigned char)bit;
		out->name[out->n++] = name;
	}
	return out->n;
}

char *uffd_mask_join(enum uffd_mask_kind kind, uint64_t mask,
		     const char *sep, char *buf, size_t len)
{
	struct uffd_mask_names names;
	size_t used = 0;
	unsigned int i;

	buf[0] = 0;
	uffd_mask_split(kind, mask, true, &names);
	for (i = 0; i < names.n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? sep : "", names.name[i]);
	return buf;
}

const char *uffd_mode_name(uint64_t mode)
{
	/* One string per mode mask, built once: callers keep the pointer. */
	static char names[64][48];

	if (mode >= ARRAY_LEN(names))
		return "?";
	if (!names[mode][0] && mode)
		uffd_mask_join(MASK_MODES, mode, "|", names[mode],
			       sizeof(names[mode]));
	return names[mode];
}

const char *uffd_path_name(enum uffd_path path)
{
	return path < UFFD_PATH_NR ? uffd_paths[path].name : "?";
}

const struct mem_type_info *mem_type_info(enum mem_type type)
{
	return type < MEM_TYPE_NR ? &mem_types[type] : NULL;
}

const char *mem_type_name(enum mem_type type)
{
	return type < MEM_TYPE_NR ? mem_types[type].name : "?";
}

bool mem_type_by_name(const char *name, enum mem_type *type)
{
	int t;

	for (t = 0; t < MEM_TYPE_NR; t++) {
		if (!strcmp(name, mem_types[t].name)) {
			*type = t;
			return true;
		}
	}
	return false;
}

bool mem_is_hugetlb(enum mem_type type)
{
	return type < MEM_TYPE_NR && mem_types[type].hugetlb;
}

bool mem_is_shared(enum mem_type type)
{
	return type < MEM_TYPE_NR && mem_types[type].shared;
}

bool mem_is_file(enum mem_type type)
{
	return type < MEM_TYPE_NR && mem_types[type].file;
}

bool mem_cow_takes_huge_page(enum mem_type type)
{
	return mem_is_hugetlb(type) && !mem_is_shared(type);
}

bool mem_mode_applies(enum mem_type type, uint64_t mode)
{
	return type < MEM_TYPE_NR && mode &&
	       (mode & mem_types[type].modes) == mode;
}

uint64_t mem_mode_needs(enum mem_type type, uint64_t mode)
{
	uint64_t need = 0;
	unsigned int bit;

	if (type >= MEM_TYPE_NR)
		return 0;
	for (bit = 0; bit < UFFD_MODE_BITS; bit++)
		if (mode & UFFD_BIT(bit))
			need |= mem_types[type].needs[bit];
	return need;
}
