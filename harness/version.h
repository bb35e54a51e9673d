/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline's version string, one for every binary: the Makefile passes
 * -DFAULTLINE_VERSION from the top-level VERSION file; this is the value
 * for a build without it.
 */
#ifndef FAULTLINE_VERSION_H
#define FAULTLINE_VERSION_H

#ifndef FAULTLINE_VERSION
#define FAULTLINE_VERSION	"0.1.0"
#endif

#endif /* FAULTLINE_VERSION_H */
