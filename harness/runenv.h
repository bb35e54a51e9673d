/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: what the runner tells each binary it starts.
 *
 * One fact crosses from the runner to a case binary: how many binaries of
 * this run may be running at the same time. It is a fact about this one
 * invocation, so it travels the way invocation facts do on Unix, in the
 * environment the runner passes to exec: it reaches exactly the binaries
 * of this run and nothing else. A file beside the huge page lock could not
 * say it: a binary started by hand, a run with --hugepages 0 (no lock
 * taken) and a VM without /run would all read someone else's answer or
 * none. The kselftest harness owns the binaries' argv, so not a flag.
 *
 * The runner sets RUNENV_JOBS for every case binary it starts; a binary
 * run by hand has none and runs alone.
 */
#ifndef FAULTLINE_RUNENV_H
#define FAULTLINE_RUNENV_H

#include <stdlib.h>

/* Decimal, >= 1: at most this many binaries of the run at once. */
#define RUNENV_JOBS "FAULTLINE_JOBS"

/*
 * How many binaries may run beside and including this one (1: alone, so
 * machine-wide counters such as HugePages_Rsvd move only because of us).
 */
static inline int runenv_jobs(void)
{
	const char *val = getenv(RUNENV_JOBS);
	int jobs = val ? atoi(val) : 1;

	return jobs > 1 ? jobs : 1;
}

#endif /* FAULTLINE_RUNENV_H */
