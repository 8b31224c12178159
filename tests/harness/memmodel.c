/*
 * The virtio-mem device model (see memmodel.h).  Rings are the split
 * virtqueue's (VIRTIO 1.2, 2.7); requests and answers are 5.15.6's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmodel.h"
#include "virtio_io.h"

#define MM_ADDR		(4ull << 30)
#define DESC_BYTES	16

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)vio_read32(p + 4) << 32 | vio_read32(p);
}

static struct memmodel *
mm_of(struct virtio_dev *d)
{
	return (struct memmodel *)d;
}

static void mm_violation(struct memmodel *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
mm_violation(struct memmodel *mm, const char *fmt, ...)
{
	va_list ap;

	if (mm->violations++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(mm->violation, sizeof(mm->violation), fmt, ap);
	va_end(ap);
}

static uint8_t *
va(struct memmodel *mm, bn_paddr_t pa, size_t len)
{
	uint8_t *p = fake_pa_to_va(&mm->os, pa);

	if (p == NULL || fake_pa_to_va(&mm->os, pa + len - 1) !=
	    p + len - 1)
		return NULL;
	return p;
}

static int
f_reset(struct virtio_dev *d)
{
	struct memmodel *mm = mm_of(d);

	if (mm->stuck_reset)
		return BN_ETIMEDOUT;	/* status never reads back 0 */
	mm->status = 0;
	mm->isr = 0;
	mm->qenabled = false;
	mm->avail_seen = mm->used_idx = 0;
	mm->driver_features = 0;
	mm->resets++;
	return BN_OK;
}

/* Nothing mapped: the model is the transport. */
static void
f_detach(struct virtio_dev *d)
{
	(void)d;
}

static uint8_t
f_get_status(struct virtio_dev *d)
{
	return mm_of(d)->status;
}

static void
f_set_status(struct virtio_dev *d, uint8_t s)
{
	struct memmodel *mm = mm_of(d);
	uint64_t inacc = 1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE;

	/* 5.15.3.1 and QEMU: the feature offered must be accepted. */
	if ((s & VIRTIO_STATUS_FEATURES_OK) != 0 && mm->need_inaccessible &&
	    (mm->offered & inacc) != 0 && (mm->driver_features & inacc) == 0)
		s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	mm->status = s;
}

static uint64_t
f_get_features(struct virtio_dev *d)
{
	return mm_of(d)->offered;
}

static void
f_set_features(struct virtio_dev *d, uint64_t v)
{
	struct memmodel *mm = mm_of(d);

	if ((v & ~mm->offered) != 0)
		mm_violation(mm, "accepted features 0x%llx not offered",
		    (unsigned long long)(v & ~mm->offered));
	mm->driver_features = v;
}

static uint32_t
f_config_read32(struct virtio_dev *d, uint32_t off)
{
	struct memmodel *mm = mm_of(d);
	uint64_t v;

	switch (off & ~7u) {
	case VIRTIO_MEM_CFG_BLOCK_SIZE: v = mm->block_size; break;
	case VIRTIO_MEM_CFG_NODE_ID: v = 0; break;
	case VIRTIO_MEM_CFG_ADDR: v = mm->addr; break;
	case VIRTIO_MEM_CFG_REGION_SIZE: v = mm->region_size; break;
	case VIRTIO_MEM_CFG_USABLE_SIZE: v = mm->usable; break;
	case VIRTIO_MEM_CFG_PLUGGED_SIZE: v = mm->plugged_size; break;
	case VIRTIO_MEM_CFG_REQUESTED_SIZE: v = mm->requested; break;
	default: return 0;
	}
	return (off & 4) != 0 ? (uint32_t)(v >> 32) : (uint32_t)v;
}

static void
f_config_write32(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	(void)v;
	mm_violation(mm_of(d), "config write at %u: read-only", off);
}

static uint16_t
f_queue_max(struct virtio_dev *d, uint16_t idx)
{
	return idx == 0 ? mm_of(d)->qmax : 0;
}

static int
f_queue_enable(struct virtio_dev *d, uint16_t idx, uint16_t size,
    bn_paddr_t desc, bn_paddr_t avail, bn_paddr_t used)
{
	struct memmodel *mm = mm_of(d);

	if (idx != 0 || size == 0 || size > mm->qmax)
		return BN_EINVAL;
	mm->desc = desc;
	mm->avail = avail;
	mm->used = used;
	mm->qsize = size;
	mm->qenabled = true;
	return BN_OK;
}

