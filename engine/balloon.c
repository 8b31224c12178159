/*
 * The portable balloon engine: bookkeeping, limits, batching and backoff.
 *
 * Page states, for the engine's accounting:
 *	in a request	its frame number sits in a busy struct bn_request;
 *	in the balloon	its bit is set in the bitmap; the host holds it.
 * "pages" counts what the host holds, including pages in a deflate request
 * that the host has not acknowledged yet (MUST_TELL_HOST: until then they
 * are still the host's).  So:
 *	bits set  == pages - deflating
 *	committed == pages + inflating - deflating	(after all completions)
 */
#include <stdarg.h>

#include <ballonet/balloon.h>
#include <ballonet/fmt.h>
#include <ballonet/priv/balloon_priv.h>

#define BACKOFF_MIN_MS		100	/* first retry after a refused page */
#define BACKOFF_MAX_MS		6400	/* retries never wait longer */
#define WARN_INTERVAL_MS	10000	/* allocation warnings at most this often */
#define SUBMIT_RETRY_MS		1000	/* after a front-end refused a request */
#define RUN_BUDGET_MS		20	/* one run gives the OS back its worker */

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static bool
bit_test(const struct bn_balloon *b, bn_pfn_t pfn)
{
	return (b->cfg.bitmap[pfn / 64] >> (pfn % 64)) & 1;
}

static void
bit_set(struct bn_balloon *b, bn_pfn_t pfn)
{
	b->cfg.bitmap[pfn / 64] |= (uint64_t)1 << (pfn % 64);
}

static void
bit_clear(struct bn_balloon *b, bn_pfn_t pfn)
{
	b->cfg.bitmap[pfn / 64] &= ~((uint64_t)1 << (pfn % 64));
}

static bn_paddr_t
pfn_to_pa(bn_pfn_t pfn)
{
	return (bn_paddr_t)pfn << BN_PAGE_SHIFT;
}

