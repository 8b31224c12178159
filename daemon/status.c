/*
 * ballonetd: the state for operators, as the control protocol's status
 * reply (JSON) and as Prometheus metrics (text).  Values not known are
 * null in JSON and left out of the metrics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#ifndef BALLONET_VERSION
#define BALLONET_VERSION "0.1"
#endif

static json_t *
num(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *
real(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static const char *
state_name(const struct dvm *v)
{
	if (v->status == BK_ENOBALLOON)
		return "no-balloon";
	if (v->status != BK_OK)
		return "unreachable";
	switch (v->track.state) {
	case POL_NOSTATS:	return "no-stats";
	case POL_STUCK:		return "stuck";
	case POL_INACTIVE:	return "inactive";
	case POL_UNCOOP:	return "uncooperative";
	default:		return v->pv.short_mem ? "short" : "active";
	}
}

static json_t *
vm_status(const struct dvm *v)
{
	const struct bk_sample *s = &v->s;
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(v->name));
	json_object_set_new(o, "state", json_string(state_name(v)));
	json_object_set_new(o, "memory", num(v->pv.memory));
	json_object_set_new(o, "min", num(v->min));
	json_object_set_new(o, "max", num(v->max));
	json_object_set_new(o, "shares", num(v->shares));
	json_object_set_new(o, "target", num(v->track.target));
	json_object_set_new(o, "actual", num(v->pv.actual));
	json_object_set_new(o, "rss", num(v->pv.rss));
	json_object_set_new(o, "stats_ok", json_boolean(v->pv.stats_ok));
	/* The guest's own numbers, only when they passed collect.c. */
	json_object_set_new(o, "total", num(v->pv.stats_ok ? s->total : -1));
	json_object_set_new(o, "free", num(v->pv.stats_ok ? s->free : -1));
	json_object_set_new(o, "available",
	    num(v->pv.stats_ok ? s->available : -1));
	json_object_set_new(o, "used", num(v->pv.stats_ok ? v->pv.used : -1));
	json_object_set_new(o, "short", json_boolean(v->pv.short_mem));
	json_object_set_new(o, "short_why", v->pv.short_why ?
	    json_string(v->pv.short_why) : json_null());
	json_object_set_new(o, "problem", v->problem[0] ?
	    json_string(v->problem) : json_null());
	json_object_set_new(o, "reason", json_string(v->why_now));
	json_object_set_new(o, "changes", json_integer((json_int_t)v->changes));
	if (v->last_time == 0)
		json_object_set_new(o, "last", json_null());
	else
		json_object_set_new(o, "last", json_pack("{s:I, s:o, s:I, s:s}",
		    "time", (json_int_t)v->last_time, "old", num(v->last_old),
		    "new", (json_int_t)v->last.target,
		    "reason", v->last.reason));
	return o;
}

json_t *
daemon_status(const struct daemon *d)
{
	json_t *vms = json_array();

	for (size_t i = 0; i < d->nvms; i++)
		json_array_append_new(vms, vm_status(&d->vms[i]));
	return json_pack("{s:s, s:I, s:s, s:s, s:o, s:I, s:i, s:b, s:I, s:I, "
	    "s:I, s:{s:o, s:o, s:o, s:o}, s:o}",
	    "version", BALLONET_VERSION,
	    "pid", (json_int_t)getpid(),
	    "policy", d->pol->name,
	    "backend", d->bk->ops->name,
	    "budget", num(d->conf.budget),
	    "reserve", (json_int_t)d->conf.reserve,
	    "interval_ms", d->conf.interval_ms,
	    "backend_ok", !d->backend_down,
	    "steps", (json_int_t)d->steps,
	    "changes", (json_int_t)d->changes,
	    "started", (json_int_t)d->started,
	    "host",
	    "mem_total", num(d->host.mem_total),
	    "mem_available", num(d->host.mem_available),
	    "psi_some_avg10", real(d->host.psi_some10),
	    "psi_full_avg10", real(d->host.psi_full10),
	    "vms", vms);
}

/* A growing text buffer. */
struct text {
	char	*buf;
	size_t	 len, cap;
};

static void
put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL,
		    t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (t->buf != NULL && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap + (size_t)n + 1) * 2;
		char *b = realloc(t->buf, cap);
		if (b == NULL)
			return;
		t->buf = b;
		t->cap = cap;
	}
}

/* A label value: backslash, quote and newline escaped. */
static const char *
label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

