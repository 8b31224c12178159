/*
 * ballonetd: the metrics endpoint, Prometheus' text format over HTTP
 * (libmicrohttpd, its own thread).  The main loop renders the text after
 * each step and publishes it; the HTTP thread only copies it, under a
 * mutex, so it never reads the daemon's state.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static struct MHD_Daemon *mhd;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *published;

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct MHD_Response *res;
	enum MHD_Result r;
	unsigned code = MHD_HTTP_OK;
	char *body;

	(void)cls; (void)version; (void)upload; (void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		body = strdup("GET /metrics\n");
	} else if (strcmp(url, "/metrics") != 0) {
		code = MHD_HTTP_NOT_FOUND;
		body = strdup("not found: try /metrics\n");
	} else {
		pthread_mutex_lock(&lock);
		body = strdup(published != NULL ? published : "");
		pthread_mutex_unlock(&lock);
	}
	if (body == NULL)
		return MHD_NO;
	res = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE);
	if (res == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(res, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	r = MHD_queue_response(conn, code, res);
	MHD_destroy_response(res);
	return r;
}

/* "ADDR:PORT" with an IPv4 address, or "[ADDR6]:PORT". */
static int
parse_addr(const char *text, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	char *end;
	long port;

	if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 1 || port > 65535)
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		host[strlen(host) - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ?
		    0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

int
metrics_start(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;

	if (parse_addr(addr, &ss) != 0) {
		snprintf(err, errlen, "--metrics %s: not ADDR:PORT (e.g. "
		    "127.0.0.1:9464)", addr);
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	mhd = MHD_start_daemon(flags, 0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, 16u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (mhd == NULL) {
		snprintf(err, errlen, "--metrics %s: cannot listen there "
		    "(in use, or not a local address)", addr);
		return -1;
	}
	return 0;
}

void
metrics_publish(char *text)
{
	char *old;

	pthread_mutex_lock(&lock);
	old = published;
	published = text;
	pthread_mutex_unlock(&lock);
	free(old);
}

void
metrics_stop(void)
{
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	mhd = NULL;
	metrics_publish(NULL);
}
