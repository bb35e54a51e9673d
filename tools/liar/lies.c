// SPDX-License-Identifier: GPL-2.0
/*
 * faultline liar: the lies. One row per lie: its name (what FAULTLINE_LIE
 * selects and tools/liar/catalogue.tsv lists), one line saying what it
 * does, the ioctl it concerns, its hooks and their parameters. What the
 * suite must do about each lie (catch it, on which memory types, or
 * tolerate it) is the catalogue's business, not this table's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>

#include "liar.h"
#include "hooks.h"

#define BIT(nr)		(1ULL << (nr))
#define WAKE_BIT	BIT(_UFFDIO_WAKE)
#define COPY_BIT	BIT(_UFFDIO_COPY)
#define ZEROPAGE_BIT	BIT(_UFFDIO_ZEROPAGE)
#define WP_BIT		BIT(_UFFDIO_WRITEPROTECT)
#define CONTINUE_BIT	BIT(_UFFDIO_CONTINUE)
#define POISON_BIT	BIT(_UFFDIO_POISON)
#define MOVE_BIT	BIT(_UFFDIO_MOVE)
#define MSG_OFF(f)	offsetof(struct uffd_msg, arg.f)
#define WP_FEATURES	(UFFD_FEATURE_PAGEFAULT_FLAG_WP |		\
			 UFFD_FEATURE_WP_HUGETLBFS_SHMEM |		\
			 UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_WP_ASYNC)
#define MINOR_FEATURES	(UFFD_FEATURE_MINOR_HUGETLBFS | UFFD_FEATURE_MINOR_SHMEM)

#define IOCTL_LIE(n, w, c, h, ...) \
	{ .name = n, .what = w, .cmd = c, .ioctl = h, __VA_ARGS__ }
#define MSG_LIE(n, w, h, ...) \
	{ .name = n, .what = w, .msg = h, __VA_ARGS__ }
#define ERRNO_LIE(n, w, from, to) \
	{ .name = n, .what = w, .ioctl = hook_errno, .create = create_errno, \
	  .a = from, .b = to }

const struct lie liar_lies[] = {
	/* COPY */
	IOCTL_LIE("copy_eexist_writes", "COPY refused with EEXIST writes the source anyway",
		  UFFDIO_COPY, hook_copy_writes_on, .b = EEXIST),
	IOCTL_LIE("copy_enoent_writes", "COPY refused with ENOENT (unregistered) writes anyway",
		  UFFDIO_COPY, hook_copy_writes_on, .b = ENOENT),
	IOCTL_LIE("copy_skip", "COPY does nothing and answers success, .copy = len",
		  UFFDIO_COPY, hook_pretend),
	IOCTL_LIE("copy_wrong_byte", "COPY places the last byte of the range wrong",
		  UFFDIO_COPY, hook_copy_wrong_byte),
	IOCTL_LIE("copy_field_zero", "successful COPY reports .copy = 0",
		  UFFDIO_COPY, hook_field),
	IOCTL_LIE("copy_field_long", "successful COPY reports .copy = len + a page",
		  UFFDIO_COPY, hook_field, .c = 1),
	IOCTL_LIE("copy_eexist_field_zero", "COPY refused with EEXIST reports .copy = 0",
		  UFFDIO_COPY, hook_field, .b = EEXIST),
	IOCTL_LIE("copy_nowake", "COPY never wakes (as if DONTWAKE were always given)",
		  UFFDIO_COPY, hook_mode_set),
	IOCTL_LIE("copy_dontwake_ignored", "COPY wakes although DONTWAKE was given",
		  UFFDIO_COPY, hook_mode_clear),
	IOCTL_LIE("copy_mode_wp_ignored", "COPY with MODE_WP maps the page writable",
		  UFFDIO_COPY, hook_mode_clear, .a = UFFDIO_COPY_MODE_WP),
	IOCTL_LIE("fork_copy_eexist", "a COPY through a child's uffd (FORK event) answers EEXIST on a hole",
		  UFFDIO_COPY, hook_forked_copy_eexist),

	/* ZEROPAGE */
	IOCTL_LIE("zeropage_skip", "ZEROPAGE does nothing and answers success",
		  UFFDIO_ZEROPAGE, hook_pretend),
	IOCTL_LIE("zeropage_nonzero", "ZEROPAGE leaves a non-zero byte at the end of the range",
		  UFFDIO_ZEROPAGE, hook_zeropage_nonzero),
	IOCTL_LIE("zeropage_field_zero", "successful ZEROPAGE reports .zeropage = 0",
		  UFFDIO_ZEROPAGE, hook_field),
	IOCTL_LIE("zeropage_nowake", "ZEROPAGE never wakes",
		  UFFDIO_ZEROPAGE, hook_mode_set),
	IOCTL_LIE("zeropage_dontwake_ignored", "ZEROPAGE wakes although DONTWAKE was given",
		  UFFDIO_ZEROPAGE, hook_mode_clear),
	IOCTL_LIE("zeropage_enoent_maps", "ZEROPAGE refused with ENOENT maps the range anyway",
		  UFFDIO_ZEROPAGE, hook_zeropage_enoent_maps),

	/* WRITEPROTECT */
	IOCTL_LIE("wp_multipage_noop", "WRITEPROTECT over more than one page does nothing, answers success",
		  UFFDIO_WRITEPROTECT, hook_multipage_noop),
	IOCTL_LIE("wp_protect_noop", "WRITEPROTECT with MODE_WP does nothing, answers success",
		  UFFDIO_WRITEPROTECT, hook_pretend, .a = UFFDIO_WRITEPROTECT_MODE_WP),
	IOCTL_LIE("wp_unprotect_noop", "un-protecting does nothing (no wake either), answers success",
		  UFFDIO_WRITEPROTECT, hook_pretend, .b = UFFDIO_WRITEPROTECT_MODE_WP),
	IOCTL_LIE("wp_unprotect_nowake", "un-protecting never wakes",
		  UFFDIO_WRITEPROTECT, hook_mode_set, .b = UFFDIO_WRITEPROTECT_MODE_WP),
	IOCTL_LIE("wp_dontwake_ignored", "un-protecting wakes although DONTWAKE was given",
		  UFFDIO_WRITEPROTECT, hook_mode_clear),
	IOCTL_LIE("wp_short_range", "WRITEPROTECT leaves the last page of the range alone",
		  UFFDIO_WRITEPROTECT, hook_range_shorter),
	IOCTL_LIE("wp_reprotect_noop", "WRITEPROTECT does nothing on a range un-protected before",
		  UFFDIO_WRITEPROTECT, hook_wp_reprotect_noop),

	/* CONTINUE */
	IOCTL_LIE("continue_skip", "CONTINUE does nothing and answers success",
		  UFFDIO_CONTINUE, hook_pretend),
	IOCTL_LIE("continue_field_zero", "successful CONTINUE reports .mapped = 0",
		  UFFDIO_CONTINUE, hook_field),
	IOCTL_LIE("continue_partial_field_zero", "CONTINUE that stops early (EAGAIN) reports .mapped = 0",
		  UFFDIO_CONTINUE, hook_field, .b = EAGAIN),
	IOCTL_LIE("continue_nowake", "CONTINUE never wakes",
		  UFFDIO_CONTINUE, hook_mode_set),
	IOCTL_LIE("continue_dontwake_ignored", "CONTINUE wakes although DONTWAKE was given",
		  UFFDIO_CONTINUE, hook_mode_clear),
	IOCTL_LIE("continue_mode_wp_ignored", "CONTINUE with MODE_WP maps the page writable",
		  UFFDIO_CONTINUE, hook_mode_clear, .a = UFFDIO_CONTINUE_MODE_WP),

	/* POISON */
	IOCTL_LIE("poison_skip", "POISON installs no marker and answers success",
		  UFFDIO_POISON, hook_pretend),
	IOCTL_LIE("poison_as_data", "POISON maps zero bytes instead of a poison marker",
		  UFFDIO_POISON, hook_poison_as_data),
	IOCTL_LIE("poison_field_zero", "successful POISON reports .updated = 0",
		  UFFDIO_POISON, hook_field),
	IOCTL_LIE("poison_nowake", "POISON never wakes",
		  UFFDIO_POISON, hook_mode_set),
	IOCTL_LIE("poison_dontwake_ignored", "POISON wakes although DONTWAKE was given",
		  UFFDIO_POISON, hook_mode_clear),

	/* MOVE */
	IOCTL_LIE("move_as_copy", "MOVE copies: the source keeps its pages",
		  UFFDIO_MOVE, hook_move_as_copy),
	IOCTL_LIE("move_field_zero", "successful MOVE reports .move = 0",
		  UFFDIO_MOVE, hook_field),
	IOCTL_LIE("move_nowake", "MOVE never wakes",
		  UFFDIO_MOVE, hook_mode_set),
	IOCTL_LIE("move_dontwake_ignored", "MOVE wakes although DONTWAKE was given",
		  UFFDIO_MOVE, hook_mode_clear),
	IOCTL_LIE("move_src_holes_ignored", "MOVE ignores ALLOW_SRC_HOLES",
		  UFFDIO_MOVE, hook_mode_clear, .a = UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES),
	IOCTL_LIE("move_eexist_clobbers_src", "MOVE refused with EEXIST zeroes the source anyway",
		  UFFDIO_MOVE, hook_move_eexist_clobbers),

	/* REGISTER, UNREGISTER, WAKE */
	IOCTL_LIE("register_noop", "REGISTER answers like the kernel but leaves the range unregistered",
		  UFFDIO_REGISTER, hook_reg_undone),
	IOCTL_LIE("register_drops_wp", "REGISTER ignores MODE_WP (still offers WRITEPROTECT)",
		  UFFDIO_REGISTER, hook_reg_drop_mode,
		  .a = UFFDIO_REGISTER_MODE_WP, .c = WP_BIT),
	IOCTL_LIE("register_drops_minor", "REGISTER ignores MODE_MINOR (still offers CONTINUE)",
		  UFFDIO_REGISTER, hook_reg_drop_mode,
		  .a = UFFDIO_REGISTER_MODE_MINOR, .c = CONTINUE_BIT),
	IOCTL_LIE("register_ioctls_no_copy", "REGISTER's .ioctls lacks COPY",
		  UFFDIO_REGISTER, hook_reg_ioctls_clear, .a = COPY_BIT),
	IOCTL_LIE("register_ioctls_no_zeropage", "REGISTER's .ioctls lacks ZEROPAGE",
		  UFFDIO_REGISTER, hook_reg_ioctls_clear, .a = ZEROPAGE_BIT),
	IOCTL_LIE("register_ioctls_no_wp", "REGISTER's .ioctls lacks WRITEPROTECT",
		  UFFDIO_REGISTER, hook_reg_ioctls_clear, .a = WP_BIT),
	IOCTL_LIE("register_ioctls_no_continue", "REGISTER's .ioctls lacks CONTINUE",
		  UFFDIO_REGISTER, hook_reg_ioctls_clear, .a = CONTINUE_BIT),
	IOCTL_LIE("register_ioctls_no_poison", "REGISTER's .ioctls lacks POISON",
		  UFFDIO_REGISTER, hook_reg_ioctls_clear, .a = POISON_BIT),
	IOCTL_LIE("register_ioctls_no_move", "REGISTER's .ioctls lacks MOVE",
		  UFFDIO_REGISTER, hook_reg_ioctls_clear, .a = MOVE_BIT),
	IOCTL_LIE("register_ioctls_no_wake", "REGISTER's .ioctls lacks WAKE",
		  UFFDIO_REGISTER, hook_reg_ioctls_clear, .a = WAKE_BIT),
	IOCTL_LIE("register_ioctls_extra_continue", "REGISTER without MODE_MINOR offers CONTINUE",
		  UFFDIO_REGISTER, hook_reg_ioctls_add, .a = CONTINUE_BIT,
		  .b = UFFDIO_REGISTER_MODE_MINOR),
	IOCTL_LIE("unregister_noop", "UNREGISTER does nothing and answers success",
		  UFFDIO_UNREGISTER, hook_pretend),
	IOCTL_LIE("wake_noop", "WAKE wakes nobody and answers success",
		  UFFDIO_WAKE, hook_pretend),
	IOCTL_LIE("wake_first_page_only", "WAKE wakes only the first page of the range",
		  UFFDIO_WAKE, hook_range_shorter, .a = 1),

	/* UFFDIO_API and feature bits */
	IOCTL_LIE("api_drops_asked", "UFFDIO_API's answer lacks a feature that was asked for",
		  UFFDIO_API, hook_api_drops_asked),
	IOCTL_LIE("api_accepts_unknown", "UFFDIO_API accepts feature bits the kernel does not know",
		  UFFDIO_API, hook_api_accepts_unknown),
	IOCTL_LIE("api_twice_ok", "a second UFFDIO_API succeeds",
		  UFFDIO_API, hook_api_twice_ok),
	IOCTL_LIE("api_ioctls_zero", "UFFDIO_API's answer has .ioctls = 0",
		  UFFDIO_API, hook_api_ioctls_zero),
	IOCTL_LIE("api_fork_eperm", "EVENT_FORK refused with EPERM although the caller has CAP_SYS_PTRACE",
		  UFFDIO_API, hook_api_refuse, .a = UFFD_FEATURE_EVENT_FORK, .b = EPERM),
	IOCTL_LIE("ioctls_before_api_ok", "ioctls before UFFDIO_API work (a hidden handshake)",
		  0, hook_before_api_ok),
	IOCTL_LIE("feature_sigbus_ignored", "SIGBUS accepted and reported, but faults are queued",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_SIGBUS),
	IOCTL_LIE("feature_thread_id_ignored", "THREAD_ID accepted and reported, ptid never filled",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_THREAD_ID),
	IOCTL_LIE("feature_exact_address_ignored", "EXACT_ADDRESS accepted and reported, addresses masked",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_EXACT_ADDRESS),
	IOCTL_LIE("feature_wp_unpopulated_ignored", "WP_UNPOPULATED accepted and reported, holes not protected",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_WP_UNPOPULATED),
	IOCTL_LIE("feature_wp_async_ignored", "WP_ASYNC accepted and reported, WP faults still queued",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_WP_ASYNC),
	IOCTL_LIE("feature_event_fork_ignored", "EVENT_FORK accepted and reported, no FORK events",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_EVENT_FORK),
	IOCTL_LIE("feature_event_remap_ignored", "EVENT_REMAP accepted and reported, no REMAP events",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_EVENT_REMAP),
	IOCTL_LIE("feature_event_remove_ignored", "EVENT_REMOVE accepted and reported, no REMOVE events",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_EVENT_REMOVE),
	IOCTL_LIE("feature_event_unmap_ignored", "EVENT_UNMAP accepted and reported, no UNMAP events",
		  UFFDIO_API, hook_api_ignores, .a = UFFD_FEATURE_EVENT_UNMAP),

	/* Creation */
	{ .name = "create_user_mode_only_ignored",
	  .what = "UFFD_USER_MODE_ONLY is ignored: the fd also traps kernel-mode faults",
	  .create = create_strip, .a = UFFD_USER_MODE_ONLY },
	{ .name = "create_cloexec_ignored", .what = "O_CLOEXEC is ignored at creation",
	  .create = create_strip, .a = O_CLOEXEC },
	{ .name = "dev_new_refused", .what = "USERFAULTFD_IOC_NEW on /dev/userfaultfd answers EINVAL",
	  .create = create_dev_refused, .b = EINVAL },

	/* Errnos: each documented one becomes another (output fields untouched) */
	ERRNO_LIE("errno_einval", "EINVAL becomes ENOENT", EINVAL, ENOENT),
	ERRNO_LIE("errno_einval_ok", "EINVAL becomes success", EINVAL, 0),
	ERRNO_LIE("errno_eexist", "EEXIST becomes EINVAL", EEXIST, EINVAL),
	ERRNO_LIE("errno_enoent", "ENOENT becomes EINVAL", ENOENT, EINVAL),
	ERRNO_LIE("errno_eagain", "EAGAIN becomes EINVAL", EAGAIN, EINVAL),
	ERRNO_LIE("errno_ebusy", "EBUSY becomes EINVAL", EBUSY, EINVAL),
	ERRNO_LIE("errno_efault", "EFAULT becomes ENOENT", EFAULT, ENOENT),
	ERRNO_LIE("errno_eperm", "EPERM becomes EACCES", EPERM, EACCES),
	ERRNO_LIE("errno_esrch", "ESRCH becomes EINVAL", ESRCH, EINVAL),
	ERRNO_LIE("errno_enomem", "ENOMEM becomes EINVAL", ENOMEM, EINVAL),

	/* uffd_msg fields */
	MSG_LIE("msg_address_next_page", "fault address one base page further",
		msg_address_shift),
	MSG_LIE("msg_exact_address_masked", "EXACT_ADDRESS asked for, fault address masked anyway",
		msg_exact_masked),
	MSG_LIE("msg_flag_write_cleared", "a write fault without the WRITE flag",
		msg_flag, .a = UFFD_PAGEFAULT_FLAG_WRITE),
	MSG_LIE("msg_flag_write_set", "a read fault with the WRITE flag",
		msg_flag, .a = UFFD_PAGEFAULT_FLAG_WRITE, .b = 1),
	MSG_LIE("msg_flag_wp_cleared", "a write-protect fault without the WP flag",
		msg_flag, .a = UFFD_PAGEFAULT_FLAG_WP),
	MSG_LIE("msg_flag_minor_cleared", "a minor fault without the MINOR flag",
		msg_flag, .a = UFFD_PAGEFAULT_FLAG_MINOR),
	MSG_LIE("msg_ptid_zero", "THREAD_ID asked for, ptid 0",
		msg_ptid),
	MSG_LIE("msg_ptid_unasked", "ptid filled although THREAD_ID was not asked for",
		msg_ptid, .b = 1),
	MSG_LIE("msg_fork_ufd_parent", "FORK event carries a copy of the parent's uffd, not the child's",
		msg_fork_parent),
	MSG_LIE("msg_remap_from", "REMAP .from one page off",
		msg_event_field, .a = UFFD_EVENT_REMAP, .b = MSG_OFF(remap.from)),
	MSG_LIE("msg_remap_to", "REMAP .to one page off",
		msg_event_field, .a = UFFD_EVENT_REMAP, .b = MSG_OFF(remap.to)),
	MSG_LIE("msg_remap_len", "REMAP .len one page short",
		msg_event_field, .a = UFFD_EVENT_REMAP, .b = MSG_OFF(remap.len),
		.c = -4096),
	MSG_LIE("msg_remove_start", "REMOVE .start one page off",
		msg_event_field, .a = UFFD_EVENT_REMOVE, .b = MSG_OFF(remove.start)),
	MSG_LIE("msg_remove_end", "REMOVE .end one page off",
		msg_event_field, .a = UFFD_EVENT_REMOVE, .b = MSG_OFF(remove.end)),
	MSG_LIE("msg_unmap_start", "UNMAP .start one page off",
		msg_event_field, .a = UFFD_EVENT_UNMAP, .b = MSG_OFF(remove.start)),
	MSG_LIE("msg_unmap_end", "UNMAP .end one page off",
		msg_event_field, .a = UFFD_EVENT_UNMAP, .b = MSG_OFF(remove.end)),
	MSG_LIE("msg_remove_as_unmap", "a REMOVE event delivered as UNMAP",
		msg_relabel, .a = UFFD_EVENT_REMOVE, .b = UFFD_EVENT_UNMAP),
	MSG_LIE("read_wrong_event", "a page fault delivered as a REMAP event",
		msg_relabel, .a = UFFD_EVENT_PAGEFAULT, .b = UFFD_EVENT_REMAP),
	MSG_LIE("read_drop_first", "read() loses the first message of every uffd",
		msg_drop_first),
	MSG_LIE("read_duplicate_event", "read() delivers every non-cooperative event twice",
		msg_dup_events),

	/* Legal kernels: what a correct client copes with */
	IOCTL_LIE("future_feature_bit", "a future kernel: feature bit 17 reported and accepted",
		  UFFDIO_API, hook_api_future_bit, .a = BIT(17)),
	IOCTL_LIE("future_register_ioctl_bit", "a future kernel: REGISTER also offers ioctl bit 9",
		  UFFDIO_REGISTER, hook_reg_ioctls_add, .a = BIT(9)),
	IOCTL_LIE("no_move", "a kernel without MOVE (before 6.8)",
		  0, hook_hide, .a = UFFD_FEATURE_MOVE, .b = MOVE_BIT),
	IOCTL_LIE("no_poison", "a kernel without POISON (before 6.6)",
		  0, hook_hide, .a = UFFD_FEATURE_POISON, .b = POISON_BIT),
	IOCTL_LIE("no_wp_async", "a kernel without WP_ASYNC (before 6.7)",
		  0, hook_hide, .a = UFFD_FEATURE_WP_ASYNC),
	IOCTL_LIE("no_wp_unpopulated", "a kernel without WP_UNPOPULATED (before 6.4)",
		  0, hook_hide, .a = UFFD_FEATURE_WP_UNPOPULATED),
	IOCTL_LIE("no_exact_address", "a kernel without EXACT_ADDRESS (before 5.18)",
		  0, hook_hide, .a = UFFD_FEATURE_EXACT_ADDRESS),
	IOCTL_LIE("no_minor", "a kernel without MINOR faults (before 5.13)",
		  0, hook_hide, .a = MINOR_FEATURES, .b = CONTINUE_BIT,
		  .c = UFFDIO_REGISTER_MODE_MINOR),
	IOCTL_LIE("no_wp", "a kernel without write-protect (arm64 before 6.10)",
		  0, hook_hide, .a = WP_FEATURES, .b = WP_BIT,
		  .c = UFFDIO_REGISTER_MODE_WP),
};

const size_t liar_nlies = sizeof(liar_lies) / sizeof(liar_lies[0]);
