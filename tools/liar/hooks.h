/* SPDX-License-Identifier: GPL-2.0 */
/* faultline liar: the hooks lies.c builds its lies from (hooks*.c). */
#ifndef FAULTLINE_LIAR_HOOKS_H
#define FAULTLINE_LIAR_HOOKS_H

#include "liar.h"

#define IOCTL_HOOK(name)						\
	int name(const struct lie *l, struct fd_state *st, int fd,	\
		 unsigned long cmd, void *arg)
#define MSG_HOOK(name)							\
	int name(const struct lie *l, struct fd_state *st, int fd,	\
		 struct uffd_msg *m)

IOCTL_HOOK(hook_mode_set);
IOCTL_HOOK(hook_mode_clear);
IOCTL_HOOK(hook_pretend);
IOCTL_HOOK(hook_multipage_noop);
IOCTL_HOOK(hook_range_shorter);
IOCTL_HOOK(hook_field);
IOCTL_HOOK(hook_errno);
IOCTL_HOOK(hook_copy_writes_on);
IOCTL_HOOK(hook_copy_wrong_byte);
IOCTL_HOOK(hook_zeropage_nonzero);
IOCTL_HOOK(hook_zeropage_enoent_maps);
IOCTL_HOOK(hook_move_as_copy);
IOCTL_HOOK(hook_move_eexist_clobbers);
IOCTL_HOOK(hook_poison_as_data);
IOCTL_HOOK(hook_forked_copy_eexist);
IOCTL_HOOK(hook_wp_reprotect_noop);
IOCTL_HOOK(hook_reg_ioctls_clear);
IOCTL_HOOK(hook_reg_ioctls_add);
IOCTL_HOOK(hook_reg_drop_mode);
IOCTL_HOOK(hook_reg_undone);
IOCTL_HOOK(hook_api_drops_asked);
IOCTL_HOOK(hook_api_accepts_unknown);
IOCTL_HOOK(hook_api_twice_ok);
IOCTL_HOOK(hook_api_ioctls_zero);
IOCTL_HOOK(hook_api_refuse);
IOCTL_HOOK(hook_api_ignores);
IOCTL_HOOK(hook_api_future_bit);
IOCTL_HOOK(hook_hide);
IOCTL_HOOK(hook_before_api_ok);

int create_errno(const struct lie *l, int flags, int devfd);
int create_strip(const struct lie *l, int flags, int devfd);
int create_dev_refused(const struct lie *l, int flags, int devfd);

MSG_HOOK(msg_address_shift);
MSG_HOOK(msg_exact_masked);
MSG_HOOK(msg_flag);
MSG_HOOK(msg_ptid);
MSG_HOOK(msg_fork_parent);
MSG_HOOK(msg_event_field);
MSG_HOOK(msg_relabel);
MSG_HOOK(msg_drop_first);
MSG_HOOK(msg_dup_events);

#endif /* FAULTLINE_LIAR_HOOKS_H */
