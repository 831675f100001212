/*
 * h2files.c - metadata benchmark: create, stat and unlink N files.
 *
 *   h2files DIR [N]        (N default 10000)
 *
 * Creates DIR/f/ (must not exist), then N empty files in it (open
 * O_CREAT|O_EXCL, close), syncfs; stats each (lstat, in creation order);
 * unlinks each, syncfs; removes DIR/f.  Prints one line per phase,
 * "h2files PHASE N files S seconds R files/s", where create and unlink
 * include their syncfs.  Exit status 0 if every call succeeded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *phase, long n, double dt)
{
	printf("h2files %s %ld files %.3f seconds %.0f files/s\n", phase, n, dt,
	       dt > 0 ? n / dt : 0.0);
}

int main(int argc, char **argv)
{
	char d[4096], p[4200];
	long n = 10000, i;
	double t;
	struct stat st;
	int dfd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: h2files DIR [N]\n");
		return 2;
	}
	if (argc == 3)
		n = atol(argv[2]);
	snprintf(d, sizeof(d), "%s/f", argv[1]);
	if (mkdir(d, 0755)) {
		perror(d);
		return 1;
	}
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	t = now();
	for (i = 0; i < n; i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/file_%08ld", d, i);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			perror(p);
			return 1;
		}
		close(fd);
	}
	syncfs(dfd);
	report("create", n, now() - t);
	t = now();
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/file_%08ld", d, i);
		if (lstat(p, &st)) {
			perror(p);
			return 1;
		}
	}
	report("stat", n, now() - t);
	t = now();
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/file_%08ld", d, i);
		if (unlink(p)) {
			perror(p);
			return 1;
		}
	}
	syncfs(dfd);
	report("unlink", n, now() - t);
	close(dfd);
	if (rmdir(d)) {
		perror(d);
		return 1;
	}
	return 0;
}