static void
f_notify(struct virtio_dev *d, uint16_t idx)
{
	struct memmodel *mm = mm_of(d);

	if (idx != 0 || !mm->qenabled ||
	    (mm->status & VIRTIO_STATUS_DRIVER_OK) == 0) {
		mm_violation(mm, "notify of queue %u, status 0x%x", idx,
		    mm->status);
		return;
	}
	if (!mm->hold)
		mm_process(mm);
}

static uint8_t
f_isr(struct virtio_dev *d)
{
	uint8_t v = mm_of(d)->isr;

	mm_of(d)->isr = 0;
	return v;
}

static const struct virtio_transport_ops mm_ops = {
	.name = "fake-mem", .reset = f_reset,
	.get_status = f_get_status, .set_status = f_set_status,
	.get_features = f_get_features, .set_features = f_set_features,
	.config_read32 = f_config_read32, .config_write32 = f_config_write32,
	.queue_max = f_queue_max, .queue_enable = f_queue_enable,
	.notify = f_notify, .isr = f_isr, .detach = f_detach,
};

/* The block of "pa", or nblocks when it is not the start of one. */
static uint64_t
block_of(struct memmodel *mm, bn_paddr_t pa)
{
	if (pa < mm->addr || (pa - mm->addr) % mm->block_size != 0 ||
	    pa - mm->addr >= mm->region_size)
		return mm->nblocks;
	return (pa - mm->addr) / mm->block_size;
}

/* 5.15.6, as QEMU 7.2's virtio_mem_handle_request() decides. */
static uint16_t
answer(struct memmodel *mm, uint16_t type, bn_paddr_t addr, uint16_t nb)
{
	uint64_t first = block_of(mm, addr), i, usable_blocks;
	bool want = type == VIRTIO_MEM_REQ_UNPLUG;

	usable_blocks = mm->usable / mm->block_size;
	/* A hostile configuration may claim more blocks than the model has. */
	if (usable_blocks > mm->nblocks)
		usable_blocks = mm->nblocks;
	if (type == VIRTIO_MEM_REQ_UNPLUG_ALL) {
		memset(mm->plugged, 0, mm->nblocks * sizeof(bool));
		mm->plugged_size = 0;
		mm->unplug_alls++;
		return VIRTIO_MEM_RESP_ACK;
	}
	if (type != VIRTIO_MEM_REQ_PLUG && type != VIRTIO_MEM_REQ_UNPLUG)
		return VIRTIO_MEM_RESP_ERROR;
	if (nb == 0 || first >= usable_blocks || first + nb > usable_blocks)
		return VIRTIO_MEM_RESP_ERROR;
	for (i = first; i < first + nb; i++)
		if (mm->plugged[i] != want)
			return VIRTIO_MEM_RESP_ERROR;
	if (type == VIRTIO_MEM_REQ_PLUG &&
	    mm->plugged_size + nb * mm->block_size > mm->requested)
		return VIRTIO_MEM_RESP_NACK;
	for (i = first; i < first + nb; i++) {
		if (!want && mm->os_busy[i])
			mm_violation(mm, "unplug of block %llu in use",
			    (unsigned long long)i);
		mm->plugged[i] = !want;
	}
	if (want) {
		mm->plugged_size -= nb * mm->block_size;
		mm->unplugs++;
	} else {
		mm->plugged_size += nb * mm->block_size;
		mm->plugs++;
	}
	return VIRTIO_MEM_RESP_ACK;
}

static void
push_used(struct memmodel *mm, uint16_t head, uint32_t len)
{
	uint8_t *u = va(mm, mm->used, 6 + 8 * (size_t)mm->qsize);
	uint8_t *e = u + 4 + 8 * (size_t)(mm->used_idx % mm->qsize);

	vio_write32(e, head);
	vio_write32(e + 4, len);
	mm->used_idx++;
	vio_write16(u + 2, mm->used_idx);
	mm->isr |= VIRTIO_ISR_QUEUE;
}

