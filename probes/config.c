// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the kernel config options that decide what userfaultfd can
 * do, from /boot/config-<release> (plain text) or /proc/config.gz
 * (decompressed in-process with zlib).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "probe.h"

/*
 * The options reported, in this order, before any other option a feature
 * row of the domain table names (those are added after, in bit order).
 */
static const char *const cfg_base[] = {
	"CONFIG_USERFAULTFD",			/* the syscall and the device */
	"CONFIG_HAVE_ARCH_USERFAULTFD_WP",	/* write-protect, any memory */
	"CONFIG_HAVE_ARCH_USERFAULTFD_MINOR",	/* minor faults */
	"CONFIG_PTE_MARKER_UFFD_WP",		/* WP markers, WP on files */
	"CONFIG_SHMEM",				/* the shmem types */
	"CONFIG_MEMFD_CREATE",			/* memfd_create() */
	"CONFIG_HUGETLBFS",			/* the hugetlb types */
	"CONFIG_HUGETLB_PAGE",			/* huge pages */
	"CONFIG_TRANSPARENT_HUGEPAGE",		/* THP (MOVE of huge pmds) */
	"CONFIG_PROC_PAGE_MONITOR",		/* PAGEMAP_SCAN */
	"CONFIG_SECCOMP_FILTER",		/* filters that can deny uffd */
	"CONFIG_MEMORY_FAILURE",		/* hardware poison handling */
};

static void add_opt(struct probe_config *c, const char *name)
{
	int i;

	for (i = 0; i < c->nopts; i++)
		if (!strcmp(c->opts[i].name, name))
			return;
	if (c->nopts == CFG_OPT_MAX)
		return;
	c->opts[c->nopts].name = name;
	c->opts[c->nopts++].len = strlen(name);
}

static void list_options(struct probe_config *c)
{
	size_t i;

	for (i = 0; i < sizeof(cfg_base) / sizeof(cfg_base[0]); i++)
		add_opt(c, cfg_base[i]);
	for (i = 0; i < uffd_feature_count; i++)
		if (uffd_features[i].config)
			add_opt(c, uffd_features[i].config);
}

#define GUNZIP_MAX	(64u << 20)

/*
 * Decompress a gzip buffer (zlib checks the CRC and the length). 0, or
 * -EINVAL for corrupt, truncated or absurdly large data, -ENOMEM.
 */
static int gunzip(const unsigned char *in, size_t inlen, char **out,
		  size_t *outlen)
{
	size_t cap = inlen * 4 + 4096;
	z_stream zs = { .next_in = (unsigned char *)in, .avail_in = inlen };
	char *buf = malloc(cap), *nb;
	int ret;

	/* 16 + MAX_WBITS: a gzip header and trailer around the stream. */
	if (!buf || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	do {
		if (zs.total_out + 1 >= cap) {
			/* A config is well under a megabyte: refuse a bomb. */
			if (cap > GUNZIP_MAX) {
				ret = Z_DATA_ERROR;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				ret = Z_MEM_ERROR;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		zs.next_out = (unsigned char *)buf + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out - 1);
		ret = inflate(&zs, Z_NO_FLUSH);
	} while (ret == Z_OK);
	inflateEnd(&zs);
	if (ret != Z_STREAM_END) {
		free(buf);
		return ret == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	buf[zs.total_out] = 0;
	*out = buf;
	*outlen = zs.total_out;
	return 0;
}

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

	for (i = 0; i < p->config.nopts; i++) {
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
	char *buf = NULL, *text;
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
		buf = text;
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

	list_options(c);
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
	for (i = 0; i < p->config.nopts; i++)
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
