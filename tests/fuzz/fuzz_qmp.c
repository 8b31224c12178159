/*
 * libFuzzer: the QMP reader (host/qmp.c) against a hostile QEMU.  The
 * input is what "QEMU" sends, written into one end of a socketpair before
 * the client connects over the other: greeting, replies and events in any
 * order and shape.  The client negotiates, executes a command and takes
 * events until the stream ends; it must neither crash, leak nor hang.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp q;
	json_t *ret = NULL, *event;
	int sv[2], events = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	/* Whatever fits in the socket's buffer; the rest is cut off. */
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (size > 0 && write(sv[1], data, size) < 0)
		abort();
	shutdown(sv[1], SHUT_WR);
	if (qmp_connect_fd(&q, sv[0], 1000) == QMP_OK) {
		if (qmp_execute(&q, "query-balloon", NULL, &ret, 1000) == QMP_OK)
			json_decref(ret);
		while (events++ < 2000 &&
		    qmp_next_event(&q, &event, 1000) == QMP_OK)
			json_decref(event);
		qmp_close(&q);
	}
	close(sv[1]);
	return 0;
}