/* One chain: 24 bytes readable, then 10 writable (QEMU's sizes). */
static void
handle(struct memmodel *mm, uint16_t head)
{
	uint8_t *d0, *d1, *req, *resp;
	uint16_t type, nb, next, r;
	bn_paddr_t addr;

	d0 = va(mm, mm->desc + DESC_BYTES * (size_t)head, DESC_BYTES);
	if (head >= mm->qsize || d0 == NULL ||
	    (vio_read16(d0 + 12) & VIRTQ_DESC_F_NEXT) == 0) {
		mm_violation(mm, "request without an answer descriptor");
		return;
	}
	next = vio_read16(d0 + 14);
	d1 = va(mm, mm->desc + DESC_BYTES * (size_t)next, DESC_BYTES);
	if (next >= mm->qsize || d1 == NULL ||
	    vio_read32(d0 + 8) < VIOMEM_REQ_BYTES ||
	    vio_read32(d1 + 8) < VIOMEM_RESP_BYTES ||
	    (vio_read16(d1 + 12) & VIRTQ_DESC_F_WRITE) == 0) {
		mm_violation(mm, "bad request chain");
		return;
	}
	req = va(mm, rd64(d0), VIOMEM_REQ_BYTES);
	resp = va(mm, rd64(d1), VIOMEM_RESP_BYTES);
	if (req == NULL || resp == NULL) {
		mm_violation(mm, "request outside memory");
		return;
	}
	type = vio_read16(req);
	addr = rd64(req + 8);
	nb = vio_read16(req + 16);
	mm->requests++;
	if (mm->force_count > 0 && mm->force_resp >= 0) {
		mm->force_count--;
		r = (uint16_t)mm->force_resp;
	} else
		r = answer(mm, type, addr, nb);
	if (r < 4)
		mm->answered[r]++;
	if (mm->no_resp) {
		push_used(mm, head, 0);
		return;
	}
	memset(resp, 0, VIOMEM_RESP_BYTES);
	vio_write16(resp, r);
	push_used(mm, head, VIOMEM_RESP_BYTES);
}

unsigned
mm_process(struct memmodel *mm)
{
	uint8_t *a;
	uint16_t idx;
	unsigned n = 0;

	if (!mm->qenabled)
		return 0;
	a = va(mm, mm->avail, 6 + 2 * (size_t)mm->qsize);
	idx = vio_read16(a + 2);
	while (mm->avail_seen != idx) {
		handle(mm, vio_read16(a + 4 + 2 *
		    (size_t)(mm->avail_seen % mm->qsize)));
		mm->avail_seen++;
		n++;
	}
	return n;
}

/* The OS's side: what the driver asks of it, checked against the device. */
static int
os_add_range(void *arg, bn_paddr_t base, uint64_t size)
{
	struct memmodel *mm = arg;

	if (base != mm->addr || size != mm->region_size)
		mm_violation(mm, "add_range 0x%llx+0x%llx",
		    (unsigned long long)base, (unsigned long long)size);
	return mm->refuse_range ? -1 : 0;
}

static bool
os_span(struct memmodel *mm, bn_paddr_t pa, uint64_t len, uint64_t *first,
    uint64_t *n)
{
	*first = block_of(mm, pa);
	*n = len / mm->block_size;
	if (*first == mm->nblocks || len % mm->block_size != 0 || *n == 0 ||
	    *first + *n > mm->nblocks) {
		mm_violation(mm, "range 0x%llx+0x%llx is not whole blocks",
		    (unsigned long long)pa, (unsigned long long)len);
		return false;
	}
	return true;
}

static void
os_online(void *arg, bn_paddr_t pa, uint64_t len)
{
	struct memmodel *mm = arg;
	uint64_t i, first, n;

	if (!os_span(mm, pa, len, &first, &n))
		return;
	for (i = first; i < first + n; i++) {
		if (!mm->plugged[i])
			mm_violation(mm, "OS got unplugged block %llu",
			    (unsigned long long)i);
		if (mm->os_has[i])
			mm_violation(mm, "OS got block %llu twice",
			    (unsigned long long)i);
		mm->os_has[i] = true;
	}
}

static int
os_offline(void *arg, bn_paddr_t pa, uint64_t len)
{
	struct memmodel *mm = arg;
	uint64_t i, first, n;

	if (!os_span(mm, pa, len, &first, &n))
		return -1;
	for (i = first; i < first + n; i++) {
		if (!mm->os_has[i])
			mm_violation(mm, "offline of block %llu the OS lacks",
			    (unsigned long long)i);
		if (mm->os_busy[i])
			return -1;
	}
	for (i = first; i < first + n; i++)
		mm->os_has[i] = false;
	return 0;
}

static const struct viomem_os_ops mm_os_ops = {
	.add_range = os_add_range,
	.online = os_online,
	.offline = os_offline,
};

