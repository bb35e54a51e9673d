// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: the JSON renderer (bench/uffd-bench/schema.json), written
 * with the library's JSON writer (harness/json.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include "bench.h"
#include "json.h"

/* Six significant digits: more than any figure here can carry. */
#define BENCH_DIGITS	6

static void spread_obj(struct json *w, const char *key, const struct spread *s)
{
	json_open(w, key, '{');
	json_num(w, "median", s->median);
	json_num(w, "min", s->min);
	json_num(w, "max", s->max);
	json_close(w);
}

/* One measurement: a member @key of an object, or (NULL) an array item. */
static void entry(struct json *w, const char *key, enum op_id op,
		  const struct result *r)
{
	const struct op_desc *d = &op_table[op];
	bool measured = r->status == RES_MEASURED;
	bool pct = d->kind == KIND_LATENCY || op == OP_TOUCH;
	bool rate = d->kind != KIND_LATENCY;

	json_open(w, key, '{');
	json_str(w, "op", d->name);
	json_str(w, "status", res_status_name(r->status));
	if (!measured) {
		json_str(w, "cause", r->cause);
		json_str(w, "reason", r->why);
		json_close(w);
		return;
	}
	json_bool(w, "verified", true);
	json_uint(w, "page_size", r->page_size);
	json_uint(w, "repeats", r->repeats);
	json_bool(w, "budget_cut", r->budget_cut);
	json_num(w, "seconds", r->seconds);
	if (pct) {
		json_uint(w, "faults", r->faults);
		spread_obj(w, "p50_ns", &r->p50);
		spread_obj(w, "p90_ns", &r->p90);
		spread_obj(w, "p99_ns", &r->p99);
	}
	if (rate) {
		json_uint(w, "pages", r->pages);
		json_uint(w, "batch_pages", r->batch);
		spread_obj(w, "pages_per_s", &r->pages_per_s);
		if (op == OP_WP_ASYNC_SCAN)
			json_str(w, "gb_per_s", NULL);
		else
			spread_obj(w, "gb_per_s", &r->gb_per_s);
	}
	json_num(w, "spread", spread_rel(rate ? &r->pages_per_s : &r->p50));
	if (d->kind != KIND_FLOOR) {
		json_num(w, "x_touch", r->x_touch);
		json_num(w, "x_memcpy", r->x_memcpy);
	}
	json_close(w);
}

static void entries(struct json *w, const char *key, enum op_kind kind,
		    const struct options *o, const struct type_result *t)
{
	int i;

	json_open(w, key, kind == KIND_FLOOR ? '{' : '[');
	for (i = 0; i < OP_NR; i++) {
		if (op_table[i].kind != kind || !o->op_sel[i])
			continue;
		/* Floors are keyed by name: there is one of each. */
		entry(w, kind == KIND_FLOOR ? op_table[i].name : NULL, i,
		      &t->op[i]);
	}
	json_close(w);
}

static void memory_type(struct json *w, const struct options *o,
			const struct type_result *t)
{
	json_open(w, NULL, '{');
	json_str(w, "mem", mem_type_name(t->mem));
	json_uint(w, "page_size", t->page_size);
	json_str(w, "status", res_status_name(t->status));
	if (t->status != RES_MEASURED) {
		json_str(w, "cause", t->cause);
		json_str(w, "reason", t->why);
	} else {
		json_num(w, "seconds", t->seconds);
		entries(w, "floors", KIND_FLOOR, o, t);
		entries(w, "latency", KIND_LATENCY, o, t);
		entries(w, "throughput", KIND_THROUGHPUT, o, t);
	}
	json_close(w);
}

static void config(struct json *w, const struct options *o)
{
	int i;

	json_open(w, "config", '{');
	json_bool(w, "quick", o->quick);
	json_uint(w, "repeats", o->repeats);
	json_uint(w, "batch_pages", o->batch);
	json_uint(w, "faults", o->faults);
	json_uint(w, "huge_faults", o->huge_faults);
	json_uint(w, "pages", o->pages);
	json_uint(w, "huge_pages", o->huge_pages);
	json_num(w, "budget_s", o->budget_s);
	json_str(w, "placement", placement_name(o->placement));
	json_open(w, "cpus", '{');
	if (o->cpu_vcpu >= 0) {
		json_uint(w, "vcpu", (unsigned long long)o->cpu_vcpu);
		json_uint(w, "servicer", (unsigned long long)o->cpu_servicer);
	}
	json_close(w);
	json_open(w, "mem", '[');
	for (i = 0; i < MEM_TYPE_NR; i++)
		if (o->mem_sel[i])
			json_str(w, NULL, mem_type_name(i));
	json_close(w);
	json_open(w, "ops", '[');
	for (i = 0; i < OP_NR; i++)
		if (o->op_sel[i])
			json_str(w, NULL, op_table[i].name);
	json_close(w);
	json_close(w);
}

static void summary(struct json *w, const struct options *o,
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
	json_open(w, "summary", '{');
	json_uint(w, "measured", n[RES_MEASURED]);
	json_uint(w, "not_measured", n[RES_NOT_MEASURED]);
	json_uint(w, "failed", n[RES_FAILED]);
	json_close(w);
}

void render_json(const struct options *o, const struct run_info *info,
		 const struct type_result *types)
{
	struct json w;
	struct utsname u;
	const char *text;
	int m;

	uname(&u);
	json_object(&w);
	w.digits = BENCH_DIGITS;
	json_uint(&w, "schema_version", BENCH_SCHEMA_VERSION);
	json_str(&w, "tool", "uffd-bench");
	json_str(&w, "version", BENCH_VERSION);
	json_open(&w, "kernel", '{');
	json_str(&w, "release", u.release);
	json_str(&w, "machine", u.machine);
	json_close(&w);
	json_open(&w, "api", '{');
	json_uint(&w, "features", info->features);
	json_strf(&w, "features_hex", "0x%llx", (unsigned long long)info->features);
	json_close(&w);
	config(&w, o);
	json_open(&w, "clock", '{');
	json_str(&w, "source", bench_clock_source());
	json_uint(&w, "step_ns", bench_clock_step_ns());
	json_close(&w);
	json_open(&w, "huge_pages", '{');
	json_uint(&w, "page_size", info->huge_page_size);
	json_uint(&w, "wanted", info->huge_wanted > 0 ? info->huge_wanted : 0);
	json_uint(&w, "free", info->huge_free > 0 ? info->huge_free : 0);
	json_str(&w, "note", info->huge_note[0] ? info->huge_note : NULL);
	json_close(&w);
	json_open(&w, "memory_types", '[');
	for (m = 0; m < MEM_TYPE_NR; m++)
		if (types[m].selected)
			memory_type(&w, o, &types[m]);
	json_close(&w);
	summary(&w, o, types);
	json_num(&w, "seconds", info->seconds);
	json_uint(&w, "exit_code", (unsigned long long)info->exit_code);
	text = json_end(&w);
	if (!text) {
		fprintf(stderr, "uffd-bench: out of memory writing the JSON\n");
		exit(2);
	}
	printf("%s\n", text);
	json_free(&w);
}
