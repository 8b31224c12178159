/*
 * libFuzzer: the operator's sizes (host/size.c).  Whatever size_parse()
 * accepts, size_format() prints exactly, and that text parses back to the
 * same number of bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), buf[SIZE_BUFLEN], *sp;
	uint64_t bytes, again;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (size_parse(text, &bytes) == 0) {
		size_format(bytes, buf, sizeof(buf));
		/* "512 MiB" for people; the parser takes "512MiB". */
		if ((sp = strchr(buf, ' ')) != NULL)
			memmove(sp, sp + 1, strlen(sp));
		if (size_parse(buf, &again) != 0 || again != bytes)
			abort();
	}
	free(text);
	return 0;
}