struct memmodel *
mm_new(uint64_t block_size, uint64_t blocks)
{
	struct memmodel *mm = calloc(1, sizeof(*mm));

	if (mm == NULL)
		abort();
	fake_os_init(&mm->os, 64);
	mm->vdev.ops = &mm_ops;
	mm->vdev.os = &mm->os;
	mm->vdev.device_id = VIRTIO_ID_MEM;
	mm->vdev.modern = true;
	mm->offered = 1ull << VIRTIO_F_VERSION_1 |
	    1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE;
	mm->need_inaccessible = true;
	mm->qmax = 128;
	mm->block_size = block_size;
	mm->addr = MM_ADDR;
	mm->region_size = block_size * blocks;
	mm->auto_usable = true;
	mm->nblocks = blocks;
	mm->plugged = calloc(blocks + 1, sizeof(bool));
	mm->os_has = calloc(blocks + 1, sizeof(bool));
	mm->os_busy = calloc(blocks + 1, sizeof(bool));
	if (mm->plugged == NULL || mm->os_has == NULL || mm->os_busy == NULL)
		abort();
	mm->force_resp = -1;
	mm->cfg = (struct viomem_config){
		.name = "viomem0",
		.ops = &mm_os_ops,
		.os_arg = mm,
		.block_map = mm->block_map,
		.block_map_bytes = sizeof(mm->block_map),
	};
	return mm;
}

void
mm_free(struct memmodel *mm)
{
	fake_os_fini(&mm->os);
	free(mm->plugged);
	free(mm->os_has);
	free(mm->os_busy);
	free(mm);
}

int
mm_attach(struct memmodel *mm)
{
	return viomem_attach(&mm->sc, &mm->vdev, &mm->cfg);
}

void
mm_request(struct memmodel *mm, uint64_t bytes)
{
	uint64_t u = bytes + (256ull << 20);

	mm->requested = bytes;
	if (mm->auto_usable)
		mm->usable = u < mm->region_size ? u : mm->region_size;
	mm->isr |= VIRTIO_ISR_CONFIG;
}

void
mm_run(struct memmodel *mm, int n)
{
	while (n-- > 0) {
		(void)viomem_run(&mm->sc);
		if (!mm->hold)
			mm_process(mm);
		mm->os.now_ms += VIOMEM_BACKOFF_MAX_MS;
	}
}

unsigned
mm_os_blocks(const struct memmodel *mm)
{
	unsigned n = 0;
	uint64_t i;

	for (i = 0; i < mm->nblocks; i++)
		n += mm->os_has[i];
	return n;
}

/* Only a block the OS holds can be in use. */
void
mm_busy(struct memmodel *mm, uint64_t block, bool busy)
{
	if (block < mm->nblocks && (mm->os_has[block] || !busy))
		mm->os_busy[block] = busy;
}

const char *
mm_check(struct memmodel *mm)
{
	static char why[200];
	uint64_t i, bits = 0;

	if (mm->violations > 0)
		return mm->violation;
	for (i = 0; i < mm->nblocks; i++) {
		if (mm->os_has[i] && !mm->plugged[i]) {
			snprintf(why, sizeof(why), "OS holds unplugged block "
			    "%llu", (unsigned long long)i);
			return why;
		}
		if (mm->os_busy[i] && !mm->plugged[i]) {
			snprintf(why, sizeof(why), "block %llu in use was "
			    "unplugged", (unsigned long long)i);
			return why;
		}
		bits += (mm->sc.map[i / 64] >> (i % 64)) & 1;
	}
	/* The books, when they are meant to agree. */
	if (mm->sc.state != VIOMEM_IDLE || mm->sc.buf == NULL ||
	    mm->sc.unplug_all)
		return NULL;
	if (mm->sc.plugged != mm->plugged_size ||
	    bits * mm->block_size != mm->plugged_size) {
		snprintf(why, sizeof(why), "driver %llu bytes (%llu blocks), "
		    "device %llu", (unsigned long long)mm->sc.plugged,
		    (unsigned long long)bits,
		    (unsigned long long)mm->plugged_size);
		return why;
	}
	for (i = 0; i < mm->nblocks; i++)
		if (mm->plugged[i] != mm->os_has[i]) {
			snprintf(why, sizeof(why), "block %llu: device %d, "
			    "OS %d", (unsigned long long)i, mm->plugged[i],
			    mm->os_has[i]);
			return why;
		}
	return NULL;
}