static const struct {
	const char	*name;
	const char	*help;
	size_t		 offset;	/* int64_t in struct dvm */
} vm_metrics[] = {
	{ "ballonet_vm_target_bytes", "Target set by ballonetd",
	    offsetof(struct dvm, track.target) },
	{ "ballonet_vm_actual_bytes", "Balloon actual (logical size)",
	    offsetof(struct dvm, pv.actual) },
	{ "ballonet_vm_min_bytes", "Configured minimum",
	    offsetof(struct dvm, min) },
	{ "ballonet_vm_max_bytes", "Configured maximum",
	    offsetof(struct dvm, max) },
	{ "ballonet_vm_rss_bytes", "Resident set of the VM's process",
	    offsetof(struct dvm, pv.rss) },
	{ "ballonet_vm_free_bytes", "Free memory the guest reports",
	    offsetof(struct dvm, pv.free) },
	{ "ballonet_vm_used_bytes", "Memory the guest's work holds",
	    offsetof(struct dvm, pv.used) },
};

char *
daemon_metrics(const struct daemon *d)
{
	struct text t = { 0 };
	char lb[BK_NAME_MAX * 2];

	for (size_t m = 0; m < sizeof(vm_metrics) / sizeof(vm_metrics[0]);
	    m++) {
		put(&t, "# HELP %s %s.\n# TYPE %s gauge\n", vm_metrics[m].name,
		    vm_metrics[m].help, vm_metrics[m].name);
		for (size_t i = 0; i < d->nvms; i++) {
			int64_t v = *(const int64_t *)((const char *)&d->vms[i] +
			    vm_metrics[m].offset);
			if (v >= 0)
				put(&t, "%s{vm=\"%s\"} %lld\n",
				    vm_metrics[m].name, label(d->vms[i].name,
				    lb, sizeof(lb)), (long long)v);
		}
	}
	put(&t, "# HELP ballonet_vm_short Whether the guest is short of "
	    "memory.\n# TYPE ballonet_vm_short gauge\n");
	for (size_t i = 0; i < d->nvms; i++)
		put(&t, "ballonet_vm_short{vm=\"%s\"} %d\n",
		    label(d->vms[i].name, lb, sizeof(lb)), d->vms[i].pv.short_mem);
	put(&t, "# HELP ballonet_vm_changes_total Targets set.\n"
	    "# TYPE ballonet_vm_changes_total counter\n");
	for (size_t i = 0; i < d->nvms; i++)
		put(&t, "ballonet_vm_changes_total{vm=\"%s\"} %llu\n",
		    label(d->vms[i].name, lb, sizeof(lb)),
		    (unsigned long long)d->vms[i].changes);
	put(&t, "# HELP ballonet_vms Managed VMs.\n# TYPE ballonet_vms gauge\n"
	    "ballonet_vms %zu\n", d->nvms);
	if (d->conf.budget > 0)
		put(&t, "# HELP ballonet_budget_bytes What the VMs may hold "
		    "together.\n# TYPE ballonet_budget_bytes gauge\n"
		    "ballonet_budget_bytes %lld\n", (long long)d->conf.budget);
	put(&t, "# HELP ballonet_reserve_bytes What the host keeps.\n"
	    "# TYPE ballonet_reserve_bytes gauge\nballonet_reserve_bytes %lld\n",
	    (long long)d->conf.reserve);
	if (d->host.mem_available >= 0)
		put(&t, "# HELP ballonet_host_available_bytes MemAvailable.\n"
		    "# TYPE ballonet_host_available_bytes gauge\n"
		    "ballonet_host_available_bytes %lld\n",
		    (long long)d->host.mem_available);
	if (d->host.psi_some10 >= 0)
		put(&t, "# HELP ballonet_host_pressure_some_avg10 "
		    "/proc/pressure/memory some avg10, percent.\n"
		    "# TYPE ballonet_host_pressure_some_avg10 gauge\n"
		    "ballonet_host_pressure_some_avg10 %.2f\n",
		    d->host.psi_some10);
	put(&t, "# HELP ballonet_steps_total Steps run.\n"
	    "# TYPE ballonet_steps_total counter\nballonet_steps_total %llu\n"
	    "# HELP ballonet_changes_total Targets set.\n"
	    "# TYPE ballonet_changes_total counter\n"
	    "ballonet_changes_total %llu\n"
	    "# HELP ballonet_backend_failures_total Backend failures.\n"
	    "# TYPE ballonet_backend_failures_total counter\n"
	    "ballonet_backend_failures_total %llu\n",
	    (unsigned long long)d->steps, (unsigned long long)d->changes,
	    (unsigned long long)d->failures);
	return t.buf;
}
