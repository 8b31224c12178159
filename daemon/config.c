/*
 * ballonetd: the configuration file, read with libconfig (see config.h).
 * Every error is one line naming the file and line; unknown settings
 * are errors too, so that a typo does not pass unnoticed.
 */
#include "config.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "size.h"

struct ctx {
	const char	*path;
	char		*err;
	size_t		 errlen;
};

static int
cfail(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[BK_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s:%d: %s", x->path,
	    s != NULL ? config_setting_source_line(s) : 0, msg);
	return -1;
}

void
dconf_init(struct dconf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->policy, sizeof(c->policy), "ours");
	c->budget = -1;
	c->reserve = 256 * MIB;
	c->interval_ms = 2000;
	c->stats_period = 2;
	c->defaults.min = c->defaults.max = c->defaults.shares = -1;
	c->defaults.on_exit = ON_EXIT_KEEP;
}

void
dconf_free(struct dconf *c)
{
	free(c->vms);
	c->vms = NULL;
	c->nvms = 0;
}

int
dconf_size(const char *text, int64_t *bytes)
{
	uint64_t b;

	if (size_parse(text, &b) != 0 || b == 0 || b >= (uint64_t)POL_HUGE)
		return -1;
	*bytes = (int64_t)b;
	return 0;
}

int
dconf_on_exit(const char *text, enum on_exit *a, int64_t *size)
{
	if (strcmp(text, "keep") == 0)
		*a = ON_EXIT_KEEP;
	else if (strcmp(text, "max") == 0)
		*a = ON_EXIT_MAX;
	else if (strcmp(text, "min") == 0)
		*a = ON_EXIT_MIN;
	else if (dconf_size(text, size) == 0)
		*a = ON_EXIT_SIZE;
	else
		return -1;
	return 0;
}

static int
get_size(struct ctx *x, const config_setting_t *s, int64_t *bytes)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long mib = config_setting_get_int64(s);
		if (mib <= 0 || mib >= POL_HUGE / MIB)
			return cfail(x, s, "%s: %lld MiB is not a size",
			    config_setting_name(s), mib);
		*bytes = mib * MIB;
		return 0;
	}
	const char *text = config_setting_get_string(s);
	if (text == NULL || dconf_size(text, bytes) != 0)
		return cfail(x, s, "%s: not a size (write e.g. \"512M\")",
		    config_setting_name(s));
	return 0;
}

static int
get_string(struct ctx *x, const config_setting_t *s, char *buf, size_t len)
{
	const char *text = config_setting_get_string(s);

	if (text == NULL)
		return cfail(x, s, "%s: must be a string",
		    config_setting_name(s));
	if (strlen(text) >= len)
		return cfail(x, s, "%s: too long", config_setting_name(s));
	snprintf(buf, len, "%s", text);
	return 0;
}

static int
get_number(struct ctx *x, const config_setting_t *s, double *v)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		*v = (double)config_setting_get_int64(s);
		return 0;
	case CONFIG_TYPE_FLOAT:
		*v = config_setting_get_float(s);
		return 0;
	default:
		return cfail(x, s, "%s: must be a number",
		    config_setting_name(s));
	}
}

/* One VM group (or the defaults) into V. */
static int
load_vm(struct ctx *x, const config_setting_t *g, struct dconf_vm *v,
    bool named)
{
	if (!config_setting_is_group(g))
		return cfail(x, g, "a VM must be a group { name = ...; }");
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *key = config_setting_name(s);
		char text[64];
		double d;

		if (named && strcmp(key, "name") == 0) {
			if (get_string(x, s, v->name, sizeof(v->name)) != 0)
				return -1;
		} else if (named && strcmp(key, "socket") == 0) {
			if (get_string(x, s, v->socket, sizeof(v->socket)) != 0)
				return -1;
		} else if (strcmp(key, "min") == 0) {
			if (get_size(x, s, &v->min) != 0)
				return -1;
		} else if (strcmp(key, "max") == 0) {
			if (get_size(x, s, &v->max) != 0)
				return -1;
		} else if (strcmp(key, "shares") == 0) {
			if (get_number(x, s, &d) != 0)
				return -1;
			if (d < 1 || d > 1000000 || d != (int64_t)d)
				return cfail(x, s, "shares: a whole number "
				    "from 1 to 1000000");
			v->shares = (int64_t)d;
		} else if (strcmp(key, "on_exit") == 0) {
			if (get_string(x, s, text, sizeof(text)) != 0)
				return -1;
			if (dconf_on_exit(text, &v->on_exit,
			    &v->on_exit_size) != 0)
				return cfail(x, s, "on_exit: \"keep\", \"max\", "
				    "\"min\" or a size");
		} else {
			return cfail(x, s, "unknown VM setting '%s'", key);
		}
	}
	if (named && v->name[0] == '\0')
		return cfail(x, g, "a VM without a name");
	if (v->min > 0 && v->max > 0 && v->min > v->max)
		return cfail(x, g, "%s: min is above max",
		    named ? v->name : "defaults");
	return 0;
}

