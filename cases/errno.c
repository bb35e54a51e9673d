// SPDX-License-Identifier: GPL-2.0
/*
 * The errno battery: every ioctl against its documented bad inputs. The
 * table below is the whole test: one row = ioctl, setup, arguments,
 * expected errno and expected output field. Each row is a fixture variant,
 * so each is its own TAP point (errnos.<row>.check) and a report names the
 * row that failed. A new row is one ROW() line.
 *
 * (The fixture is "errnos": "errno" itself is a libc macro.)
 *
 * Rows whose answer changed between kernels carry a finding: the row
 * accepts either documented answer, asserts it is one of them, and prints
 * "# finding: ..." saying which one this kernel gave.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "ksft_case.h"
#include "pagemap.h"

#define NPAGES 4
#define SENTINEL 0x5a5a5a5a5a5a5a5aLL

/* The ioctl a row issues; its name comes from the domain table. */
enum op {
	OP_REGISTER = _UFFDIO_REGISTER,
	OP_UNREGISTER = _UFFDIO_UNREGISTER,
	OP_WAKE = _UFFDIO_WAKE,
	OP_COPY = _UFFDIO_COPY,
	OP_ZEROPAGE = _UFFDIO_ZEROPAGE,
	OP_WP = _UFFDIO_WRITEPROTECT,
	OP_CONTINUE = _UFFDIO_CONTINUE,
	OP_POISON = _UFFDIO_POISON,
	OP_MOVE = _UFFDIO_MOVE,
};

/* Where an address argument points. */
enum base {
	B_AREA,		/* the mapping under test (NPAGES pages) */
	B_SRC,		/* an unregistered anon buffer, filled */
	B_HOLE,		/* unmapped; starts right after the area if possible */
	B_ABS,		/* an absolute address */
};

struct where {
	enum base base;
	int pages;		/* offset in pages of the area's type */
	int bytes;		/* plus bytes (unaligned rows) */
	uint64_t abs;
};

struct span {
	int pages;		/* may be negative: wrapping lengths */
	int bytes;
};

/* Setup steps, applied in this order: populate, register, split. */
#define S_POPULATE	(1u << 0)	/* write area pages 0 and 1 first */
#define S_FOREIGN	(1u << 1)	/* registered through a second uffd */
#define S_SPLIT		(1u << 2)	/* pages 2-3 mprotect()ed: two VMAs */
#define S_RDONLY_FILE	(1u << 3)	/* MAP_SHARED of an O_RDONLY memfd */
#define S_RDWR_FILE_RO	(1u << 4)	/* MAP_SHARED PROT_READ of an O_RDWR fd */
#define S_POPULATE_ALL	(1u << 5)	/* write every area page first */

/* Output field expectations besides a literal value. */
#define OUT_UNTOUCHED	INT64_MIN	/* left as we wrote it */
#define OUT_LEN		(INT64_MIN + 1)	/* == len */
#define OUT_IOCTLS	(INT64_MIN + 2)	/* REGISTER: WAKE and COPY offered */
#define OUT_NA		(INT64_MIN + 3)	/* the ioctl has no output field */

enum post {
	POST_NONE,
	POST_OWNER,	/* report who owns the area afterwards */
};

struct row {
	const char *name;
	enum op op;
	enum mem_type mem;
	unsigned int setup;
	uint64_t reg;		/* registration mode (0: not registered) */
	uint64_t need;		/* features the kernel must report */
	struct where dst;	/* start / dst */
	struct where src;	/* COPY / MOVE source */
	struct span len;
	uint64_t mode;
	int err;		/* expected 0 or -errno */
	int64_t out;		/* expected output field */
	/* A kernel-dependent row: the other documented answer, and why. */
	const char *finding;
	int alt_err;
	int64_t alt_out;
	enum post post;
};

#define AT(b, p, by)	{ .base = (b), .pages = (p), .bytes = (by) }
#define ABS(a)		{ .base = B_ABS, .abs = (a) }
#define LEN(p, b)	{ .pages = (p), .bytes = (b) }
#define AREA		AT(B_AREA, 0, 0)
#define SRC		AT(B_SRC, 0, 0)
#define HOLE		AT(B_HOLE, 0, 0)
#define MISSING		UFFDIO_REGISTER_MODE_MISSING
#define WP		UFFDIO_REGISTER_MODE_WP
#define F_WP		UFFD_FEATURE_PAGEFAULT_FLAG_WP
#define F_POISON	UFFD_FEATURE_POISON
#define F_MOVE		UFFD_FEATURE_MOVE
#define F_MINOR_SHMEM	UFFD_FEATURE_MINOR_SHMEM
#define F_SHMEM		UFFD_FEATURE_MISSING_SHMEM
/* A kernel address: above any task size, 4 or 5 level paging. */
#define KADDR		0xffff888000000000ULL

FIXTURE(errnos) {
	struct mem_area mem;
	char *area, *src, *hole;
	size_t page;
	int fd, fd2, rofd;
};

FIXTURE_VARIANT(errnos) {
	struct row r;
};

