// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the kernel config options that decide what userfaultfd can
 * do, from /boot/config-<release> (plain text) or /proc/config.gz
 * (decompressed in-process, see inflate.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define OPT(n, w) { .name = n, .len = sizeof(n) - 1, .why = w }

const struct cfg_opt cfg_opts_template[CFG_OPT_NR] = {
	OPT("CONFIG_USERFAULTFD", "the syscall and /dev/userfaultfd"),
	OPT("CONFIG_HAVE_ARCH_USERFAULTFD_WP", "write-protect mode (PAGEFAULT_FLAG_WP)"),
	OPT("CONFIG_HAVE_ARCH_USERFAULTFD_MINOR", "minor-fault mode (MINOR_SHMEM/HUGETLBFS)"),
	OPT("CONFIG_PTE_MARKER_UFFD_WP", "WP on shmem/hugetlb, WP_UNPOPULATED, WP_ASYNC"),
	OPT("CONFIG_SHMEM", "shmem memory type"),
	OPT("CONFIG_MEMFD_CREATE", "memfd_create() for shmem/hugetlb"),
	OPT("CONFIG_HUGETLBFS", "hugetlb memory types"),
	OPT("CONFIG_HUGETLB_PAGE", "huge pages"),
	OPT("CONFIG_TRANSPARENT_HUGEPAGE", "THP (UFFDIO_MOVE of huge pmds)"),
	OPT("CONFIG_PROC_PAGE_MONITOR", "PAGEMAP_SCAN for WP_ASYNC"),
	OPT("CONFIG_SECCOMP_FILTER", "seccomp filters (can deny userfaultfd)"),
	OPT("CONFIG_MEMORY_FAILURE", "hardware poison handling (UFFDIO_POISON users)"),
};

static int read_all(const char *path, char **bufp, size_t *lenp)
{
	size_t cap = 1 << 17, len = 0;
	char *buf = malloc(cap), *nb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf) {
		int err = fd < 0 ? errno : ENOMEM;

		if (fd >= 0)
			close(fd);
		free(buf);
		return -err;
	}
	for (;;) {
		if (len + 1 >= cap) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* E.g. EISDIR: a failed read is not an empty config. */
			int err = errno;

			close(fd);
			free(buf);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	*bufp = buf;
	*lenp = len;
	return 0;
}

static struct cfg_opt *find_opt(struct probe *p, const char *name,
				size_t len)
{
	int i;

	for (i = 0; i < CFG_OPT_NR; i++) {
		const struct cfg_opt *o = &p->config.opts[i];

		if (o->len == len && !memcmp(o->name, name, len))
			return &p->config.opts[i];
	}
	return NULL;
}

/* "CONFIG_X=y" or "# CONFIG_X is not set"; anything else is skipped. */
static void parse_line(struct probe *p, const char *s, const char *eol)
{
	const char *name = s, *e;
	struct cfg_opt *o;
	bool unset = false;
	size_t vlen;

	if (*s == '#') {
		if (eol - s < 20 || memcmp(s, "# CONFIG_", 9))
			return;
		name = s + 2;
		unset = true;
	} else if (eol - s < 9 || memcmp(s, "CONFIG_", 7)) {
		return;
	}
	for (e = name; e < eol && *e != '=' && *e != ' '; e++)
		;
	o = find_opt(p, name, (size_t)(e - name));
	if (!o)
		return;
	o->present = true;
	if (unset) {
		strcpy(o->value, "n");
		return;
	}
	vlen = e < eol ? (size_t)(eol - e - 1) : 0;
	if (vlen >= sizeof(o->value))
		vlen = sizeof(o->value) - 1;
	memcpy(o->value, e + 1, vlen);
	o->value[vlen] = 0;
}

/* Parse every line; returns how many looked like config lines at all. */
static int parse_config(struct probe *p, const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len;
	int seen = 0;

	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));

		if (!eol)
			eol = end;
		if (eol - s > 7 && (!memcmp(s, "CONFIG_", 7) ||
				    !memcmp(s, "# CONFIG_", 9)))
			seen++;
		if (*s == 'C' || *s == '#')
			parse_line(p, s, eol);
		s = eol + 1;
	}
	return seen;
}

/*
 * Load one config file, plain or gzip (by its magic). 0 when read, -errno
 * when it cannot be read, 1 when it was read but is unusable (the config
 * verdict then says why).
 */
static int load(struct probe *p, const char *path)
{
	struct probe_config *c = &p->config;
	size_t len = 0, tlen = 0;
	unsigned char *text;
	char *buf = NULL;
	int ret;

	ret = read_all(path, &buf, &len);
	if (ret)
		return ret;
	if (len >= 2 && (unsigned char)buf[0] == 0x1f &&
	    (unsigned char)buf[1] == 0x8b) {
		ret = gunzip((unsigned char *)buf, len, &text, &tlen);
		free(buf);
		if (ret) {
			verdict_set(&c->v, TRI_UNKNOWN, -ret, "corrupt",
				    "%s could not be decompressed: %s", path,
				    strerror(-ret));
			return 1;
		}
		buf = (char *)text;
		len = tlen;
	}
	ret = parse_config(p, buf, len);
	free(buf);
	if (!ret) {
		verdict_set(&c->v, TRI_UNKNOWN, 0, "not_a_config",
			    "%s has no CONFIG_ lines: not a kernel config", path);
		return 1;
	}
	snprintf(c->source, sizeof(c->source), "%s", path);
	verdict_set(&c->v, TRI_YES, 0, "ok", "read %s", path);
	return 0;
}

void probe_config(struct probe *p)
{
	struct probe_config *c = &p->config;
	char boot[sizeof(c->source)];
	int ret, err_boot;

	memcpy(c->opts, cfg_opts_template, sizeof(c->opts));
	if (p->config_path) {
		ret = load(p, p->config_path);
		if (ret < 0)
			verdict_set(&c->v, TRI_UNKNOWN, -ret, "unreadable",
				    "%s: %s", p->config_path, strerror(-ret));
		return;
	}
	/* /boot first: plain text, no decompression. */
	snprintf(boot, sizeof(boot), "/boot/config-%s", p->uts.release);
	ret = load(p, boot);
	if (ret >= 0)
		return;
	err_boot = -ret;
	ret = load(p, "/proc/config.gz");
	if (ret < 0)
		verdict_set(&c->v, TRI_UNKNOWN, -ret, "unreadable",
			    "%s: %s; /proc/config.gz: %s (CONFIG_IKCONFIG_PROC off?)",
			    boot, strerror(err_boot), strerror(-ret));
}

const char *config_value(const struct probe *p, const char *name)
{
	int i;

	if (p->config.v.status != TRI_YES)
		return NULL;
	for (i = 0; i < CFG_OPT_NR; i++)
		if (!strcmp(p->config.opts[i].name, name))
			return p->config.opts[i].present ?
				p->config.opts[i].value : "n";
	return NULL;
}

int config_enabled(const struct probe *p, const char *name)
{
	const char *v = config_value(p, name);

	if (!v)
		return -1;
	return !strcmp(v, "y") || !strcmp(v, "m");
}
