/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: look at our own address space without touching it
 * (touching a registered hole would fault): is a page mapped, what does
 * smaps say about the mapping, can we get a transparent huge page.
 */
#ifndef FAULTLINE_VMSTATE_H
#define FAULTLINE_VMSTATE_H

#include <stddef.h>

/* 1 if the base page holding @addr is mapped (pagemap), 0 if not, -errno. */
int vm_present(const void *addr);
/* The same for the page holding @addr in process @pid (needs ptrace read). */
int vm_present_pid(int pid, const void *addr);
/* How many base pages of [addr, addr+len) are mapped, or -errno. */
long vm_present_count(const void *addr, size_t len);
/*
 * A "<field>: N kB" line of /proc/self/smaps for the mapping holding
 * @addr (e.g. "AnonHugePages"), in kB, or -errno.
 */
long vm_smaps_kb(const void *addr, const char *field);
/* PMD size of transparent huge pages (0 if THP is not built in). */
size_t vm_thp_size(void);
/*
 * Why THP for madvised anon memory cannot be had ("THP disabled: ...
 * enabled is [never]"), or NULL when it can.
 */
const char *vm_thp_unavailable(void);

#endif /* FAULTLINE_VMSTATE_H */