#define ROW(row_name, ...) \
	FIXTURE_VARIANT_ADD(errnos, row_name) { .r = { .name = #row_name, __VA_ARGS__ } }

/* ---------------------------------------------------------------- REGISTER */
ROW(register_mode_zero, .op = OP_REGISTER, .dst = AREA, .len = LEN(1, 0),
    .mode = 0, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_mode_unknown_bit, .op = OP_REGISTER, .dst = AREA,
    .len = LEN(1, 0), .mode = MISSING | (1 << 3), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(register_minor_on_anon, .op = OP_REGISTER, .dst = AREA, .len = LEN(1, 0),
    .mode = UFFDIO_REGISTER_MODE_MINOR, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_wp_minor_on_anon, .op = OP_REGISTER, .dst = AREA,
    .len = LEN(1, 0), .mode = WP | UFFDIO_REGISTER_MODE_MINOR, .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(register_unaligned_start, .op = OP_REGISTER, .dst = AT(B_AREA, 0, 1),
    .len = LEN(1, 0), .mode = MISSING, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_unaligned_len, .op = OP_REGISTER, .dst = AREA, .len = LEN(1, 1),
    .mode = MISSING, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_zero_len, .op = OP_REGISTER, .dst = AREA, .len = LEN(0, 0),
    .mode = MISSING, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_wrapping_len, .op = OP_REGISTER, .dst = AREA, .len = LEN(-1, 0),
    .mode = MISSING, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_kernel_address, .op = OP_REGISTER, .dst = ABS(KADDR),
    .len = LEN(1, 0), .mode = MISSING, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_address_zero, .op = OP_REGISTER, .dst = ABS(0), .len = LEN(1, 0),
    .mode = MISSING, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_outside_any_vma, .op = OP_REGISTER, .dst = HOLE,
    .len = LEN(1, 0), .mode = MISSING, .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(register_span_into_hole, .op = OP_REGISTER, .dst = AT(B_AREA, 2, 0),
    .len = LEN(4, 0), .mode = MISSING, .err = 0, .out = OUT_IOCTLS);
ROW(register_span_two_vmas, .op = OP_REGISTER, .setup = S_SPLIT,
    .dst = AREA, .len = LEN(4, 0), .mode = MISSING, .err = 0,
    .out = OUT_IOCTLS);
ROW(register_owned_by_other_uffd, .op = OP_REGISTER, .setup = S_FOREIGN,
    .reg = MISSING, .dst = AREA, .len = LEN(1, 0), .mode = MISSING,
    .err = -EBUSY, .out = OUT_UNTOUCHED);
ROW(register_no_maywrite, .op = OP_REGISTER, .mem = MEM_SHMEM,
    .setup = S_RDONLY_FILE, .need = F_SHMEM, .dst = AREA, .len = LEN(1, 0),
    .mode = MISSING, .err = -EPERM, .out = OUT_UNTOUCHED,
    .finding = "REGISTER on a MAP_SHARED mapping of an O_RDONLY file (no VM_MAYWRITE): EPERM is the CVE-2018-18397 fix");
ROW(register_maywrite_prot_read, .op = OP_REGISTER, .mem = MEM_SHMEM,
    .setup = S_RDWR_FILE_RO, .need = F_SHMEM, .dst = AREA, .len = LEN(1, 0),
    .mode = MISSING, .err = 0, .out = OUT_IOCTLS);

/* -------------------------------------------------------------- UNREGISTER */
ROW(unregister_unaligned_start, .op = OP_UNREGISTER, .reg = MISSING,
    .dst = AT(B_AREA, 0, 1), .len = LEN(1, 0), .err = -EINVAL, .out = OUT_NA);
ROW(unregister_unaligned_len, .op = OP_UNREGISTER, .reg = MISSING,
    .dst = AREA, .len = LEN(1, 1), .err = -EINVAL, .out = OUT_NA);
ROW(unregister_zero_len, .op = OP_UNREGISTER, .reg = MISSING, .dst = AREA,
    .len = LEN(0, 0), .err = -EINVAL, .out = OUT_NA);
ROW(unregister_wrapping_len, .op = OP_UNREGISTER, .reg = MISSING,
    .dst = AREA, .len = LEN(-1, 0), .err = -EINVAL, .out = OUT_NA);
ROW(unregister_outside_any_vma, .op = OP_UNREGISTER, .reg = MISSING,
    .dst = HOLE, .len = LEN(1, 0), .err = -EINVAL, .out = OUT_NA);
ROW(unregister_not_registered, .op = OP_UNREGISTER, .dst = AREA,
    .len = LEN(4, 0), .err = 0, .out = OUT_NA);
ROW(unregister_span_two_vmas, .op = OP_UNREGISTER, .reg = MISSING,
    .setup = S_SPLIT, .dst = AREA, .len = LEN(4, 0), .err = 0, .out = OUT_NA);
ROW(unregister_foreign_uffd, .op = OP_UNREGISTER, .reg = MISSING,
    .setup = S_FOREIGN, .dst = AREA, .len = LEN(4, 0), .err = -EINVAL,
    .out = OUT_NA, .alt_err = 0, .alt_out = OUT_NA, .post = POST_OWNER,
    .finding = "UNREGISTER through a uffd that does not own the range: EINVAL since 6.17, earlier kernels unregister it (0)");

/* -------------------------------------------------------------------- WAKE */
ROW(wake_unaligned_start, .op = OP_WAKE, .reg = MISSING,
    .dst = AT(B_AREA, 0, 1), .len = LEN(1, 0), .err = -EINVAL, .out = OUT_NA);
ROW(wake_unaligned_len, .op = OP_WAKE, .reg = MISSING, .dst = AREA,
    .len = LEN(1, 1), .err = -EINVAL, .out = OUT_NA);
ROW(wake_zero_len, .op = OP_WAKE, .reg = MISSING, .dst = AREA,
    .len = LEN(0, 0), .err = -EINVAL, .out = OUT_NA);
ROW(wake_wrapping_len, .op = OP_WAKE, .reg = MISSING, .dst = AREA,
    .len = LEN(-1, 0), .err = -EINVAL, .out = OUT_NA);
ROW(wake_kernel_address, .op = OP_WAKE, .reg = MISSING, .dst = ABS(KADDR),
    .len = LEN(1, 0), .err = -EINVAL, .out = OUT_NA);
/* WAKE only wakes waiters; it does not look at VMAs. */
ROW(wake_outside_any_vma, .op = OP_WAKE, .reg = MISSING, .dst = HOLE,
    .len = LEN(1, 0), .err = 0, .out = OUT_NA);

/* -------------------------------------------------------------------- COPY */
ROW(copy_unaligned_dst, .op = OP_COPY, .reg = MISSING,
    .dst = AT(B_AREA, 0, 1), .src = SRC, .len = LEN(1, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(copy_unaligned_len, .op = OP_COPY, .reg = MISSING, .dst = AREA,
    .src = SRC, .len = LEN(1, 1), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(copy_zero_len, .op = OP_COPY, .reg = MISSING, .dst = AREA, .src = SRC,
    .len = LEN(0, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(copy_wrapping_len, .op = OP_COPY, .reg = MISSING, .dst = AREA,
    .src = SRC, .len = LEN(-1, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(copy_wrapping_src, .op = OP_COPY, .reg = MISSING, .dst = AREA,
    .src = ABS(~0ULL << 12), .len = LEN(1, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(copy_unknown_mode_bit, .op = OP_COPY, .reg = MISSING, .dst = AREA,
    .src = SRC, .len = LEN(1, 0), .mode = 1 << 2, .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(copy_mode_wp_without_wp_registration, .op = OP_COPY, .reg = MISSING,
    .need = F_WP, .dst = AREA, .src = SRC, .len = LEN(1, 0),
    .mode = UFFDIO_COPY_MODE_WP, .err = -EINVAL, .out = -EINVAL);
ROW(copy_mode_wp_dontwake_ok, .op = OP_COPY, .reg = MISSING | WP,
    .need = F_WP, .dst = AREA, .src = SRC, .len = LEN(1, 0),
    .mode = UFFDIO_COPY_MODE_WP | UFFDIO_COPY_MODE_DONTWAKE, .err = 0,
    .out = OUT_LEN);
ROW(copy_dst_not_registered, .op = OP_COPY, .dst = AREA, .src = SRC,
    .len = LEN(1, 0), .err = -ENOENT, .out = -ENOENT);
ROW(copy_dst_outside_any_vma, .op = OP_COPY, .reg = MISSING, .dst = HOLE,
    .src = SRC, .len = LEN(1, 0), .err = -ENOENT, .out = -ENOENT);
ROW(copy_dst_span_two_vmas, .op = OP_COPY, .reg = MISSING, .setup = S_SPLIT,
    .dst = AT(B_AREA, 1, 0), .src = SRC, .len = LEN(2, 0), .err = -ENOENT,
    .out = -ENOENT);
ROW(copy_dst_present, .op = OP_COPY, .reg = MISSING, .setup = S_POPULATE,
    .dst = AREA, .src = SRC, .len = LEN(1, 0), .err = -EEXIST,
    .out = -EEXIST);
ROW(copy_src_overlaps_dst, .op = OP_COPY, .reg = MISSING,
    .setup = S_POPULATE, .dst = AT(B_AREA, 1, 0), .src = AREA,
    .len = LEN(2, 0), .err = -EEXIST, .out = -EEXIST);
ROW(copy_src_unmapped, .op = OP_COPY, .reg = MISSING, .dst = AREA,
    .src = HOLE, .len = LEN(1, 0), .err = -EFAULT, .out = -EFAULT);
ROW(copy_range_of_other_uffd, .op = OP_COPY, .reg = MISSING,
    .setup = S_FOREIGN, .dst = AREA, .src = SRC, .len = LEN(1, 0),
    .err = 0, .out = OUT_LEN, .alt_err = -EINVAL, .alt_out = -EINVAL,
    .finding = "COPY through a second uffd of the same mm into a range registered by another uffd: filled (no owner check)");

/* ---------------------------------------------------------------- ZEROPAGE */
ROW(zeropage_unaligned_start, .op = OP_ZEROPAGE, .reg = MISSING,
    .dst = AT(B_AREA, 0, 1), .len = LEN(1, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(zeropage_unaligned_len, .op = OP_ZEROPAGE, .reg = MISSING, .dst = AREA,
    .len = LEN(1, 1), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(zeropage_zero_len, .op = OP_ZEROPAGE, .reg = MISSING, .dst = AREA,
    .len = LEN(0, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(zeropage_wrapping_len, .op = OP_ZEROPAGE, .reg = MISSING, .dst = AREA,
    .len = LEN(-1, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(zeropage_unknown_mode_bit, .op = OP_ZEROPAGE, .reg = MISSING,
    .dst = AREA, .len = LEN(1, 0), .mode = 1 << 1, .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(zeropage_not_registered, .op = OP_ZEROPAGE, .dst = AREA,
    .len = LEN(1, 0), .err = -ENOENT, .out = -ENOENT);
ROW(zeropage_outside_any_vma, .op = OP_ZEROPAGE, .reg = MISSING,
    .dst = HOLE, .len = LEN(1, 0), .err = -ENOENT, .out = -ENOENT);
ROW(zeropage_span_two_vmas, .op = OP_ZEROPAGE, .reg = MISSING,
    .setup = S_SPLIT, .dst = AT(B_AREA, 1, 0), .len = LEN(2, 0),
    .err = -ENOENT, .out = -ENOENT);
ROW(zeropage_present, .op = OP_ZEROPAGE, .reg = MISSING, .setup = S_POPULATE,
    .dst = AREA, .len = LEN(1, 0), .err = -EEXIST, .out = -EEXIST);

/* ------------------------------------------------------------ WRITEPROTECT */
ROW(wp_unaligned_start, .op = OP_WP, .reg = MISSING | WP, .need = F_WP,
    .dst = AT(B_AREA, 0, 1), .len = LEN(1, 0),
    .mode = UFFDIO_WRITEPROTECT_MODE_WP, .err = -EINVAL, .out = OUT_NA);
ROW(wp_unaligned_len, .op = OP_WP, .reg = MISSING | WP, .need = F_WP,
    .dst = AREA, .len = LEN(1, 1), .mode = UFFDIO_WRITEPROTECT_MODE_WP,
    .err = -EINVAL, .out = OUT_NA);
ROW(wp_wrapping_len, .op = OP_WP, .reg = MISSING | WP, .need = F_WP,
    .dst = AREA, .len = LEN(-1, 0), .mode = UFFDIO_WRITEPROTECT_MODE_WP,
    .err = -EINVAL, .out = OUT_NA);
ROW(wp_zero_len, .op = OP_WP, .reg = MISSING | WP, .need = F_WP, .dst = AREA,
    .len = LEN(0, 0), .mode = UFFDIO_WRITEPROTECT_MODE_WP, .err = -EINVAL,
    .out = OUT_NA);
ROW(wp_unknown_mode_bit, .op = OP_WP, .reg = MISSING | WP, .need = F_WP,
    .dst = AREA, .len = LEN(1, 0), .mode = 1 << 2, .err = -EINVAL,
    .out = OUT_NA);
ROW(wp_with_dontwake, .op = OP_WP, .reg = MISSING | WP, .need = F_WP,
    .dst = AREA, .len = LEN(1, 0),
    .mode = UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
    .err = -EINVAL, .out = OUT_NA);
ROW(wp_not_wp_registered, .op = OP_WP, .reg = MISSING, .need = F_WP,
    .dst = AREA, .len = LEN(1, 0), .mode = UFFDIO_WRITEPROTECT_MODE_WP,
    .err = -ENOENT, .out = OUT_NA);
ROW(wp_outside_any_vma, .op = OP_WP, .reg = MISSING | WP, .need = F_WP,
    .dst = HOLE, .len = LEN(1, 0), .mode = UFFDIO_WRITEPROTECT_MODE_WP,
    .err = -ENOENT, .out = OUT_NA);
ROW(wp_span_two_vmas, .op = OP_WP, .reg = MISSING | WP, .need = F_WP,
    .setup = S_SPLIT | S_POPULATE_ALL, .dst = AREA, .len = LEN(4, 0),
    .mode = UFFDIO_WRITEPROTECT_MODE_WP, .err = 0, .out = OUT_NA,
    .alt_err = -ENOENT, .alt_out = OUT_NA,
    .finding = "WRITEPROTECT over two WP-registered VMAs: accepted by kernels that walk every VMA (6.3+), ENOENT before");

/* ---------------------------------------------------------------- CONTINUE */
ROW(continue_on_anon, .op = OP_CONTINUE, .reg = MISSING,
    .need = F_MINOR_SHMEM, .dst = AREA, .len = LEN(1, 0), .err = -EINVAL,
    .out = -EINVAL);
ROW(continue_unknown_mode_bit, .op = OP_CONTINUE, .reg = MISSING,
    .need = F_MINOR_SHMEM, .dst = AREA, .len = LEN(1, 0), .mode = 1 << 3,
    .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(continue_unaligned_len, .op = OP_CONTINUE, .reg = MISSING,
    .need = F_MINOR_SHMEM, .dst = AREA, .len = LEN(1, 1), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(continue_unaligned_start, .op = OP_CONTINUE, .mem = MEM_SHMEM,
    .reg = MISSING, .need = F_MINOR_SHMEM | F_SHMEM, .dst = AT(B_AREA, 0, 1),
    .len = LEN(1, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(continue_zero_len, .op = OP_CONTINUE, .mem = MEM_SHMEM, .reg = MISSING,
    .need = F_MINOR_SHMEM | F_SHMEM, .dst = AREA, .len = LEN(0, 0),
    .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(continue_wrapping_len, .op = OP_CONTINUE, .mem = MEM_SHMEM,
    .reg = MISSING, .need = F_MINOR_SHMEM | F_SHMEM, .dst = AREA,
    .len = LEN(-1, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(continue_outside_any_vma, .op = OP_CONTINUE, .mem = MEM_SHMEM,
    .reg = MISSING, .need = F_MINOR_SHMEM | F_SHMEM, .dst = HOLE,
    .len = LEN(1, 0), .err = -ENOENT, .out = -ENOENT);
ROW(continue_span_two_vmas, .op = OP_CONTINUE, .mem = MEM_SHMEM,
    .reg = MISSING, .need = F_MINOR_SHMEM | F_SHMEM, .setup = S_SPLIT,
    .dst = AT(B_AREA, 1, 0), .len = LEN(2, 0), .err = -ENOENT,
    .out = -ENOENT);
ROW(continue_shmem_nothing_cached, .op = OP_CONTINUE, .mem = MEM_SHMEM,
    .reg = MISSING, .need = F_MINOR_SHMEM | F_SHMEM, .dst = AREA,
    .len = LEN(1, 0), .err = -EFAULT, .out = -EFAULT);
ROW(continue_not_registered, .op = OP_CONTINUE, .mem = MEM_SHMEM,
    .need = F_MINOR_SHMEM, .dst = AREA, .len = LEN(1, 0), .err = -ENOENT,
    .out = -ENOENT);

/* ------------------------------------------------------------------ POISON */
ROW(poison_unaligned_start, .op = OP_POISON, .reg = MISSING, .need = F_POISON,
    .dst = AT(B_AREA, 0, 1), .len = LEN(1, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(poison_zero_len, .op = OP_POISON, .reg = MISSING, .need = F_POISON,
    .dst = AREA, .len = LEN(0, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(poison_unaligned_len, .op = OP_POISON, .reg = MISSING, .need = F_POISON,
    .dst = AREA, .len = LEN(1, 1), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(poison_wrapping_len, .op = OP_POISON, .reg = MISSING, .need = F_POISON,
    .dst = AREA, .len = LEN(-1, 0), .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(poison_outside_any_vma, .op = OP_POISON, .reg = MISSING,
    .need = F_POISON, .dst = HOLE, .len = LEN(1, 0), .err = -ENOENT,
    .out = -ENOENT);
ROW(poison_unknown_mode_bit, .op = OP_POISON, .reg = MISSING,
    .need = F_POISON, .dst = AREA, .len = LEN(1, 0), .mode = 1 << 1,
    .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(poison_present, .op = OP_POISON, .reg = MISSING, .need = F_POISON,
    .setup = S_POPULATE, .dst = AREA, .len = LEN(1, 0), .err = -EEXIST,
    .out = -EEXIST);
ROW(poison_not_registered, .op = OP_POISON, .need = F_POISON, .dst = AREA,
    .len = LEN(1, 0), .err = -ENOENT, .out = -ENOENT);
ROW(poison_span_two_vmas, .op = OP_POISON, .reg = MISSING, .need = F_POISON,
    .setup = S_SPLIT, .dst = AT(B_AREA, 1, 0), .len = LEN(2, 0),
    .err = -ENOENT, .out = -ENOENT);

/* -------------------------------------------------------------------- MOVE */
ROW(move_unaligned_src, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = AT(B_SRC, 0, 1), .len = LEN(1, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(move_unaligned_dst, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AT(B_AREA, 0, 1), .src = SRC, .len = LEN(1, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(move_zero_len, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = SRC, .len = LEN(0, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(move_unaligned_len, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = SRC, .len = LEN(1, 1), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(move_dst_outside_any_vma, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = HOLE, .src = SRC, .len = LEN(1, 0), .err = -ENOENT,
    .out = -ENOENT);
ROW(move_wrapping_len, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = SRC, .len = LEN(-1, 0), .err = -EINVAL,
    .out = OUT_UNTOUCHED);
ROW(move_unknown_mode_bit, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = SRC, .len = LEN(1, 0), .mode = 1 << 2,
    .err = -EINVAL, .out = OUT_UNTOUCHED);
ROW(move_dst_not_registered, .op = OP_MOVE, .need = F_MOVE, .dst = AREA,
    .src = SRC, .len = LEN(1, 0), .err = -EINVAL, .out = -EINVAL);
ROW(move_dst_of_other_uffd, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .setup = S_FOREIGN, .dst = AREA, .src = SRC, .len = LEN(1, 0),
    .err = -EINVAL, .out = -EINVAL);
ROW(move_dst_present, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .setup = S_POPULATE, .dst = AREA, .src = SRC, .len = LEN(1, 0),
    .err = -EEXIST, .out = -EEXIST);
ROW(move_src_is_dst, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .setup = S_POPULATE, .dst = AREA, .src = AREA, .len = LEN(1, 0),
    .err = -EEXIST, .out = -EEXIST);
ROW(move_src_unpopulated, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = AT(B_AREA, 2, 0), .len = LEN(1, 0), .err = -ENOENT,
    .out = -ENOENT);
ROW(move_src_unpopulated_allowed, .op = OP_MOVE, .reg = MISSING,
    .need = F_MOVE, .dst = AREA, .src = AT(B_AREA, 2, 0), .len = LEN(1, 0),
    .mode = UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, .err = 0, .out = OUT_LEN);
ROW(move_src_outside_any_vma, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = HOLE, .len = LEN(1, 0),
    .mode = UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, .err = -ENOENT,
    .out = -ENOENT);
ROW(move_src_span_two_vmas, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .dst = AREA, .src = AT(B_SRC, 3, 0), .len = LEN(2, 0), .err = -EINVAL,
    .out = -EINVAL);
ROW(move_dst_span_two_vmas, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .setup = S_SPLIT, .dst = AT(B_AREA, 1, 0), .src = SRC, .len = LEN(2, 0),
    .err = -EINVAL, .out = -EINVAL);
ROW(move_overlapping_ranges, .op = OP_MOVE, .reg = MISSING, .need = F_MOVE,
    .setup = S_POPULATE, .dst = AT(B_AREA, 1, 0), .src = AREA,
    .len = LEN(2, 0), .err = -EEXIST, .out = -EEXIST);
ROW(move_to_shmem, .op = OP_MOVE, .mem = MEM_SHMEM, .reg = MISSING,
    .need = F_MOVE | F_SHMEM, .dst = AREA, .src = SRC, .len = LEN(1, 0),
    .err = -EINVAL, .out = -EINVAL);

/* ------------------------------------------------------------------ setup */

/* A MAP_SHARED view of the area's memfd through a fresh open(2). */
static char *map_reopened(int memfd, int oflags, size_t len, int *fd)
{
	char path[64];
	char *p;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	*fd = open(path, oflags | O_CLOEXEC);
	if (*fd < 0)
		return MAP_FAILED;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, *fd, 0);
	return p;
}

/*
 * Move the area into a reservation of three times its size and unmap the
 * middle third: the area is followed by a hole no later mmap() can take,
 * because a PROT_NONE fence stays behind it.
 */
static int place_before_hole(struct mem_area *m, char **hole)
{
	size_t len = m->len;
	char *res, *p;

	res = mmap(NULL, 3 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (res == MAP_FAILED)
		return -errno;
	p = mremap(m->addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, res);
	if (p == MAP_FAILED)
		return -errno;
	m->addr = p;
	if (munmap(p + len, len))
		return -errno;
	*hole = p + len;
	return 0;
}

FIXTURE_SETUP(errnos)
{
	const struct row *r = &variant->r;
	size_t len;
	int i;

	self->fd = self->fd2 = self->rofd = -1;
	FL_REQUIRE_FEATURES(r->need | fl_missing_feature(r->mem));
	self->fd = FL_UFFD_OPEN(0);
	self->fd2 = FL_UFFD_OPEN(0);
	FL_MEM_ALLOC(&self->mem, r->mem, NPAGES);
	ASSERT_EQ(0, place_before_hole(&self->mem, &self->hole));
	self->page = self->mem.page;
	len = self->mem.len;
	self->area = self->mem.addr;
	if (r->setup & (S_RDONLY_FILE | S_RDWR_FILE_RO)) {
		self->area = map_reopened(self->mem.fd, r->setup & S_RDONLY_FILE ?
					  O_RDONLY : O_RDWR, len, &self->rofd);
		ASSERT_NE(MAP_FAILED, self->area);
	}
	self->src = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	mem_fill(self->src, len, 3);
	/* The source's tail becomes its own VMA (for span rows). */
	ASSERT_EQ(0, mprotect(self->src + 3 * self->page, self->page,
			      PROT_READ));

	for (i = 0; i < NPAGES; i++)
		if ((r->setup & S_POPULATE_ALL) ||
		    ((r->setup & S_POPULATE) && i < 2))
			mem_page(&self->mem, i)[0] = 1;
	if (r->reg)
		ASSERT_EQ(0, uffd_register_range(r->setup & S_FOREIGN ?
						 self->fd2 : self->fd,
						 self->area, len, r->reg,
						 NULL));
	if (r->setup & S_SPLIT)
		ASSERT_EQ(0, mprotect(self->area + 2 * self->page,
				      2 * self->page, PROT_READ));
}

FIXTURE_TEARDOWN(errnos)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->fd2 >= 0)
		close(self->fd2);
	if (self->rofd >= 0)
		close(self->rofd);
}

/* ------------------------------------------------------------------- run */

static uint64_t resolve(const FIXTURE_DATA(errnos) *self, struct where w)
{
	uint64_t base;

	switch (w.base) {
	case B_AREA:
		base = (uintptr_t)self->area;
		break;
	case B_SRC:
		base = (uintptr_t)self->src;
		break;
	case B_HOLE:
		base = (uintptr_t)self->hole;
		break;
	default:
		return w.abs;
	}
	return base + (int64_t)w.pages * (int64_t)self->page + w.bytes;
}

/* Issue the row's ioctl; *out gets the output field (SENTINEL before). */
static int issue(int fd, enum op op, uint64_t dst, uint64_t src, uint64_t len,
		 uint64_t mode, int64_t *out)
{
	struct uffdio_range range = { dst, len };
	struct uffdio_register reg = { range, mode, SENTINEL };
	struct uffdio_writeprotect wp = { range, mode };
	int ret;

	*out = SENTINEL;
	switch (op) {
	case OP_REGISTER:
		ret = uffd_register(fd, &reg);
		*out = (int64_t)reg.ioctls;
		return ret;
	case OP_UNREGISTER:
		return uffd_unregister(fd, &range);
	case OP_WAKE:
		return uffd_wake(fd, &range);
	case OP_WP:
		return uffd_writeprotect(fd, &wp);
	default:
		/* The range ioctls with an output field. */
		return uffd_range_ioctl(op, fd, (void *)(uintptr_t)dst,
					(void *)(uintptr_t)src, len, mode, out);
	}
}

static bool out_matches(int64_t want, int64_t got, uint64_t len)
{
	if (want == OUT_NA)
		return true;
	if (want == OUT_UNTOUCHED)
		return got == SENTINEL;
	if (want == OUT_LEN)
		return got == (int64_t)len;
	if (want == OUT_IOCTLS) {
		uint64_t need = 1ULL << _UFFDIO_WAKE | 1ULL << _UFFDIO_COPY;

		return got != SENTINEL && ((uint64_t)got & need) == need;
	}
	return got == want;
}

static const char *out_str(int64_t v, char *buf, size_t n)
{
	if (v == OUT_NA)
		return "n/a";
	if (v == OUT_UNTOUCHED || v == SENTINEL)
		return "untouched";
	if (v == OUT_LEN)
		return "len";
	if (v == OUT_IOCTLS)
		return "ioctl mask";
	snprintf(n ? buf : NULL, n, "%lld", (long long)v);
	return buf;
}

/*
 * What a refusal must leave as it was: page residency and uffd-wp bits of
 * the area, the bytes of every area page that is present (only those: a
 * registered hole must not be touched), and the whole source buffer.
 */
struct snapshot {
	unsigned char resident[NPAGES];
	signed char wp[NPAGES];
	char *bytes;		/* NPAGES area pages, then NPAGES source pages */
};

static void take_snapshot(const FIXTURE_DATA(errnos) *self,
			  struct snapshot *s)
{
	size_t page = self->page, i;

	if (mincore(self->area, NPAGES * page, s->resident))
		memset(s->resident, 0xfe, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		char *p = self->area + i * page;

		s->wp[i] = (signed char)pagemap_uffd_wp(p);
		if (s->resident[i] & 1)
			memcpy(s->bytes + i * page, p, page);
	}
	memcpy(s->bytes + NPAGES * page, self->src, NPAGES * page);
}

/* A refused ioctl changed nothing that take_snapshot() looks at. */
static void expect_unchanged(struct __test_metadata *_metadata,
			     const FIXTURE_DATA(errnos) *self, const char *op,
			     const struct snapshot *before,
			     const struct snapshot *after)
{
	size_t page = self->page, i;

	EXPECT_EQ(0, memcmp(before->resident, after->resident, NPAGES))
		TH_LOG("a refused UFFDIO_%s changed page residency", op);
	EXPECT_EQ(0, memcmp(before->wp, after->wp, NPAGES))
		TH_LOG("a refused UFFDIO_%s changed uffd-wp bits", op);
	for (i = 0; i < NPAGES; i++) {
		if (!(before->resident[i] & 1) || !(after->resident[i] & 1))
			continue;
		EXPECT_EQ(0, memcmp(before->bytes + i * page,
				    after->bytes + i * page, page))
			TH_LOG("a refused UFFDIO_%s changed the bytes of page %zu",
			       op, i);
	}
	EXPECT_EQ(0, memcmp(before->bytes + NPAGES * page,
			    after->bytes + NPAGES * page, NPAGES * page))
		TH_LOG("a refused UFFDIO_%s changed its source", op);
}

/* The last area page inside [@dst, @dst+@len), or NULL when none is. */
static char *last_area_page(const FIXTURE_DATA(errnos) *self, uint64_t dst,
			    uint64_t len)
{
	uintptr_t lo = (uintptr_t)self->area;
	uintptr_t hi = lo + NPAGES * self->page;
	uintptr_t end = dst + len < hi ? dst + len : hi;

	if (dst < lo || dst >= hi || len == 0 || end <= dst)
		return NULL;
	return (char *)((end - 1) & ~(uintptr_t)(self->page - 1));
}

/*
 * A read of the hole @p traps: the fault reaches @fd. Unregistering the
 * range (what this row registered) then lets the reader go.
 */
static void expect_read_traps(struct __test_metadata *_metadata, int fd,
			      char *p, uint64_t dst, uint64_t len)
{
	struct uffd_msg msg;
	struct toucher t;

	ASSERT_EQ(0, toucher_start(&t, p, TOUCH_READ, 0xff));
	ASSERT_EQ(0, uffd_wait_msg(fd, &msg, 2000))
		TH_LOG("a read of a newly registered hole did not trap");
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)p, msg.arg.pagefault.address);
	EXPECT_TRUE(toucher_blocked(&t));
	ASSERT_EQ(0, uffd_unregister_range(fd, (void *)(uintptr_t)dst, len));
	FL_TOUCHER_DONE(&t);
}

/* A read of the hole @p completes by itself: nothing traps it any more. */
static void expect_read_passes(struct __test_metadata *_metadata,
			       const FIXTURE_DATA(errnos) *self, char *p)
{
	struct toucher t;

	ASSERT_EQ(0, toucher_start(&t, p, TOUCH_READ, 0xff));
	EXPECT_TRUE(toucher_wait(&t, 1000))
		TH_LOG("a read of an unregistered page is blocked");
	if (!fl_thread_is_done(&t.th))
		return;	/* teardown's close() wakes it */
	toucher_join(&t);
	EXPECT_EQ(0, t.value);
	EXPECT_TRUE(fl_queue_empty(self->fd));
	EXPECT_TRUE(fl_queue_empty(self->fd2));
}

/*
 * Every area page of [@dst, @dst+@len) is write-protected, where pagemap
 * shows the bit; and a write to the first page (writable in every row)
 * traps until it is unprotected.
 */
static void expect_protected(struct __test_metadata *_metadata,
			     const FIXTURE_DATA(errnos) *self, uint64_t dst,
			     uint64_t len)
{
	char *first = (char *)(uintptr_t)dst, *last = last_area_page(self, dst, len);
	bool bit = fl_wp_bit_checkable();
	struct toucher t;
	size_t n;

	ASSERT_NE(NULL, last);
	for (n = 0; bit && first + n * self->page <= last; n++)
		EXPECT_EQ(1, pagemap_uffd_wp(first + n * self->page))
			TH_LOG("page %zu of the range is not protected", n);
	ASSERT_EQ(0, toucher_start(&t, first, TOUCH_WRITE, 0x42));
	fl_expect_fault(_metadata, self->fd, first, FL_WP_WRITE_FAULT);
	EXPECT_TRUE(toucher_blocked(&t));
	ASSERT_EQ(0, uffd_wp_range(self->fd, first, self->page, false));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(0x42, (unsigned char)*first);
}

/* What a successful row must have done, beyond its return code. */
static void expect_effect(struct __test_metadata *_metadata,
			  const FIXTURE_DATA(errnos) *self,
			  const struct row *r, uint64_t dst, uint64_t src,
			  uint64_t len, const struct snapshot *after)
{
	char *last = last_area_page(self, dst, len);
	size_t i = r->dst.pages;

	switch (r->op) {
	case OP_REGISTER:
		ASSERT_NE(NULL, last);
		expect_read_traps(_metadata, self->fd, last, dst, len);
		break;
	case OP_UNREGISTER:
		ASSERT_NE(NULL, last);
		expect_read_passes(_metadata, self, last);
		break;
	case OP_COPY:
	case OP_ZEROPAGE:
		if (r->dst.base != B_AREA)
			break;
		EXPECT_TRUE(i < NPAGES && (after->resident[i] & 1))
			TH_LOG("UFFDIO_%s succeeded but page %zu is not present",
			       uffd_ioctl_name(r->op), i);
		if (r->op == OP_ZEROPAGE) {
			EXPECT_EQ(-1, mem_check_zero((void *)(uintptr_t)dst,
						     len));
			break;
		}
		EXPECT_EQ(0, memcmp((void *)(uintptr_t)dst,
				    (void *)(uintptr_t)src, len))
			TH_LOG("UFFDIO_COPY succeeded with other bytes");
		if ((r->mode & UFFDIO_COPY_MODE_WP) && fl_wp_bit_checkable())
			EXPECT_EQ(1, pagemap_uffd_wp((void *)(uintptr_t)dst))
				TH_LOG("COPY with MODE_WP left the page writable");
		break;
	case OP_WP:
		if (r->mode & UFFDIO_WRITEPROTECT_MODE_WP)
			expect_protected(_metadata, self, dst, len);
		break;
	case OP_MOVE:
		/* Only holes moved (ALLOW_SRC_HOLES): nothing may appear. */
		if (r->dst.base == B_AREA && i < NPAGES)
			EXPECT_EQ(0, after->resident[i] & 1)
				TH_LOG("MOVE of a hole populated the destination");
		break;
	default:
		break;
	}
}

TEST_F(errnos, check)
{
	const struct row *r = &variant->r;
	uint64_t dst = resolve(self, r->dst), src = resolve(self, r->src);
	uint64_t len = (int64_t)r->len.pages * (int64_t)self->page +
		r->len.bytes;
	size_t bytes = 2 * NPAGES * self->page;
	struct snapshot before = { .bytes = malloc(bytes) };
	struct snapshot after = { .bytes = malloc(bytes) };
	bool primary, alt = false;
	char b1[32], b2[32];
	int64_t out;
	int ret;

	ASSERT_NE(NULL, before.bytes);
	ASSERT_NE(NULL, after.bytes);
	take_snapshot(self, &before);
	ret = issue(self->fd, r->op, dst, src, len, r->mode, &out);
	take_snapshot(self, &after);

	primary = ret == r->err && out_matches(r->out, out, len);
	if (r->finding && r->alt_out)
		alt = ret == r->alt_err && out_matches(r->alt_out, out, len);
	if (r->finding)
		ksft_print_msg("finding: errnos.%s: %s: UFFDIO_%s -> %s, output %s (%s)\n",
			       r->name, r->finding, uffd_ioctl_name(r->op),
			       ret ? strerror(-ret) : "success",
			       out_str(r->out == OUT_NA ? OUT_NA : out, b1,
				       sizeof(b1)),
			       primary ? "the current behaviour" :
			       alt ? "the earlier behaviour" : "neither");
	EXPECT_TRUE(primary || alt)
		TH_LOG("UFFDIO_%s: got %d (%s) output %s; expected %d output %s",
		       uffd_ioctl_name(r->op), ret, strerror(-ret),
		       out_str(r->out == OUT_NA ? OUT_NA : out, b1, sizeof(b1)),
		       r->err, out_str(r->out, b2, sizeof(b2)));

	/* A refusal that did nothing must leave every page as it was. */
	if (ret && (out <= 0 || out == SENTINEL) && r->op != OP_UNREGISTER &&
	    r->op != OP_REGISTER)
		expect_unchanged(_metadata, self, uffd_ioctl_name(r->op),
				 &before, &after);
	if (!ret)
		expect_effect(_metadata, self, r, dst, src, len, &after);
	free(before.bytes);
	free(after.bytes);

	if (r->post == POST_OWNER) {
		/* Who owns the area now decides between the two behaviours. */
		int again = uffd_register_range(self->fd, self->area,
						NPAGES * self->page,
						UFFDIO_REGISTER_MODE_MISSING,
						NULL);

		if (ret == 0) {
			EXPECT_EQ(0, again)
				TH_LOG("unregistered, yet still owned");
		} else {
			EXPECT_EQ(-EBUSY, again)
				TH_LOG("refused, yet ownership changed");
		}
	}
}

FL_TEST_MAIN(0)
