/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: the userfaultfd domain table, the one place that says
 * what the kernel's features, ioctls, register modes, creation paths and
 * the memory types we test on are. Everything reads it: the library's
 * names and skip gates, the probe (facts, config, register matrix,
 * profiles, every renderer, and the "domain" key of its JSON, from which
 * the report takes its names and order), and the case variants.
 *
 * To add a feature bit: one row in uffd_features[] (domain.c). To add a
 * memory type: its enum name below, one row in mem_types[] (domain.c),
 * and the cases that cover it list it in their FL_MEM_VARIANTS().
 */
#ifndef FAULTLINE_DOMAIN_H
#define FAULTLINE_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uffd_compat.h"

/* A UFFDIO_API feature bit. */
struct uffd_feature_info {
	unsigned int bit;
	const char *name;	/* "MOVE", without UFFD_FEATURE_ */
	const char *since;	/* first mainline kernel: "6.8" */
	const char *since_note;	/* where it came later, or NULL: "64-bit" */
	const char *config;	/* option it needs beyond CONFIG_USERFAULTFD */
	const char *enables;	/* one line: what a user gets from it */
};

/* An ioctl bit (the _UFFDIO_* number) of the API and REGISTER masks. */
struct uffd_ioctl_info {
	unsigned int bit;
	const char *name;	/* "COPY", without UFFDIO_ */
	const char *output;	/* field the kernel writes its answer to */
	bool range;		/* offered by REGISTER (else by UFFDIO_API) */
};

/* A UFFDIO_REGISTER mode bit (the mode is 1 << bit). */
struct uffd_mode_info {
	unsigned int bit;
	const char *name;	/* "MISSING" */
};

/* The ways to obtain a userfaultfd. */
enum uffd_path {
	UFFD_PATH_SYSCALL,		/* userfaultfd(2) */
	UFFD_PATH_SYSCALL_USER_ONLY,	/* ... | UFFD_USER_MODE_ONLY */
	UFFD_PATH_DEV,			/* /dev/userfaultfd, IOC_NEW */
	UFFD_PATH_NR,
};

struct uffd_path_info {
	const char *name;	/* "dev-userfaultfd" */
	const char *fact;	/* the probe's fact name: "DEV_USERFAULTFD" */
};

/* The memory types, in the order every report lists them. */
enum mem_type {
	MEM_ANON,
	MEM_SHMEM,
	MEM_SHMEM_PRIVATE,
	MEM_HUGETLB,
	MEM_HUGETLB_PRIVATE,
	MEM_TYPE_NR,
};

/* Register mode bits are 1 << n with n below this. */
#define UFFD_MODE_BITS	3

struct mem_type_info {
	const char *name;	/* "shmem_private": point names, JSON */
	const char *what;	/* in words: "anonymous memory" */
	bool hugetlb;		/* default-size huge pages (page size) */
	bool shared;		/* MAP_SHARED: other mappings see the pages */
	bool file;		/* backed by a memfd (MAP_ANONYMOUS if not) */
	/*
	 * Features UFFDIO_API must report for REGISTER with mode bit n to be
	 * defined on this type (index n); modes says which bits apply at all.
	 */
	uint64_t modes;
	uint64_t needs[UFFD_MODE_BITS];
};

/* The tables (domain.c) and their lengths. */
extern const struct uffd_feature_info uffd_features[];
extern const size_t uffd_feature_count;
extern const struct uffd_ioctl_info uffd_ioctls[];
extern const size_t uffd_ioctl_count;
extern const struct uffd_mode_info uffd_modes[];
extern const size_t uffd_mode_count;
extern const struct uffd_path_info uffd_paths[UFFD_PATH_NR];
extern const struct mem_type_info mem_types[MEM_TYPE_NR];

/* A bit of a mask and its bit number. */
#define UFFD_BIT(n)	(1ULL << (n))

/* The kinds of bit mask the tables name. */
enum uffd_mask_kind { MASK_FEATURES, MASK_IOCTLS, MASK_MODES };

