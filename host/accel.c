/*
 * ballonet vm start: the choice of accelerator (see accel.h).
 */
#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[] = {
	[ACCEL_AUTO] = "auto", [ACCEL_KVM] = "kvm", [ACCEL_TCG] = "tcg",
};

int
accel_parse(const char *text, enum accel *want)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(text, names[i]) == 0) {
			*want = (enum accel)i;
			return 0;
		}
	}
	return -1;
}

const char *
accel_name(enum accel accel)
{
	return names[accel];
}

void
accel_choose(enum accel want, const struct accel_host *h,
    struct accel_choice *c)
{
	c->accel = ACCEL_TCG;
	c->refused = false;
	if (want == ACCEL_TCG) {
		snprintf(c->why, sizeof(c->why), "asked for with --accel tcg");
		return;
	}
	if (h->flag == NULL)
		snprintf(c->why, sizeof(c->why), "no vmx/svm flag in %s",
		    h->cpuinfo);
	else if (h->kvm_errno != 0)
		snprintf(c->why, sizeof(c->why), "%s in %s, but %s does not "
		    "open: %s", h->flag, h->cpuinfo, ACCEL_DEV,
		    strerror(h->kvm_errno));
	else {
		c->accel = ACCEL_KVM;
		snprintf(c->why, sizeof(c->why), "%s%s in %s, %s opens",
		    want == ACCEL_KVM ? "asked for with --accel kvm; " : "",
		    h->flag, h->cpuinfo, ACCEL_DEV);
		return;
	}
	c->refused = want == ACCEL_KVM;
}

/* Is WORD one of the blank-separated words of LINE? */
static bool
has_word(const char *line, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = line; (p = strstr(p, word)) != NULL; p += n) {
		bool starts = p == line || p[-1] == ' ' || p[-1] == '\t';
		bool ends = p[n] == '\0' || strchr(" \t\n", p[n]) != NULL;
		if (starts && ends)
			return true;
	}
	return false;
}

const char *
accel_cpu_flag(const char *path)
{
	const char *flag = NULL;
	char line[8192];
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (flag == NULL && fgets(line, sizeof(line), f) != NULL) {
		const char *colon = strchr(line, ':');
		/* "flags\t\t: fpu vme ...", not "vmx flags\t: ept ..." */
		if (colon == NULL || strncmp(line, "flags", 5) != 0 ||
		    strspn(line + 5, " \t") != (size_t)(colon - line - 5))
			continue;
		if (has_word(colon + 1, "vmx"))
			flag = "vmx";
		else if (has_word(colon + 1, "svm"))
			flag = "svm";
	}
	fclose(f);
	return flag;
}

void
accel_probe(struct accel_host *h)
{
	const char *env = getenv("BALLONET_CPUINFO");
	int fd;

	h->cpuinfo = env != NULL && *env != '\0' ? env : ACCEL_CPUINFO;
	h->flag = accel_cpu_flag(h->cpuinfo);
	h->kvm_errno = 0;
	if ((fd = open(ACCEL_DEV, O_RDWR | O_CLOEXEC)) < 0)
		h->kvm_errno = errno;
	else
		close(fd);
}
