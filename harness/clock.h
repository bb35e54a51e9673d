/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: the one clock. Cases time their bounded waits with
 * it, the runner its deadlines: monotonic, so a clock step (NTP, a VM
 * without an RTC that sets the time late) never fires or stalls one.
 */
#ifndef FAULTLINE_CLOCK_H
#define FAULTLINE_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds (CLOCK_MONOTONIC; never 0 after boot). */
uint64_t now_ms(void);
/*
 * Monotonic microseconds: the runner's time stamps, on the clock of
 * /dev/kmsg's record times (both count from boot, neither counts suspend).
 */
uint64_t now_us(void);

#endif /* FAULTLINE_CLOCK_H */
