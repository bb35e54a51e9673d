// SPDX-License-Identifier: GPL-2.0
/*
 * faultline harness: does this kernel show uffd-wp in /proc/pid/pagemap?
 *
 * Bit 57 (PM_UFFD_WP) came after uffd-wp itself: a kernel can trap writes
 * to protected pages and still report the bit as 0. Cases that read the
 * bit as a secondary check ask here first, so such a kernel skips that
 * check instead of failing, while the behaviour (the write traps) is still
 * asserted. The answer comes from the kernel, never from its version.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault.h"
#include "pagemap.h"
#include "uffd.h"

/* Protect one populated anon page of @uffd and answer for it. */
static int probe_page(int uffd, char *page, size_t len)
{
	struct uffd_msg msg;
	struct toucher t;
	int bit, ret;

	if (uffd_register_range(uffd, page, len, UFFDIO_REGISTER_MODE_WP, NULL) ||
	    uffd_wp_range(uffd, page, len, true))
		return -EOPNOTSUPP;
	bit = pagemap_uffd_wp(page);
	if (bit != 0)
		return bit;
	/* Bit 0: only a write that demonstrably traps says it is hidden. */
	if (toucher_start(&t, page, TOUCH_WRITE, 1))
		return -EAGAIN;
	ret = uffd_wait_msg(uffd, &msg, 1000);
	if (!ret && (msg.event != UFFD_EVENT_PAGEFAULT ||
		     !(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)))
		ret = -EPROTO;
	uffd_wp_range(uffd, page, len, false);
	if (toucher_wait(&t, 1000))
		toucher_join(&t);
	else
		ret = -ETIMEDOUT;	/* left blocked: close() wakes it */
	return ret ? ret : 0;
}

int pagemap_wp_shown(void)
{
	static int cached = -EAGAIN;
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	char *page;
	int uffd;

	if (cached != -EAGAIN)
		return cached;
	uffd = uffd_open(UFFD_FEATURE_PAGEFAULT_FLAG_WP, NULL);
	if (uffd < 0)
		return cached = uffd;
	page = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		cached = -errno;
	} else {
		page[0] = 2;
		cached = probe_page(uffd, page, len);
	}
	close(uffd);
	if (page != MAP_FAILED && cached != -ETIMEDOUT)
		munmap(page, len);
	return cached;
}