/* Row lookups: NULL when the table has no such bit. */
const struct uffd_feature_info *uffd_feature_info(unsigned int bit);
const struct uffd_ioctl_info *uffd_ioctl_info(unsigned int bit);
const struct uffd_mode_info *uffd_mode_info(unsigned int bit);

/* Every bit of a @kind mask the table names. */
uint64_t uffd_known_mask(enum uffd_mask_kind kind);
#define uffd_known_features()	uffd_known_mask(MASK_FEATURES)
#define uffd_known_modes()	uffd_known_mask(MASK_MODES)
/* The ioctls REGISTER offers on a range (@range) or UFFDIO_API on the fd. */
uint64_t uffd_ioctl_mask(bool range);

/* Names of a row ("MOVE"), NULL when the bit is not in the table. */
const char *uffd_feature_name(unsigned int bit);
const char *uffd_ioctl_name(unsigned int bit);
/* The name of a one-bit feature mask (UFFD_FEATURE_EVENT_FORK). */
#define UFFD_FEATURE_NAME(mask)	uffd_feature_name(__builtin_ctzll(mask))
/* Feature mask for a name (case-insensitive, "UFFD_FEATURE_" optional). */
bool uffd_feature_by_name(const char *name, uint64_t *mask);
/* "Linux >= 6.8, 64-bit" for a feature bit; "?" when unknown. */
const char *uffd_feature_since(unsigned int bit);
/* The config option a feature needs (NULL: CONFIG_USERFAULTFD is enough). */
const char *uffd_feature_config(unsigned int bit);

/* The names of the set bits of a mask, in bit order. */
struct uffd_mask_names {
	unsigned int n;
	const char *name[64];
	unsigned char bit[64];	/* the bit each name is for */
	bool known[64];		/* whether the table has a row for it */
	char unknown[64][8];	/* "bit N" for the bits the table lacks */
};

/*
 * Split @mask into names. Bits the table does not name are "bit N" when
 * @with_unknown, else left out. Returns the number of names.
 */
unsigned int uffd_mask_split(enum uffd_mask_kind kind, uint64_t mask,
			     bool with_unknown, struct uffd_mask_names *out);
/* The same names joined with @sep into @buf; returns @buf. */
char *uffd_mask_join(enum uffd_mask_kind kind, uint64_t mask,
		     const char *sep, char *buf, size_t len);

/* "MISSING|WP" for a register mode mask (a string that lives forever). */
const char *uffd_mode_name(uint64_t mode);

/* Name of a creation path ("syscall"), "?" when out of range. */
const char *uffd_path_name(enum uffd_path path);

/* Memory type rows. */
const struct mem_type_info *mem_type_info(enum mem_type type);
const char *mem_type_name(enum mem_type type);
bool mem_type_by_name(const char *name, enum mem_type *type);
bool mem_is_hugetlb(enum mem_type type);
bool mem_is_shared(enum mem_type type);
bool mem_is_file(enum mem_type type);

/*
 * A private hugetlb mapping: a write (or a forked child's fault) copies
 * the page into a new huge page from the pool, which can run dry.
 */
bool mem_cow_takes_huge_page(enum mem_type type);

/*
 * Whether register @mode (one or more mode bits) is defined on @type, and
 * the features UFFDIO_API must report for it to work there.
 */
bool mem_mode_applies(enum mem_type type, uint64_t mode);
uint64_t mem_mode_needs(enum mem_type type, uint64_t mode);

/* Sets of memory types, for a case's FL_MEM_VARIANTS(). */
#define MEM_BIT(type)	(1U << (type))
#define MEM_ALL		(MEM_BIT(MEM_ANON) | MEM_BIT(MEM_SHMEM) |	\
			 MEM_BIT(MEM_SHMEM_PRIVATE) | MEM_BIT(MEM_HUGETLB) | \
			 MEM_BIT(MEM_HUGETLB_PRIVATE))

#endif /* FAULTLINE_DOMAIN_H */
