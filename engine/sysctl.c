/*
 * The userland interface of viomb(4) and balloon(4) over the engine.
 */
#include <ballonet/fmt.h>
#include <ballonet/priv/balloon_priv.h>
#include <ballonet/str.h>
#include <ballonet/sysctl.h>

#define NEUTRAL_PREFIX	"hw.balloon"

struct node {
	const char	*leaf;
	uint64_t	(*get)(const struct bn_balloon *);
	int		(*set)(struct bn_balloon *, uint64_t);	/* NULL: RO */
};

static uint64_t
get_npages(const struct bn_balloon *b)
{
	return b->host_pages;
}

static uint64_t
get_actual(const struct bn_balloon *b)
{
	return b->pages;
}

static uint64_t
get_min(const struct bn_balloon *b)
{
	return b->min_kib;
}

static uint64_t
get_features(const struct bn_balloon *b)
{
	return b->features;
}

static uint64_t
get_oom_deflated(const struct bn_balloon *b)
{
	return b->stats.oom_deflated;
}

static uint64_t
get_reported(const struct bn_balloon *b)
{
	return b->stats.reported;
}

static uint64_t
get_stats_updates(const struct bn_balloon *b)
{
	return b->stats.stats_updates;
}

/*
 * With memory hot-plugged above the boot RAM (struct bn_hotplug), the
 * reservation is the boot RAM less the balloon plus what is plugged, and
 * "max" is what the guest can reach: boot RAM plus the usable region.
 */
static uint64_t
get_current(const struct bn_balloon *b)
{
	return bn_balloon_current_kib(b) + bn_balloon_hotplug(b)->plugged_kib;
}

static uint64_t
get_max(const struct bn_balloon *b)
{
	return bn_balloon_max_kib(b) + bn_balloon_hotplug(b)->usable_kib;
}

static uint64_t
get_target(const struct bn_balloon *b)
{
	return bn_balloon_target_kib(b) + bn_balloon_hotplug(b)->requested_kib;
}

/*
 * Above the boot RAM only the host can add memory (virtio-mem's
 * requested_size): the balloon empties, the rest is the host's to plug.
 * On Xen the guest plugs it itself: the target goes to memory/target.
 */
static int
set_target(struct bn_balloon *b, uint64_t kib)
{
	uint64_t boot = bn_balloon_max_kib(b);

	if (kib > boot && kib <= get_max(b) &&
	    bn_balloon_hotplug(b)->guest_plugs)
		return bn_balloon_set_hot_target_kib(b, kib);
	if (kib > boot && kib <= get_max(b))
		kib = boot;
	return bn_balloon_set_target_kib(b, kib);
}

static uint64_t
get_hotplugged(const struct bn_balloon *b)
{
	return bn_balloon_hotplug(b)->plugged_kib;
}

static const struct node nodes[] = {
	{ "npages", get_npages, NULL },
	{ "actual", get_actual, NULL },
	{ "current", get_current, NULL },
	{ "min", get_min, bn_balloon_set_min_kib },
	{ "max", get_max, NULL },
	{ "target", get_target, set_target },
	{ "features", get_features, NULL },		/* negotiated bits */
	{ "oom_deflated", get_oom_deflated, NULL },	/* pages */
	{ "reported", get_reported, NULL },		/* pages */
	{ "stats_updates", get_stats_updates, NULL },	/* buffers */
	{ "hotplugged", get_hotplugged, NULL },		/* KiB */
};
#define NNODES	(sizeof(nodes) / sizeof(nodes[0]))

/* If name is "prefix.rest", return rest; else NULL. */
static const char *
strip_prefix(const char *name, const char *prefix)
{
	while (*prefix != '\0') {
		if (*name++ != *prefix++)
			return NULL;
	}
	return *name == '.' ? name + 1 : NULL;
}

static const struct node *
lookup(const struct bn_balloon *b, const char *name)
{
	const char *leaf;
	size_t i;

	leaf = strip_prefix(name, b->cfg.ops->sysctl_prefix);
	if (leaf == NULL)
		leaf = strip_prefix(name, NEUTRAL_PREFIX);
	if (leaf == NULL)
		return NULL;
	for (i = 0; i < NNODES; i++)
		if (bn_streq(leaf, nodes[i].leaf))
			return &nodes[i];
	return NULL;
}

size_t
bn_sysctl_count(const struct bn_balloon *b)
{
	(void)b;
	return 2 * NNODES;
}

int
bn_sysctl_name(const struct bn_balloon *b, size_t i, char *buf, size_t len)
{
	const char *prefix;
	int n;

	if (i >= 2 * NNODES || buf == NULL || len == 0)
		return BN_EINVAL;
	prefix = i < NNODES ? b->cfg.ops->sysctl_prefix : NEUTRAL_PREFIX;
	n = bn_snprintf(buf, len, "%s.%s", prefix, nodes[i % NNODES].leaf);
	return n < 0 || (size_t)n >= len ? BN_ERANGE : BN_OK;
}

int
bn_sysctl_read(const struct bn_balloon *b, const char *name, uint64_t *val)
{
	const struct node *node = lookup(b, name);

	if (node == NULL)
		return BN_ENOENT;
	*val = node->get(b);
	return BN_OK;
}

/* Unsigned decimal, nothing else: no sign, no spaces, no suffix. */
static int
parse_value(const char *s, uint64_t *val)
{
	const char *end;
	int error;

	error = bn_parse_u64(s, val, &end);
	if (error == BN_OK && *end != '\0')
		return BN_EINVAL;
	return error;
}

int
bn_sysctl_write(struct bn_balloon *b, const char *name, const char *value,
    uint64_t *oldval)
{
	const struct node *node = lookup(b, name);
	uint64_t v, old;
	int error;

	if (node == NULL)
		return BN_ENOENT;
	if (node->set == NULL)
		return BN_EPERM;
	error = parse_value(value, &v);
	if (error != BN_OK)
		return error;
	old = node->get(b);
	error = node->set(b, v);
	if (error != BN_OK)
		return error;
	if (oldval != NULL)
		*oldval = old;
	return BN_OK;
}
