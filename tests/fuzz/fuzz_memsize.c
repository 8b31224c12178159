/*
 * libFuzzer: host/memsize.c (the logical size that ballonet set/info and
 * ballonetd's QMP backend share) against a hostile QEMU.  The first eight
 * input bytes are the size asked for; the rest is what "QEMU" sends after
 * a well-formed greeting and qmp_capabilities reply, from a thread on the
 * other end of a socket pair.
 *
 * It must neither crash nor leak, and what it plans must hold whatever
 * QEMU said: a size at or below the boot RAM goes to the balloon alone,
 * one above it is whole blocks of the region that cover the size, and the
 * goal is what the plan adds up to, with no sum that wrapped.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memsize.h"
#include "qmp.h"

static const char canned[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
    "\"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
    "{\"return\": {}, \"id\": 0}\r\n";

struct peer {
	int		 fd;
	const uint8_t	*data;
	size_t		 size;
};

static void
die(const char *why, const struct memsize *m, uint64_t size)
{
	fprintf(stderr, "fuzz_memsize: %s (size %llu, boot %llu, vmem %d, "
	    "region %llu, block %llu)\n", why, (unsigned long long)size,
	    (unsigned long long)m->boot, m->vmem,
	    (unsigned long long)m->region, (unsigned long long)m->block);
	abort();
}

/* QEMU: send everything, close for writing, read until the client goes. */
static void *
serve(void *arg)
{
	struct peer *p = arg;
	char buf[4096];

	if (send(p->fd, canned, sizeof(canned) - 1, MSG_NOSIGNAL) >= 0 &&
	    p->size > 0)
		(void)send(p->fd, p->data, p->size, MSG_NOSIGNAL);
	shutdown(p->fd, SHUT_WR);
	while (recv(p->fd, buf, sizeof(buf), 0) > 0)
		continue;
	return NULL;
}

static void
check_plan(const struct memsize *m, uint64_t size)
{
	struct memsize_plan p;
	int r = memsize_plan(m, size, &p);

	if (r != MEMSIZE_OK)
		return;
	if (size <= m->boot) {
		if (p.hot != 0 || p.balloon != size || p.goal > m->boot ||
		    p.goal < size)
			die("a size within the RAM not on the balloon", m, size);
		return;
	}
	if (!m->vmem || m->block == 0)
		die("a size above the RAM without virtio-mem", m, size);
	if (p.hot % m->block != 0 || p.hot > m->region)
		die("not whole blocks of the region", m, size);
	if (p.hot < size - m->boot)
		die("the blocks do not cover the size", m, size);
	if (p.balloon != m->boot || p.goal != m->boot + p.hot ||
	    p.goal < m->boot)
		die("a goal that is not the plan's sum", m, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer peer;
	struct memsize m;
	struct qmp q;
	pthread_t t;
	uint64_t want = 0;
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < 8 && i < size; i++)
		want |= (uint64_t)data[i] << (8 * i);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	peer = (struct peer){ sv[1], data + (size < 8 ? size : 8),
	    size < 8 ? 0 : size - 8 };
	if (pthread_create(&t, NULL, serve, &peer) != 0)
		abort();
	if (qmp_connect_fd(&q, sv[0], 1000) == QMP_OK) {
		if (memsize_query(&q, &m, 200) == QMP_OK) {
			struct memsize_plan p;
			(void)memsize_logical(&m);
			(void)memsize_max(&m);
			check_plan(&m, want);
			check_plan(&m, m.boot);
			check_plan(&m, m.boot + 1);
			if (memsize_plan(&m, want, &p) == MEMSIZE_OK)
				(void)memsize_apply(&q, &m, &p, 200);
		}
		qmp_close(&q);
	}			/* a failed connect closed sv[0] itself */
	pthread_join(t, NULL);
	close(sv[1]);
	return 0;
}