static int
load_vms(struct ctx *x, const config_setting_t *list, struct dconf *c)
{
	int n = config_setting_length(list);

	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return cfail(x, list, "vms: must be a list ( { ... }, ... )");
	if (n == 0)
		return 0;
	if ((c->vms = calloc((size_t)n, sizeof(*c->vms))) == NULL)
		return cfail(x, list, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);
		struct dconf_vm *v = &c->vms[i];
		v->min = v->max = v->shares = -1;
		if (load_vm(x, g, v, true) != 0)
			return -1;
		for (int j = 0; j < i; j++)
			if (strcmp(c->vms[j].name, v->name) == 0)
				return cfail(x, g, "VM '%s' named twice",
				    v->name);
		c->nvms++;
	}
	return 0;
}

static int
load_global(struct ctx *x, const config_setting_t *s, struct dconf *c)
{
	const char *key = config_setting_name(s);
	char text[64];
	double d;

	if (strcmp(key, "policy") == 0) {
		if (get_string(x, s, c->policy, sizeof(c->policy)) != 0)
			return -1;
		if (policy_find(c->policy) == NULL)
			return cfail(x, s, "policy: '%s' is none of %s",
			    c->policy, policy_names());
	} else if (strcmp(key, "budget") == 0) {
		return get_size(x, s, &c->budget);
	} else if (strcmp(key, "reserve") == 0) {
		return get_size(x, s, &c->reserve);
	} else if (strcmp(key, "interval") == 0) {
		if (get_number(x, s, &d) != 0)
			return -1;
		if (!(d >= 0.1 && d <= 3600))
			return cfail(x, s, "interval: seconds from 0.1 to 3600");
		c->interval_ms = (int)(d * 1000 + 0.5);
	} else if (strcmp(key, "stats_period") == 0) {
		if (get_number(x, s, &d) != 0)
			return -1;
		if (!(d >= 1 && d <= 3600) || d != (int)d)
			return cfail(x, s, "stats_period: whole seconds from 1 "
			    "to 3600");
		c->stats_period = (int)d;
	} else if (strcmp(key, "control") == 0) {
		return get_string(x, s, c->control, sizeof(c->control));
	} else if (strcmp(key, "metrics") == 0) {
		return get_string(x, s, c->metrics, sizeof(c->metrics));
	} else if (strcmp(key, "connect") == 0) {
		return get_string(x, s, c->connect, sizeof(c->connect));
	} else if (strcmp(key, "on_exit") == 0) {
		if (get_string(x, s, text, sizeof(text)) != 0)
			return -1;
		if (dconf_on_exit(text, &c->defaults.on_exit,
		    &c->defaults.on_exit_size) != 0)
			return cfail(x, s, "on_exit: \"keep\", \"max\", \"min\" "
			    "or a size");
	} else if (strcmp(key, "defaults") == 0) {
		return load_vm(x, s, &c->defaults, false);
	} else if (strcmp(key, "vms") == 0) {
		return load_vms(x, s, c);
	} else {
		return cfail(x, s, "unknown setting '%s'", key);
	}
	return 0;
}

int
dconf_load(const char *path, struct dconf *c, char *err, size_t errlen)
{
	struct ctx x = { path, err, errlen };
	config_t cfg;
	int r = 0;

	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read the file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path,
			    config_error_line(&cfg), config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	const config_setting_t *root = config_root_setting(&cfg);
	for (int i = 0; r == 0 && i < config_setting_length(root); i++)
		r = load_global(&x, config_setting_get_elem(root, i), c);
	config_destroy(&cfg);
	if (r != 0)
		dconf_free(c);
	return r;
}

const struct dconf_vm *
dconf_vm(const struct dconf *c, const char *name)
{
	for (size_t i = 0; i < c->nvms; i++)
		if (strcmp(c->vms[i].name, name) == 0)
			return &c->vms[i];
	return &c->defaults;
}
