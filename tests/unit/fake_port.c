#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_port.h"

void
fake_os_init(struct fake_os *os, uint64_t npages)
{
	memset(os, 0, sizeof(*os));
	os->npages = npages;
	os->ram = calloc(npages, 4096);
	os->used = calloc(npages, sizeof(bool));
	os->dma = aligned_alloc(4096, FAKE_DMA_BYTES);
	if (os->ram == NULL || os->used == NULL || os->dma == NULL)
		abort();
	memset(os->dma, 0, FAKE_DMA_BYTES);
	os->fail_after = -1;
}

void
fake_os_fini(struct fake_os *os)
{
	free(os->ram);
	free(os->used);
	free(os->dma);
}

void *
fake_pa_to_va(struct fake_os *os, bn_paddr_t pa)
{
	if (pa >= FAKE_RAM_BASE && pa < FAKE_RAM_BASE + os->npages * 4096)
		return os->ram + (pa - FAKE_RAM_BASE);
	if (pa >= FAKE_DMA_BASE && pa < FAKE_DMA_BASE + FAKE_DMA_BYTES)
		return os->dma + (pa - FAKE_DMA_BASE);
	return NULL;
}

uint64_t
fake_first_pfn(void)
{
	return FAKE_RAM_BASE >> 12;
}

uint64_t
fake_max_pfn(const struct fake_os *os)
{
	return fake_first_pfn() + os->npages;
}

bool
fake_log_contains(const struct fake_os *os, const char *needle)
{
	return fake_log_count(os, needle) > 0;
}

unsigned
fake_log_count(const struct fake_os *os, const char *needle)
{
	unsigned i, n = 0, kept = os->nlog < 64 ? os->nlog : 64;

	for (i = 0; i < kept; i++)
		if (strstr(os->log[i], needle) != NULL)
			n++;
	return n;
}

int
bn_port_page_alloc(void *osp, bn_paddr_t *pa)
{
	struct fake_os *os = osp;
	uint64_t i;

	if (os->fail_after == 0)
		return 1;
	if (os->fail_after > 0)
		os->fail_after--;
	if (os->npages - os->nused <= os->reserved)
		return 1;
	/* Highest free page first, so tests see non-trivial frame numbers. */
	for (i = os->npages; i-- > 0;) {
		if (!os->used[i]) {
			os->used[i] = true;
			os->nused++;
			*pa = FAKE_RAM_BASE + i * 4096;
			return 0;
		}
	}
	return 1;
}

void
bn_port_page_free(void *osp, bn_paddr_t pa)
{
	struct fake_os *os = osp;
	uint64_t i = (pa - FAKE_RAM_BASE) / 4096;

	if (pa < FAKE_RAM_BASE || i >= os->npages || !os->used[i]) {
		os->double_free++;
		return;
	}
	os->used[i] = false;
	os->nused--;
}

void
bn_port_page_zero(void *osp, bn_paddr_t pa)
{
	struct fake_os *os = osp;

	memset(fake_pa_to_va(os, pa), 0, 4096);
	os->zeroed++;
}

uint64_t
bn_port_reserved_pages(void *osp)
{
	return ((struct fake_os *)osp)->reserved;
}

void *
bn_port_dma_alloc(void *osp, size_t bytes, bn_paddr_t *pa)
{
	struct fake_os *os = osp;
	size_t len = (bytes + 4095) & ~(size_t)4095;
	void *va;

	if (len > FAKE_DMA_BYTES - os->dma_used)
		return NULL;
	va = os->dma + os->dma_used;
	*pa = FAKE_DMA_BASE + os->dma_used;
	os->dma_used += len;
	memset(va, 0, len);
	return va;
}

void
bn_port_dma_free(void *osp, void *va, size_t bytes)
{
	(void)osp;
	(void)va;
	(void)bytes;
}

uint64_t
bn_port_now_ms(void *osp)
{
	return ((struct fake_os *)osp)->now_ms;
}

void
bn_port_wakeup(void *osp)
{
	((struct fake_os *)osp)->wakeups++;
}

void
bn_port_mb(void *osp)
{
	(void)osp;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

volatile void *
bn_port_mmio_map(void *osp, bn_paddr_t pa, size_t len)
{
	(void)len;
	return fake_pa_to_va(osp, pa);
}

uint32_t
bn_port_pci_cfg_read(void *osp, void *pcidev, uint16_t off, int width)
{
	(void)osp;
	(void)pcidev;
	(void)off;
	return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

void
bn_port_pci_cfg_write(void *osp, void *pcidev, uint16_t off, int width,
    uint32_t val)
{
	(void)osp;
	(void)pcidev;
	(void)off;
	(void)width;
	(void)val;
}

uint32_t
bn_port_io_read(void *osp, uint32_t port, int width)
{
	(void)osp;
	(void)port;
	return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

void
bn_port_io_write(void *osp, uint32_t port, int width, uint32_t val)
{
	(void)osp;
	(void)port;
	(void)width;
	(void)val;
}

void
bn_port_log(void *osp, int level, const char *msg)
{
	struct fake_os *os = osp;

	(void)level;
	snprintf(os->log[os->nlog % 64], sizeof(os->log[0]), "%s", msg);
	os->nlog++;
	if (getenv("FAKE_PORT_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", msg);
}
