/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: requirement gates. What the running kernel offers (on
 * a fresh fd, once per process), and the words a skip uses when it lacks
 * something: every reason comes from what the kernel reported, read
 * through the domain table, never from a version number.
 */
#ifndef FAULTLINE_REQUIRE_H
#define FAULTLINE_REQUIRE_H

#include <stdint.h>

#include "domain.h"

/* Features and ioctls the kernel offers on a fresh fd (cached). 0/-errno. */
int fl_kernel_features(uint64_t *features, uint64_t *ioctls);
/* "EVENT_FORK, MOVE" for the bits of @mask; static buffer. */
const char *fl_feature_list(uint64_t mask);
/* Names of the ioctl bits of @mask; static buffer. */
const char *fl_ioctl_list(uint64_t mask);
/*
 * The skip reason when the mask @have lacks bits of @want (features the
 * kernel reports, or ioctls REGISTER offered), NULL when it has them all.
 */
const char *fl_lack_reason(enum uffd_mask_kind kind, uint64_t have,
			   uint64_t want);
/* Why no uffd can be had here, for a skip reason. */
const char *fl_no_uffd_reason(int err);
/* Why no UFFD_USER_MODE_ONLY uffd (creation error @err), for a skip reason. */
const char *fl_user_mode_only_reason(int err);
/*
 * Why UFFDIO_API refused @features with @err although the kernel reports
 * every bit, when that refusal is documented (EVENT_FORK while this
 * process lacks CAP_SYS_PTRACE: a skip); NULL when it is a failure (the
 * capability is there) or @err is an fd.
 */
const char *fl_api_refusal_reason(uint64_t features, int err);

/* The features REGISTER with @mode needs on @type (domain table). */
static inline uint64_t fl_mode_features(enum mem_type type, uint64_t mode)
{
	return mem_mode_needs(type, mode);
}

/* The MISSING-mode feature a memory type needs (0 for anon). */
static inline uint64_t fl_missing_feature(enum mem_type type)
{
	return mem_mode_needs(type, UFFDIO_REGISTER_MODE_MISSING);
}

/* The WP features a memory type needs (PAGEFAULT_FLAG_WP, + on files). */
static inline uint64_t fl_wp_features(enum mem_type type)
{
	return mem_mode_needs(type, UFFDIO_REGISTER_MODE_WP);
}

/* The MINOR feature a memory type needs (0: MINOR not defined there). */
static inline uint64_t fl_minor_feature(enum mem_type type)
{
	return mem_mode_needs(type, UFFDIO_REGISTER_MODE_MINOR);
}

#endif /* FAULTLINE_REQUIRE_H */
