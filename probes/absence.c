// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: why UFFDIO_API does not report a feature, as far as the
 * kernel's own config tells. The same kernel version answers differently
 * per architecture: arm64 has write-protect only from 6.10 (the option
 * CONFIG_HAVE_ARCH_USERFAULTFD_WP is then absent), and since the kernel
 * can mask PAGEFAULT_FLAG_WP at run time (pgtable_supports_uffd_wp()),
 * riscv built with the option still lacks it on a CPU without the
 * Svrsw60t59b extension.
 */
#include <stdio.h>

#include "probe.h"

/* Features that need write-protect itself: masked with it at run time. */
#define WP_FAMILY (UFFD_FEATURE_WP_HUGETLBFS_SHMEM | \
		   UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_WP_ASYNC)

void feature_absence(const struct probe *p, unsigned int bit, char *buf,
		     size_t len)
{
	const char *cfg = uffd_feature_config(bit);
	int on = cfg ? config_enabled(p, cfg) : -1;

	if (((1ull << bit) & WP_FAMILY) &&
	    !(p->features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		char base[REASON_LEN / 2];

		feature_absence(p, 0, base, sizeof(base));
		snprintf(buf, len, "needs PAGEFAULT_FLAG_WP, absent too: %s",
			 base);
	} else if (on == 0)
		snprintf(buf, len, "%s; this kernel is built without %s",
			 uffd_feature_since(bit), cfg);
	else if (on == 1 && (1ull << bit) == UFFD_FEATURE_PAGEFAULT_FLAG_WP)
		/* The option came with the feature: only a run-time mask
		 * leaves it out (the page tables have no bit for uffd-wp). */
		snprintf(buf, len, "%s=y, masked at run time: this machine's "
			 "page tables have no uffd-wp bit (riscv needs Svrsw60t59b)",
			 cfg);
	else if (on == 1)
		snprintf(buf, len, "needs %s; %s=y here", uffd_feature_since(bit), cfg);
	else if (cfg)
		snprintf(buf, len, "needs %s and %s", uffd_feature_since(bit), cfg);
	else
		snprintf(buf, len, "needs %s", uffd_feature_since(bit));
}