void
bn_vlog(void *os, const char *name, int level, const char *fmt, va_list ap)
{
	char line[BN_LOG_LINE];
	int n;

	n = bn_snprintf(line, sizeof(line), "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	bn_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	bn_port_log(os, level, line);
}

void
bn_log(void *os, const char *name, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bn_vlog(os, name, level, fmt, ap);
	va_end(ap);
}

void
bn_balloon_log(const struct bn_balloon *b, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bn_vlog(b->cfg.os, b->cfg.name, level, fmt, ap);
	va_end(ap);
}

int
bn_balloon_init(struct bn_balloon *b, const struct bn_config *cfg)
{
	uint64_t reserve;

	if (b == NULL || cfg == NULL || cfg->name == NULL || cfg->ops == NULL ||
	    cfg->ops->submit == NULL || cfg->ops->set_actual == NULL ||
	    cfg->ops->sysctl_prefix == NULL || cfg->bitmap == NULL)
		return BN_EINVAL;
	if (cfg->ram_pages == 0 || cfg->max_pfn == 0 ||
	    cfg->max_pfn > UINT64_MAX / BN_PAGE_SIZE ||
	    cfg->ram_pages > UINT64_MAX / BN_PAGE_SIZE)
		return BN_EINVAL;
	if (cfg->batch_pages < 1 || cfg->batch_pages > BN_BATCH_MAX ||
	    cfg->max_inflight < 1 || cfg->max_inflight > BN_INFLIGHT_MAX ||
	    cfg->first_batch > cfg->batch_pages)
		return BN_EINVAL;

	*b = (struct bn_balloon){ .cfg = *cfg };
	reserve = bn_port_reserved_pages(cfg->os) + BN_SAFEGUARD_EXTRA;
	b->safeguard_kib = min_u64(reserve, cfg->ram_pages) * BN_KIB_PER_PAGE;
	b->min_kib = b->safeguard_kib;
	return BN_OK;
}

/*
 * Pages that hold at least "kib" KiB: a reservation in KiB keeps its last
 * partial page, so that target, read back in whole pages, never lies below
 * the min or target written (balloon.4).
 */
static uint64_t
kib_to_pages_up(uint64_t kib)
{
	return kib / BN_KIB_PER_PAGE + (kib % BN_KIB_PER_PAGE != 0);
}

/* What the host and the guest's own target ask for together, in pages. */
static uint64_t
wanted_pages(const struct bn_balloon *b)
{
	uint64_t want = b->host_pages;
	uint64_t user_pages;

	if (b->user_kib != 0) {
		user_pages = b->cfg.ram_pages - kib_to_pages_up(b->user_kib);
		want = max_u64(want, user_pages);
	}
	return want;
}

/* The largest balloon that keeps "min" KiB for the guest. */
static uint64_t
cap_pages(const struct bn_balloon *b)
{
	uint64_t keep = kib_to_pages_up(b->min_kib);

	return keep >= b->cfg.ram_pages ? 0 : b->cfg.ram_pages - keep;
}

uint64_t
bn_balloon_goal(const struct bn_balloon *b)
{
	return min_u64(wanted_pages(b), cap_pages(b));
}

uint64_t
bn_balloon_max_kib(const struct bn_balloon *b)
{
	uint64_t ram_kib = b->cfg.ram_pages * BN_KIB_PER_PAGE;

	if (b->host_max_kib == 0 || b->host_max_kib > ram_kib)
		return ram_kib;
	return b->host_max_kib;
}

void
bn_balloon_set_host_max_kib(struct bn_balloon *b, uint64_t kib)
{
	b->host_max_kib = kib;
}

void
bn_balloon_set_hotplug(struct bn_balloon *b, const struct bn_hotplug *h)
{
	b->hot = *h;
}

const struct bn_hotplug *
bn_balloon_hotplug(const struct bn_balloon *b)
{
	return &b->hot;
}

uint64_t
bn_balloon_current_kib(const struct bn_balloon *b)
{
	return (b->cfg.ram_pages - b->pages) * BN_KIB_PER_PAGE;
}

/* The goal, less what OOM reclaim holds back: what run() moves toward. */
static uint64_t
held_goal(const struct bn_balloon *b)
{
	return bn_balloon_oom_goal(b, bn_balloon_goal(b));
}

uint64_t
bn_balloon_target_kib(const struct bn_balloon *b)
{
	return (b->cfg.ram_pages - held_goal(b)) * BN_KIB_PER_PAGE;
}

static uint64_t
committed_pages(const struct bn_balloon *b)
{
	return b->pages + b->inflating - b->deflating;
}

bool
bn_balloon_settled(const struct bn_balloon *b)
{
	return b->inflating == 0 && b->deflating == 0 &&
	    b->pages == bn_balloon_goal(b);
}

void
bn_balloon_set_host_target(struct bn_balloon *b, uint64_t pages)
{
	uint64_t now;

	if (pages == b->host_pages)
		return;
	now = bn_port_now_ms(b->cfg.os);
	if (pages > b->cfg.ram_pages && b->host_pages <= b->cfg.ram_pages &&
	    now >= b->next_host_warn_ms) {
		b->next_host_warn_ms = now + WARN_INTERVAL_MS;
		bn_balloon_log(b, BN_LOG_WARN,
		    "host asks for %llu pages, more than the %llu of RAM",
		    (unsigned long long)pages,
		    (unsigned long long)b->cfg.ram_pages);
	}
	b->host_pages = pages;
	b->ramp = 0;		/* the next inflate starts small again */
	/* A new target deserves a fresh attempt, not the old backoff. */
	b->retry_at_ms = 0;
	b->backoff_ms = 0;
	b->oom_hold = false;	/* and ends what OOM reclaim held back */
}

int
bn_balloon_set_min_kib(struct bn_balloon *b, uint64_t kib)
{
	if (kib < b->safeguard_kib || kib > bn_balloon_max_kib(b))
		return BN_EPERM;
	b->min_kib = kib;
	return BN_OK;
}

int
bn_balloon_set_target_kib(struct bn_balloon *b, uint64_t kib)
{
	int error;

	if (kib < b->min_kib || kib > bn_balloon_max_kib(b))
		return BN_EPERM;
	if (b->cfg.ops->set_target != NULL) {
		/* The host owns the target now; it comes back as host_pages. */
		error = b->cfg.ops->set_target(b->cfg.be, kib);
		if (error == BN_OK)
			b->user_kib = 0;
		return error;
	}
	b->user_kib = kib;
	b->retry_at_ms = 0;
	b->backoff_ms = 0;
	b->oom_hold = false;
	return BN_OK;
}

int
bn_balloon_set_hot_target_kib(struct bn_balloon *b, uint64_t kib)
{
	int error;

	if (!b->hot.guest_plugs || b->cfg.ops->set_target == NULL ||
	    kib < b->min_kib)
		return BN_EPERM;
	error = b->cfg.ops->set_target(b->cfg.be, kib);
	if (error == BN_OK)
		b->user_kib = 0;
	return error;
}

static struct bn_request *
free_request(struct bn_balloon *b)
{
	uint32_t i;

	for (i = 0; i < b->cfg.max_inflight; i++)
		if (!b->req[i].busy)
			return &b->req[i];
	return NULL;
}

/* balloon.4's diagnostic, in KiB; the caller adds a line saying why. */
static void
warn_unreached(const struct bn_balloon *b, uint64_t target_kib)
{
	bn_balloon_log(b, BN_LOG_WARN,
	    "WARNING: balloon could not reach target %llu (current %llu)",
	    (unsigned long long)target_kib,
	    (unsigned long long)bn_balloon_current_kib(b));
}

/* Say once per wish that min holds the balloon back (balloon.4). */
static void
warn_if_held(struct bn_balloon *b, uint64_t goal)
{
	uint64_t want = wanted_pages(b);
	uint64_t target_kib;

	if (want <= goal) {
		b->warned_goal = 0;
		return;
	}
	if (want == b->warned_goal || !bn_balloon_settled(b))
		return;
	b->warned_goal = want;
	target_kib = want >= b->cfg.ram_pages ? 0 :
	    (b->cfg.ram_pages - want) * BN_KIB_PER_PAGE;
	warn_unreached(b, target_kib);
	bn_balloon_log(b, BN_LOG_WARN, "holding at min %llu KiB",
	    (unsigned long long)b->min_kib);
}

uint32_t
bn_backoff_next(uint32_t cur_ms, uint32_t min_ms, uint32_t max_ms)
{
	if (cur_ms == 0)
		return min_ms;
	return (uint32_t)min_u64((uint64_t)cur_ms * 2, max_ms);
}

/*
 * The OS refused a page, or the host a frame: retry later, with a delay
 * that doubles.
 */
static uint64_t
back_off(struct bn_balloon *b, uint64_t now, const char *why)
{
	b->backoff_ms = bn_backoff_next(b->backoff_ms, BACKOFF_MIN_MS,
	    BACKOFF_MAX_MS);
	b->retry_at_ms = now + b->backoff_ms;
	if (now >= b->next_warn_ms) {
		b->next_warn_ms = now + WARN_INTERVAL_MS;
		warn_unreached(b, bn_balloon_target_kib(b));
		bn_balloon_log(b, BN_LOG_WARN,
		    "%s; retrying in %u ms", why, (unsigned int)b->backoff_ms);
	}
	return b->backoff_ms;
}

/*
 * Take up to "n" pages from the OS into req, zeroed (balloon.4, SECURITY
 * CONSIDERATIONS: nothing of the guest's may reach the host).  Returns the
 * count; *refused tells whether the OS ran out.
 */
static uint32_t
gather_pages(struct bn_balloon *b, struct bn_request *req, uint32_t n,
    bool *refused)
{
	bn_pfn_t pfn;
	uint32_t got, i, kept = 0;
	bool bad = false;

	/* One call per request: under TCG, calls per page add up. */
	got = bn_port_pages_alloc(b->cfg.os, req->pfns, n);
	if (got > n)
		got = n;
	*refused = got < n;
	for (i = 0; i < got; i++) {
		pfn = req->pfns[i];
		if (pfn >= b->cfg.max_pfn || bit_test(b, pfn)) {
			/* A port bug: keep the page out of our books. */
			if (!bad)
				bn_balloon_log(b, BN_LOG_ERR, "page 0x%llx from "
				    "the OS is untracked or ballooned",
				    (unsigned long long)pfn_to_pa(pfn));
			bad = true;
			continue;
		}
		req->pfns[kept++] = pfn;
	}
	if (bad)
		*refused = true;
	return kept;
}

/*
 * Give pages back to the OS.  Whatever way they come back (deflated,
 * refused by the host, aborted by a reset, never sent), the host may have
 * discarded them: with poisoning each holds poison_val first (5.5.6.4),
 * so that the port need not fill them again.
 */
static void
release_pages(struct bn_balloon *b, const bn_pfn_t *pfns, uint32_t n)
{
	uint32_t i;

	if (n == 0)
		return;
	if (b->cfg.poison)
		for (i = 0; i < n; i++)
			bn_port_page_fill(b->cfg.os, pfn_to_pa(pfns[i]),
			    b->cfg.poison_val);
	/* One call per request: the port may free a bitmap word at a time. */
	bn_port_pages_free(b->cfg.os, pfns, n);
}

static int
submit(struct bn_balloon *b, struct bn_request *req, enum bn_dir dir,
    uint32_t n)
{
	int error;

	req->dir = dir;
	req->npfns = n;
	req->busy = true;
	req->late = false;
	req->sent_ms = bn_port_now_ms(b->cfg.os);
	if (dir == BN_INFLATE)
		b->inflating += n;
	else
		b->deflating += n;
	error = b->cfg.ops->submit(b->cfg.be, req);
	if (error == BN_OK)
		return BN_OK;
	/* Nothing was sent: the request never happened. */
	req->busy = false;
	if (dir == BN_INFLATE)
		b->inflating -= n;
	else
		b->deflating -= n;
	if (error != BN_EBUSY)
		bn_balloon_log(b, BN_LOG_ERR, "%s request refused: %s",
		    dir == BN_INFLATE ? "inflate" : "deflate",
		    bn_strerror(error));
	return error;
}

/*
 * Drain completions right after a submission: a device that acknowledges
 * at once (QEMU under TCG handles the notification before returning, Xen
 * in its hypercall) frees the slot and moves "actual" without waiting for
 * an interrupt, and a new host wish is seen between two requests.
 */
static uint64_t
poll_more(struct bn_balloon *b, uint64_t want)
{
	uint64_t goal, committed;

	if (b->cfg.ops->poll == NULL)
		return want;
	bn_balloon_poll(b);
	/* The same goal as move_toward_goal(): OOM reclaim's cap included. */
	goal = held_goal(b);
	committed = committed_pages(b);
	return goal > committed ? min_u64(want, goal - committed) : 0;
}

static uint64_t
inflate(struct bn_balloon *b, uint64_t want, uint64_t now)
{
	struct bn_request *req;
	uint32_t n, got;
	bool refused;

	if (now < b->retry_at_ms)
		return b->retry_at_ms - now;
	while (want > 0 && (req = free_request(b)) != NULL) {
		if (b->ramp == 0)
			b->ramp = b->cfg.first_batch != 0 ? b->cfg.first_batch :
			    b->cfg.batch_pages;
		n = (uint32_t)min_u64(want, b->ramp);
		got = gather_pages(b, req, n, &refused);
		if (got > 0 && submit(b, req, BN_INFLATE, got) != BN_OK) {
			release_pages(b, req->pfns, got);
			b->retry_at_ms = now + SUBMIT_RETRY_MS;
			return SUBMIT_RETRY_MS;
		}
		if (refused) {
			b->stats.alloc_failures++;
			return back_off(b, now, "no free page to give");
		}
		b->ramp = (uint32_t)min_u64((uint64_t)b->ramp * 2,
		    b->cfg.batch_pages);
		want = poll_more(b, want - got);
		/* The host took fewer frames than asked (inflate_done). */
		if (now < b->retry_at_ms)
			return b->retry_at_ms - now;
		/* Long inflates come back to the OS's loop now and then. */
		if (want > 0 && bn_port_now_ms(b->cfg.os) >= now + RUN_BUDGET_MS) {
			b->backoff_ms = 0;
			return 0;
		}
	}
	b->backoff_ms = 0;
	/* Slots full: a completion wakes the worker. */
	return BN_RUN_IDLE;
}

/* Clear up to n bits from the bitmap into pfns; returns how many. */
static uint32_t
take_from_bitmap(struct bn_balloon *b, bn_pfn_t *pfns, uint32_t n)
{
	uint64_t words = (b->cfg.max_pfn + 63) / 64;
	uint64_t scanned, w, bits;
	uint32_t got = 0;

	for (scanned = 0; scanned < words && got < n; scanned++) {
		w = (b->scan_word + scanned) % words;
		bits = b->cfg.bitmap[w];
		while (bits != 0 && got < n) {
			bn_pfn_t pfn = w * 64 + (bn_pfn_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			bit_clear(b, pfn);
			pfns[got++] = pfn;
		}
		if (got == n) {
			b->scan_word = w;
			return got;
		}
	}
	b->scan_word = 0;
	return got;
}

static void
restore_bits(struct bn_balloon *b, const bn_pfn_t *pfns, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		bit_set(b, pfns[i]);
}

static uint64_t
deflate(struct bn_balloon *b, uint64_t excess)
{
	struct bn_request *req;
	uint64_t avail;
	uint32_t n, got;

	while (excess > 0 && (req = free_request(b)) != NULL) {
		/* Pages still on their way in cannot go back yet (spec 5.5.6.1). */
		avail = b->pages - b->deflating;
		if (avail == 0)
			break;
		n = (uint32_t)min_u64(min_u64(excess, avail), b->cfg.batch_pages);
		got = take_from_bitmap(b, req->pfns, n);
		if (got != n)
			bn_balloon_log(b, BN_LOG_ERR,
			    "bitmap holds fewer pages than counted (%u < %u)",
			    (unsigned int)got, (unsigned int)n);
		if (got == 0)
			break;
		if (submit(b, req, BN_DEFLATE, got) != BN_OK) {
			restore_bits(b, req->pfns, got);
			return SUBMIT_RETRY_MS;
		}
		excess -= got;
	}
	return BN_RUN_IDLE;
}

/*
 * Say once per request that the host leaves it unacknowledged.  Its frames
 * stay counted in flight: the host may still discard or hand them back,
 * so the guest may neither use nor resend them until the request completes
 * or the device is reset.  Returns ms until the next request turns late.
 */
static uint64_t
watch_acks(struct bn_balloon *b, uint64_t now)
{
	uint64_t wait = BN_RUN_IDLE, age;
	struct bn_request *req;
	uint32_t i;

	for (i = 0; i < BN_INFLIGHT_MAX; i++) {
		req = &b->req[i];
		if (!req->busy || req->late)
			continue;
		age = now > req->sent_ms ? now - req->sent_ms : 0;
		if (age < BN_ACK_WARN_MS) {
			wait = min_u64(wait, BN_ACK_WARN_MS - age);
			continue;
		}
		req->late = true;
		b->stats.ack_timeouts++;
		bn_balloon_log(b, BN_LOG_WARN, "host has not acknowledged "
		    "%s of %u pages for %llu s", req->dir == BN_INFLATE ?
		    "inflate" : "deflate", (unsigned int)req->npfns,
		    (unsigned long long)(age / 1000));
	}
	return wait;
}

static uint64_t
move_toward_goal(struct bn_balloon *b, uint64_t now)
{
	uint64_t goal, floor, committed;

	goal = held_goal(b);
	committed = committed_pages(b);
	if (goal > committed)
		return inflate(b, goal - committed, now);
	b->backoff_ms = 0;
	floor = b->cfg.host_floor ? max_u64(goal, b->host_pages) : goal;
	if (floor < committed)
		return deflate(b, committed - floor);
	warn_if_held(b, goal);
	return BN_RUN_IDLE;
}

uint64_t
bn_balloon_run(struct bn_balloon *b)
{
	uint64_t now, next;

	/* The port's hooks may reach bn_balloon_reclaim(): EBUSY then. */
	b->depth++;
	bn_balloon_poll(b);
	now = bn_port_now_ms(b->cfg.os);
	next = move_toward_goal(b, now);
	next = min_u64(next, watch_acks(b, now));
	b->depth--;
	return next;
}

static bool
request_is_ours(const struct bn_balloon *b, const struct bn_request *req)
{
	uintptr_t p = (uintptr_t)req, first = (uintptr_t)&b->req[0];

	return p >= first && p < (uintptr_t)&b->req[BN_INFLIGHT_MAX] &&
	    (p - first) % sizeof(*req) == 0;
}

static void
inflate_done(struct bn_balloon *b, struct bn_request *req, uint32_t done)
{
	uint32_t i, added = 0;

	for (i = 0; i < done; i++) {
		if (bit_test(b, req->pfns[i])) {
			/* Listed twice: count it once, never free it twice. */
			bn_balloon_log(b, BN_LOG_ERR, "frame 0x%llx inflated twice",
			    (unsigned long long)req->pfns[i]);
			continue;
		}
		bit_set(b, req->pfns[i]);
		added++;
	}
	b->pages += added;
	b->inflating -= req->npfns;
	b->stats.inflated += added;
	/* Frames the host did not take are still the guest's. */
	release_pages(b, req->pfns + done, req->npfns - done);
	/* Asking for them again at once would spin: wait first. */
	if (done < req->npfns)
		(void)back_off(b, bn_port_now_ms(b->cfg.os),
		    "host refused frames");
}

static void
deflate_done(struct bn_balloon *b, struct bn_request *req, uint32_t done)
{
	/* MUST_TELL_HOST: only now may the guest use these pages again. */
	release_pages(b, req->pfns, done);
	b->pages -= done;
	b->deflating -= req->npfns;
	b->stats.deflated += done;
	restore_bits(b, req->pfns + done, req->npfns - done);
}

void
bn_balloon_complete(struct bn_balloon *b, struct bn_request *req,
    uint32_t done)
{
	if (!request_is_ours(b, req) || !req->busy) {
		bn_balloon_log(b, BN_LOG_ERR,
		    "completion for a request that is not in flight");
		return;
	}
	if (done > req->npfns) {
		bn_balloon_log(b, BN_LOG_ERR,
		    "host acknowledged %u of %u frames", (unsigned int)done,
		    (unsigned int)req->npfns);
		done = req->npfns;
	}
	if (done < req->npfns)
		b->stats.host_refused += req->npfns - done;
	b->depth++;
	if (req->dir == BN_INFLATE)
		inflate_done(b, req, done);
	else
		deflate_done(b, req, done);
	req->busy = false;
	b->stats.requests++;
	b->cfg.ops->set_actual(b->cfg.be, b->pages);
	BN_DPRINTF(b, "%s of %u pages: %u acknowledged, %llu in the balloon",
	    req->dir == BN_INFLATE ? "inflate" : "deflate", req->npfns, done,
	    (unsigned long long)b->pages);
	b->depth--;
}

/* No frame in flight is also in the bitmap, or beyond the frames there. */
static bool
frames_in_flight_apart(const struct bn_balloon *b)
{
	const struct bn_request *req;
	uint32_t i, k;

	for (i = 0; i < BN_INFLIGHT_MAX; i++) {
		req = &b->req[i];
		if (!req->busy)
			continue;
		if (req->npfns > BN_BATCH_MAX)
			return false;
		for (k = 0; k < req->npfns; k++)
			if (req->pfns[k] >= b->cfg.max_pfn ||
			    bit_test(b, req->pfns[k]))
				return false;
	}
	return true;
}

int
bn_balloon_check(const struct bn_balloon *b)
{
	uint64_t words = (b->cfg.max_pfn + 63) / 64, w, bits = 0;
	uint64_t inflating = 0, deflating = 0;
	uint32_t i;

	for (w = 0; w < words; w++)
		bits += (uint64_t)__builtin_popcountll(b->cfg.bitmap[w]);
	for (i = 0; i < BN_INFLIGHT_MAX; i++) {
		if (!b->req[i].busy)
			continue;
		if (b->req[i].dir == BN_INFLATE)
			inflating += b->req[i].npfns;
		else
			deflating += b->req[i].npfns;
	}
	if (bits != b->pages - b->deflating || inflating != b->inflating ||
	    deflating != b->deflating || b->pages > b->cfg.ram_pages ||
	    !frames_in_flight_apart(b))
		return BN_EIO;
	return BN_OK;
}

uint64_t
bn_balloon_oldest_ms(const struct bn_balloon *b, uint64_t now)
{
	uint64_t oldest = 0;
	uint32_t i;

	for (i = 0; i < BN_INFLIGHT_MAX; i++)
		if (b->req[i].busy && now > b->req[i].sent_ms)
			oldest = max_u64(oldest, now - b->req[i].sent_ms);
	return oldest;
}

void
bn_balloon_abort_inflight(struct bn_balloon *b)
{
	uint64_t back = 0, kept = 0;
	struct bn_request *req;
	uint32_t i;

	for (i = 0; i < BN_INFLIGHT_MAX; i++) {
		req = &b->req[i];
		if (!req->busy)
			continue;
		if (req->dir == BN_INFLATE) {
			release_pages(b, req->pfns, req->npfns);
			b->inflating -= req->npfns;
			back += req->npfns;
		} else {
			restore_bits(b, req->pfns, req->npfns);
			b->deflating -= req->npfns;
			kept += req->npfns;
		}
		b->stats.aborted += req->npfns;
		req->busy = false;
	}
	b->retry_at_ms = 0;
	b->backoff_ms = 0;
	if (back + kept > 0)
		bn_balloon_log(b, BN_LOG_WARN, "device reset: %llu pages of "
		    "inflate back to the guest, %llu of deflate kept",
		    (unsigned long long)back, (unsigned long long)kept);
}

void
bn_balloon_poll(struct bn_balloon *b)
{
	if (b->cfg.ops->poll == NULL)
		return;
	b->depth++;
	b->cfg.ops->poll(b->cfg.be);
	b->depth--;
}

const char *
bn_balloon_name(const struct bn_balloon *b)
{
	return b->cfg.name;
}

uint64_t
bn_balloon_pages(const struct bn_balloon *b)
{
	return b->pages;
}

uint64_t
bn_balloon_inflating(const struct bn_balloon *b)
{
	return b->inflating;
}

bool
bn_balloon_holds(const struct bn_balloon *b, bn_pfn_t pfn)
{
	return pfn < b->cfg.max_pfn && bit_test(b, pfn);
}

const struct bn_stats *
bn_balloon_stats(const struct bn_balloon *b)
{
	return &b->stats;
}

bool
bn_balloon_poison(const struct bn_balloon *b, uint32_t *val)
{
	if (val != NULL)
		*val = b->cfg.poison_val;
	return b->cfg.poison;
}
