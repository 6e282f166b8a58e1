// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded TCP transfer with a check, for a nested guest that has
 * nothing but busybox: built static, numeric addresses only.
 *
 *   vduse_tcp_blob serve IP PORT BYTES   send BYTES of a known pattern to
 *                                        the first client, then exit
 *   vduse_tcp_blob fetch IP PORT         print "bytes=N bad=M": what came,
 *                                        and how many bytes differ from
 *                                        the pattern
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char blob_byte(unsigned long i)
{
	return (unsigned char)(i * 2654435761u >> 13);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static unsigned char buf[65536];
	unsigned long done = 0, bad = 0, want, i;
	struct timeval tv = { .tv_sec = 60 };
	int s, c, one = 1;
	ssize_t n;

	if (argc < 4 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: %s serve|fetch IP PORT [BYTES]\n",
			argv[0]);
		return 2;
	}
	sa.sin_port = htons(atoi(argv[3]));
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return 1;

	if (!strcmp(argv[1], "serve") && argc == 5) {
		want = strtoul(argv[4], NULL, 0);
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1))
			return 1;
		c = accept(s, NULL, NULL);
		if (c < 0)
			return 1;
		/* The guest may take minutes to come; then it moves. */
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		while (done < want) {
			size_t len = sizeof(buf);

			if (len > want - done)
				len = want - done;
			for (i = 0; i < len; i++)
				buf[i] = blob_byte(done + i);
			n = write(c, buf, len);
			if (n <= 0)
				return 1;
			done += n;
		}
		/* Everything out before the close: no reset loses data. */
		shutdown(c, SHUT_WR);
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
		printf("sent=%lu\n", done);
		return 0;
	}
	if (!strcmp(argv[1], "fetch") && argc == 4) {
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
			perror("connect");
			return 1;
		}
		while ((n = read(s, buf, sizeof(buf))) > 0) {
			for (i = 0; i < (unsigned long)n; i++)
				bad += buf[i] != blob_byte(done + i);
			done += n;
		}
		printf("bytes=%lu bad=%lu\n", done, bad);
		return n < 0;
	}
	return 2;
}
