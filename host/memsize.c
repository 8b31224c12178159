/*
 * ballonet: one logical memory size over the balloon and virtio-mem
 * (see memsize.h).
 */
#include "memsize.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PAGE_SIZE	4096u	/* the unit of the balloon's num_pages */

static int
bad_reply(struct memsize *m, const char *what, const char *fmt, ...)
{
	va_list ap;

	m->what = what;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return MEMSIZE_EREPLY;
}

static int
run(struct qmp *q, struct memsize *m, const char *cmd, json_t *args,
    json_t **ret, int timeout_ms)
{
	int r = qmp_execute(q, cmd, args, ret, timeout_ms);

	if (r != QMP_OK)
		m->what = cmd;
	return r;
}

/* One entry of query-memory-devices of type virtio-mem into M. */
static int
vmem_of(json_t *dev, struct memsize *m)
{
	json_t *data = json_object_get(dev, "data");
	const char *id = json_string_value(json_object_get(data, "id"));

	if (qmp_get_bytes(data, "size", &m->plugged) != 0 ||
	    qmp_get_bytes(data, "requested-size", &m->requested) != 0 ||
	    qmp_get_bytes(data, "max-size", &m->region) != 0 ||
	    qmp_get_bytes(data, "block-size", &m->block) != 0 || m->block == 0)
		return -1;
	snprintf(m->id, sizeof(m->id), "%s", id != NULL ? id : "");
	m->vmem = true;
	return 0;
}

int
memsize_query_devices(struct qmp *q, struct memsize *m, int timeout_ms)
{
	json_t *ret, *dev;
	size_t i;
	int r;

	memset(m, 0, sizeof(*m));
	r = run(q, m, "query-memory-size-summary", NULL, &ret, timeout_ms);
	if (r != QMP_OK)
		return r;
	r = qmp_get_bytes(ret, "base-memory", &m->boot);
	json_decref(ret);
	if (r != 0)
		return bad_reply(m, "query-memory-size-summary",
		    "no base-memory");
	r = run(q, m, "query-memory-devices", NULL, &ret, timeout_ms);
	if (r != QMP_OK)
		return r;
	json_array_foreach(ret, i, dev) {
		const char *type = json_string_value(json_object_get(dev,
		    "type"));
		if (type == NULL || strcmp(type, "virtio-mem") != 0)
			continue;
		r = vmem_of(dev, m);
		break;
	}
	json_decref(ret);
	if (r != 0)
		return bad_reply(m, "query-memory-devices", "a virtio-mem "
		    "device without size, requested-size, max-size or "
		    "block-size");
	return QMP_OK;
}

int
memsize_query(struct qmp *q, struct memsize *m, int timeout_ms)
{
	json_t *ret;
	int r;

	if ((r = memsize_query_devices(q, m, timeout_ms)) != QMP_OK)
		return r;
	if ((r = run(q, m, "query-balloon", NULL, &ret, timeout_ms)) != QMP_OK)
		return r;
	r = qmp_get_bytes(ret, "actual", &m->actual);
	json_decref(ret);
	if (r != 0)
		return bad_reply(m, "query-balloon", "no actual");
	return QMP_OK;
}

uint64_t
memsize_logical(const struct memsize *m)
{
	return m->actual + (m->vmem ? m->plugged : 0);
}

uint64_t
memsize_max(const struct memsize *m)
{
	return m->boot + (m->vmem ? m->region : 0);
}

uint64_t
memsize_balloon_goal(uint64_t ram, uint64_t size)
{
	return ram - (ram - size) / PAGE_SIZE * PAGE_SIZE;
}

int
memsize_plan(const struct memsize *m, uint64_t size, struct memsize_plan *p)
{
	memset(p, 0, sizeof(*p));
	if (size == 0)
		return MEMSIZE_ZERO;
	if (size <= m->boot) {
		p->balloon = size;
		p->goal = memsize_balloon_goal(m->boot, size);
		return MEMSIZE_OK;
	}
	if (!m->vmem)
		return MEMSIZE_ABOVE_RAM;
	/*
	 * Whole blocks: what QEMU's requested-size takes.  Rounded up with
	 * no sum that can wrap, whatever block and region QEMU reported.
	 */
	uint64_t over = size - m->boot, hot;
	if (over > m->region)
		return MEMSIZE_ABOVE_MAX;
	hot = over / m->block * m->block;
	if (hot < over) {
		if (m->region - hot < m->block)
			return MEMSIZE_ABOVE_MAX;
		hot += m->block;
	}
	p->hot = hot;
	p->balloon = m->boot;
	p->goal = m->boot + p->hot;
	return MEMSIZE_OK;
}

static int
vmem_request(struct qmp *q, struct memsize *m, uint64_t bytes,
    int timeout_ms)
{
	char path[96];

	if (m->id[0] == '\0')
		return bad_reply(m, "qom-set requested-size", "the virtio-mem "
		    "device has no id; give it one (-device "
		    "virtio-mem-pci,id=...)");
	snprintf(path, sizeof(path), "/machine/peripheral/%s", m->id);
	return run(q, m, "qom-set", json_pack("{s:s, s:s, s:I}", "path", path,
	    "property", "requested-size", "value", (json_int_t)bytes), NULL,
	    timeout_ms);
}

int
memsize_apply(struct qmp *q, struct memsize *m, const struct memsize_plan *p,
    int timeout_ms)
{
	int r = QMP_OK;

	if (m->vmem && p->hot > m->requested)
		r = vmem_request(q, m, p->hot, timeout_ms);
	if (r == QMP_OK)
		r = run(q, m, "balloon", json_pack("{s:I}", "value",
		    (json_int_t)p->balloon), NULL, timeout_ms);
	if (r == QMP_OK && m->vmem && p->hot < m->requested)
		r = vmem_request(q, m, p->hot, timeout_ms);
	if (r == QMP_OK && m->vmem)
		m->requested = p->hot;
	return r;
}
