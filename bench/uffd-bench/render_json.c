// SPDX-License-Identifier: GPL-2.0
/* uffd-bench: the JSON renderer (bench/uffd-bench/schema.json). */
#include <math.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "bench.h"

/*
 * A tiny streaming writer: it remembers, per nesting level, whether a
 * member was written, so commas come out right without string building.
 */
struct jw {
	int depth;
	bool used[16];
};

static void jw_quoted(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Separator and key (NULL inside an array) of the next member. */
static void jw_member(struct jw *w, const char *key)
{
	if (w->used[w->depth])
		putchar(',');
	w->used[w->depth] = true;
	if (key) {
		jw_quoted(key);
		putchar(':');
	}
}

static void jw_open(struct jw *w, const char *key, char bracket)
{
	jw_member(w, key);
	putchar(bracket);
	w->used[++w->depth] = false;
}

static void jw_close(struct jw *w, char bracket)
{
	w->depth--;
	putchar(bracket);
}

static void jw_str(struct jw *w, const char *key, const char *val)
{
	jw_member(w, key);
	if (val)
		jw_quoted(val);
	else
		fputs("null", stdout);
}

static void jw_num(struct jw *w, const char *key, double val)
{
	jw_member(w, key);
	if (isfinite(val))
		printf("%.6g", val);
	else
		fputs("null", stdout);
}

static void jw_uint(struct jw *w, const char *key, unsigned long long val)
{
	jw_member(w, key);
	printf("%llu", val);
}

static void jw_bool(struct jw *w, const char *key, bool val)
{
	jw_member(w, key);
	fputs(val ? "true" : "false", stdout);
}

static void jw_spread(struct jw *w, const char *key, const struct spread *s)
{
	jw_open(w, key, '{');
	jw_num(w, "median", s->median);
	jw_num(w, "min", s->min);
	jw_num(w, "max", s->max);
	jw_close(w, '}');
}

/* One measurement: a member @key of an object, or (NULL) an array item. */
static void entry(struct jw *w, const char *key, enum op_id op,
		  const struct result *r)
{
	const struct op_desc *d = &op_table[op];
	bool measured = r->status == RES_MEASURED;
	bool pct = d->kind == KIND_LATENCY || op == OP_TOUCH;
	bool rate = d->kind != KIND_LATENCY;

	jw_open(w, key, '{');
	jw_str(w, "op", d->name);
	jw_str(w, "status", res_status_name(r->status));
	if (!measured) {
		jw_str(w, "cause", r->cause);
		jw_str(w, "reason", r->why);
		jw_close(w, '}');
		return;
	}
	jw_bool(w, "verified", true);
	jw_uint(w, "page_size", r->page_size);
	jw_uint(w, "repeats", r->repeats);
	jw_bool(w, "budget_cut", r->budget_cut);
	jw_num(w, "seconds", r->seconds);
	if (pct) {
		jw_uint(w, "faults", r->faults);
		jw_spread(w, "p50_ns", &r->p50);
		jw_spread(w, "p90_ns", &r->p90);
		jw_spread(w, "p99_ns", &r->p99);
	}
	if (rate) {
		jw_uint(w, "pages", r->pages);
		jw_uint(w, "batch_pages", r->batch);
		jw_spread(w, "pages_per_s", &r->pages_per_s);
		if (op == OP_WP_ASYNC_SCAN)
			jw_str(w, "gb_per_s", NULL);
		else
			jw_spread(w, "gb_per_s", &r->gb_per_s);
	}
	jw_num(w, "spread", spread_rel(rate ? &r->pages_per_s : &r->p50));
	if (d->kind != KIND_FLOOR) {
		jw_num(w, "x_touch", r->x_touch);
		jw_num(w, "x_memcpy", r->x_memcpy);
	}
	jw_close(w, '}');
}

static void entries(struct jw *w, const char *key, enum op_kind kind,
		    const struct options *o, const struct type_result *t)
{
	int i;

	jw_open(w, key, kind == KIND_FLOOR ? '{' : '[');
	for (i = 0; i < OP_NR; i++) {
		if (op_table[i].kind != kind || !o->op_sel[i])
			continue;
		/* Floors are keyed by name: there is one of each. */
		entry(w, kind == KIND_FLOOR ? op_table[i].name : NULL, i,
		      &t->op[i]);
	}
	jw_close(w, kind == KIND_FLOOR ? '}' : ']');
}

static void memory_type(struct jw *w, const struct options *o,
			const struct type_result *t)
{
	jw_open(w, NULL, '{');
	jw_str(w, "mem", mem_type_name(t->mem));
	jw_uint(w, "page_size", t->page_size);
	jw_str(w, "status", res_status_name(t->status));
	if (t->status != RES_MEASURED) {
		jw_str(w, "cause", t->cause);
		jw_str(w, "reason", t->why);
	} else {
		jw_num(w, "seconds", t->seconds);
		entries(w, "floors", KIND_FLOOR, o, t);
		entries(w, "latency", KIND_LATENCY, o, t);
		entries(w, "throughput", KIND_THROUGHPUT, o, t);
	}
	jw_close(w, '}');
}

static void config(struct jw *w, const struct options *o)
{
	int i;

	jw_open(w, "config", '{');
	jw_bool(w, "quick", o->quick);
	jw_uint(w, "repeats", o->repeats);
	jw_uint(w, "batch_pages", o->batch);
	jw_uint(w, "faults", o->faults);
	jw_uint(w, "huge_faults", o->huge_faults);
	jw_uint(w, "pages", o->pages);
	jw_uint(w, "huge_pages", o->huge_pages);
	jw_num(w, "budget_s", o->budget_s);
	jw_str(w, "placement", placement_name(o->placement));
	jw_open(w, "cpus", '{');
	if (o->cpu_vcpu >= 0) {
		jw_uint(w, "vcpu", (unsigned long long)o->cpu_vcpu);
		jw_uint(w, "servicer", (unsigned long long)o->cpu_servicer);
	}
	jw_close(w, '}');
	jw_open(w, "mem", '[');
	for (i = 0; i < MEM_TYPE_NR; i++)
		if (o->mem_sel[i])
			jw_str(w, NULL, mem_type_name(i));
	jw_close(w, ']');
	jw_open(w, "ops", '[');
	for (i = 0; i < OP_NR; i++)
		if (o->op_sel[i])
			jw_str(w, NULL, op_table[i].name);
	jw_close(w, ']');
	jw_close(w, '}');
}

static void summary(struct jw *w, const struct options *o,
		    const struct type_result *types)
{
	unsigned int n[3] = { 0, 0, 0 };
	int m, i;

	for (m = 0; m < MEM_TYPE_NR; m++) {
		if (!types[m].selected)
			continue;
		for (i = 0; i < OP_NR; i++) {
			if (!o->op_sel[i])
				continue;
			/* A type that could not run counts every op as not measured. */
			n[types[m].status == RES_MEASURED ?
			  types[m].op[i].status : RES_NOT_MEASURED]++;
		}
	}
	jw_open(w, "summary", '{');
	jw_uint(w, "measured", n[RES_MEASURED]);
	jw_uint(w, "not_measured", n[RES_NOT_MEASURED]);
	jw_uint(w, "failed", n[RES_FAILED]);
	jw_close(w, '}');
}

void render_json(const struct options *o, const struct run_info *info,
		 const struct type_result *types)
{
	struct jw w = { 0 };
	struct utsname u;
	char hex[24];
	int m;

	uname(&u);
	jw_open(&w, NULL, '{');
	jw_uint(&w, "schema_version", BENCH_SCHEMA_VERSION);
	jw_str(&w, "tool", "uffd-bench");
	jw_str(&w, "version", BENCH_VERSION);
	jw_open(&w, "kernel", '{');
	jw_str(&w, "release", u.release);
	jw_str(&w, "machine", u.machine);
	jw_close(&w, '}');
	jw_open(&w, "api", '{');
	jw_uint(&w, "features", info->features);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)info->features);
	jw_str(&w, "features_hex", hex);
	jw_close(&w, '}');
	config(&w, o);
	jw_open(&w, "clock", '{');
	jw_str(&w, "source", bench_clock_source());
	jw_uint(&w, "step_ns", bench_clock_step_ns());
	jw_close(&w, '}');
	jw_open(&w, "huge_pages", '{');
	jw_uint(&w, "page_size", info->huge_page_size);
	jw_uint(&w, "wanted", info->huge_wanted > 0 ? info->huge_wanted : 0);
	jw_uint(&w, "free", info->huge_free > 0 ? info->huge_free : 0);
	jw_str(&w, "note", info->huge_note[0] ? info->huge_note : NULL);
	jw_close(&w, '}');
	jw_open(&w, "memory_types", '[');
	for (m = 0; m < MEM_TYPE_NR; m++)
		if (types[m].selected)
			memory_type(&w, o, &types[m]);
	jw_close(&w, ']');
	summary(&w, o, types);
	jw_num(&w, "seconds", info->seconds);
	jw_uint(&w, "exit_code", (unsigned long long)info->exit_code);
	jw_close(&w, '}');
	putchar('\n');
}
