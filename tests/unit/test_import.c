/*
 * test_import.c - unit tests for the strace importer (sim/import_strace.c):
 * small synthetic captures for each feature, then the three real captures
 * of ../shared/workloads (skipped with a message when absent).
 *
 * The importer is included directly (the unit test programs are linked
 * with libhammer2.a only).  Runs with cwd = the repository root.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../sim/import_strace.c"

#include "h2test.h"

#define WORKLOADS "../shared/workloads/"

static int nreports;
static char last_report[512];

static void on_report(void *arg, const char *msg)
{
	(void)arg;
	nreports++;
	snprintf(last_report, sizeof(last_report), "%s", msg);
}

/* Write text to a fresh temporary file; returns its (static) name. */
static const char *write_capture(const char *text)
{
	static char name[64];
	int fd;
	FILE *f;

	snprintf(name, sizeof(name), "/tmp/h2imp-XXXXXX");
	fd = mkstemp(name);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return name;
}

/*
 * Import a file into a malloc'd string (NULL on failure; *errp gets the
 * error and *linep the error line when given).
 */
static char *import_file(const char *path, struct import_stats *st, int *errp,
			 long *linep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	long line = 0;
	int err;

	if (out == NULL)
		return NULL;
	nreports = 0;
	err = import_strace(path, out, st, on_report, NULL, &line);
	fclose(out);
	if (errp)
		*errp = err;
	if (linep)
		*linep = line;
	if (err) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Import a synthetic capture given as text. */
static char *import_text(const char *text, struct import_stats *st)
{
	const char *name = write_capture(text);
	char *r;

	if (name == NULL)
		return NULL;
	r = import_file(name, st, NULL, NULL);
	unlink(name);
	return r;
}

/* Does the trace contain this exact operation line? */
static int has_line(const char *trace, const char *line)
{
	size_t n = strlen(line);
	const char *s = trace;

	while (s && *s) {
		if (strncmp(s, line, n) == 0 && (s[n] == '\n' || s[n] == 0))
			return 1;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return 0;
}

/* Number of lines starting with prefix. */
static long count_prefix(const char *trace, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *s = trace;
	long k = 0;

	while (s && *s) {
		if (strncmp(s, prefix, n) == 0)
			k++;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return k;
}

/* Operation lines (not header, not comments). */
static long count_ops(const char *trace)
{
	return count_prefix(trace, "") - count_prefix(trace, "#") -
	       count_prefix(trace, "h2trace ") - count_prefix(trace, "seed ") -
	       count_prefix(trace, "source ");
}

static int buckets_sum(const struct import_stats *st)
{
	return st->imported + st->skipped_outside + st->ignored +
		       st->unreplayable + st->unresolved +
		       st->unknown_syscalls ==
	       st->calls;
}

/* ---------------------------------------------------------------- */

static void test_header_and_basic(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.000001 openat(-100, \"/w/a b\", 0x241, 0644) = 3\n"
		"100 1.000002 write(3, \"\"..., 4096) = 4096\n"
		"100 1.000003 pwrite64(3, \"\"..., 10, 8192) = 10\n"
		"100 1.000004 lseek(3, 0, 0) = 0\n"
		"100 1.000005 read(3, \"\"..., 100) = 100\n"
		"100 1.000006 fsync(3) = 0\n"
		"100 1.000007 close(3) = 0\n"
		"100 1.000008 mkdir(\"/w/d\", 0755) = 0\n"
		"100 1.000009 rename(\"/w/a b\", \"/w/d/c\") = 0\n"
		"100 1.000010 renameat2(-100, \"/w/d/c\", -100, \"/w/e\", 0x1)"
		" = 0\n"
		"100 1.000011 newfstatat(-100, \"/w/e\", {st_mode=0100644, ...},"
		" 0x100) = 0\n"
		"100 1.000012 +++ exited with 0 +++\n",
		&st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(strncmp(t, "h2trace 1\nseed 0\nsource strace h2imp-", 37) ==
		  0);
	CU_ASSERT(has_line(t, "open 3 /a%20b wronly|creat|trunc 0644 = 3"));
	CU_ASSERT(has_line(t, "write 3 4096 = 4096"));
	CU_ASSERT(has_line(t, "pwrite 3 8192 10 = 10"));
	CU_ASSERT(has_line(t, "lseek 3 0 set = 0"));
	CU_ASSERT(has_line(t, "read 3 100 = 100"));
	CU_ASSERT(has_line(t, "fsync 3 = 0"));
	CU_ASSERT(has_line(t, "close 3 = 0"));
	CU_ASSERT(has_line(t, "mkdir /d 0755 = 0"));
	CU_ASSERT(has_line(t, "rename /a%20b /d/c = 0"));
	CU_ASSERT(has_line(t, "rename /d/c /e noreplace = 0"));
	CU_ASSERT(has_line(t, "lstat /e = 0"));
	CU_ASSERT(strstr(t, "\n# import: lines 12 calls 11 imported 11") !=
		  NULL);
	CU_ASSERT_EQUAL(st.lines, 12);
	CU_ASSERT_EQUAL(st.calls, 11);
	CU_ASSERT_EQUAL(st.imported, 11);
	CU_ASSERT_EQUAL(st.ops, 11);
	CU_ASSERT_EQUAL(count_ops(t), 11);
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_unfinished_resumed(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.1 openat(-100, \"/w/f\", 0x42, 0600) = 3\n"
		"100 1.2 write(3, \"\"..., 512 <unfinished ...>\n"
		"101 1.3 openat(-100, \"/w/g\", 0 <unfinished ...>\n"
		"100 1.4 <... write resumed>) = 512\n"
		"101 1.5 <... openat resumed>) = -1 ENOENT (No such file or "
		"directory)\n"
		"100 1.6 read(3,  <unfinished ...>\n"
		"100 1.7 <... read resumed>\"\", 8) = 0\n"
		"100 1.8 close(3 <unfinished ...>\n"
		"100 1.9 <... close resumed>) = 0\n",
		&st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(st.unfinished_joined, 4);
	CU_ASSERT_EQUAL(st.calls, 5);
	CU_ASSERT(has_line(t, "write 3 512 = 512"));
	CU_ASSERT(has_line(t, "open 4 /g rdonly 0 = -ENOENT"));
	CU_ASSERT(has_line(t, "read 3 8 = 0"));
	CU_ASSERT(has_line(t, "close 3 = 0"));
	/* order: the write completes before the failed open */
	CU_ASSERT(strstr(t, "write 3 512") < strstr(t, "/g rdonly"));
	/* 101's inherited copy of fd 3 is unused: 100's close closes it */
	CU_ASSERT(strstr(t, "# end of capture") == NULL);
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_fd_inheritance(void)
{
	struct import_stats st;
	char *t = import_text(
		/* parent opens two files, one close-on-exec */
		"100 1.01 openat(-100, \"/w/log\", 0x441, 0644) = 3\n"
		"100 1.02 openat(-100, \"/w/lock\", 0x800c2, 0600) = 4\n"
		/* child appears (fork not traced): inherits 3 and 4 */
		"101 1.03 write(3, \"\"..., 7) = 7\n"
		"101 1.04 execve(\"/bin/x\", [...], 0x1 /* 3 vars */) = 0\n"
		"101 1.05 write(4, \"\"..., 1) = -1 EBADF (Bad file "
		"descriptor)\n"
		"101 1.06 dup2(3, 1) = 1\n"
		"101 1.07 write(1, \"\"..., 5) = 5\n"
		/* the parent's close does not close the shared file */
		"100 1.08 close(3) = 0\n"
		"100 1.09 close(4) = 0\n"
		"101 1.10 close(3) = 0\n"
		"101 1.11 write(1, \"\"..., 2) = 2\n"
		"101 1.12 close(1) = 0\n",
		&st);
	const char *c3;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(has_line(t, "open 3 /log wronly|creat|append 0644 = 3"));
	CU_ASSERT(has_line(t, "open 4 /lock rdwr|creat|excl 0600 = 4"));
	CU_ASSERT(has_line(t, "write 3 7 = 7"));
	/* fd 4 was O_CLOEXEC: gone in the child after execve */
	CU_ASSERT(strstr(t, "write 4") == NULL);
	CU_ASSERT(has_line(t, "write 3 5 = 5"));
	CU_ASSERT(has_line(t, "write 3 2 = 2"));
	CU_ASSERT(has_line(t, "close 4 = 0"));
	CU_ASSERT_EQUAL(count_prefix(t, "close 3"), 1);
	c3 = strstr(t, "close 3 = 0");
	CU_ASSERT(c3 != NULL && c3 > strstr(t, "write 3 2 = 2"));
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_process_tree(void)
{
	struct import_stats st;
	/* guessed parents: inherited copies not used do not keep files open;
	 * used after the last close they cannot be replayed */
	char *t = import_text(
		"100 1.01 chdir(\"/w/d\") = 0\n"
		"100 1.02 openat(-100, \"f\", 0x41, 0644) = 3\n"
		"101 1.03 openat(-100, \"g\", 0x41, 0644) = 4\n"
		"100 1.04 close(3) = 0\n"
		"101 1.05 write(3, \"\"..., 9) = 9\n"
		"101 1.06 write(4, \"\"..., 9) = 9\n"
		"101 1.07 +++ exited with 0 +++\n"
		/* clone lines: a strong copy, and a shared table */
		"100 1.08 openat(-100, \"h\", 0x41, 0644) = 3\n"
		"100 1.09 clone(child_stack=NULL, flags=0x1200011, "
		"child_tidptr=0x7f) = 102\n"
		"100 1.10 close(3) = 0\n"
		"102 1.11 write(3, \"\"..., 5) = 5\n"
		"100 1.12 clone(child_stack=0x7f, flags=0x3d0f00, "
		"parent_tid=0x7f, tls=0x7f, child_tidptr=0x7f) = 103\n"
		"103 1.13 openat(-100, \"i\", 0x41, 0644) = 5\n"
		"100 1.14 write(5, \"\"..., 6) = 6\n"
		"102 1.15 +++ exited with 0 +++\n"
		"100 1.16 close(5) = 0\n",
		&st);
	const char *c3;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(has_line(t, "open 3 /d/f wronly|creat 0644 = 3"));
	CU_ASSERT(has_line(t, "open 4 /d/g wronly|creat 0644 = 4"));
	c3 = strstr(t, "close 3 = 0");
	CU_ASSERT(c3 != NULL && c3 < strstr(t, "write 4 9"));
	CU_ASSERT(strstr(t, "write 3 9") == NULL); /* after its close */
	CU_ASSERT_EQUAL(st.unreplayable, 1);
	/* the exit of 101 closes its file */
	CU_ASSERT(has_line(t, "close 4 = 0"));
	CU_ASSERT(strstr(t, "close 4 = 0") < strstr(t, "/d/h"));
	/* 102 (no CLONE_FILES) holds /d/h open until it exits */
	CU_ASSERT(has_line(t, "write 3 5 = 5"));
	CU_ASSERT(strstr(t, "write 3 5") < strrchr(t, '#'));
	CU_ASSERT(has_line(t, "open 5 /d/i wronly|creat 0644 = 5"));
	CU_ASSERT(has_line(t, "write 5 6 = 6"));
	CU_ASSERT(has_line(t, "close 5 = 0"));
	CU_ASSERT_EQUAL(count_prefix(t, "close 3 = 0"), 2);
	CU_ASSERT(strstr(t, "# end of capture") == NULL);
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_trace_fds_unique(void)
{
	struct import_stats st;
	/* two processes both using their fd 3 for different /w files */
	char *t = import_text("100 1.1 chdir(\"/tmp\") = 0\n"
			      "101 1.2 chdir(\"/w\") = 0\n"
			      "101 1.3 openat(-100, \"a\", 0x41, 0644) = 3\n"
			      "100 1.4 openat(-100, \"/w/b\", 0x41, 0644) = 3\n"
			      "100 1.5 write(3, \"\"..., 1) = 1\n"
			      "101 1.6 write(3, \"\"..., 2) = 2\n"
			      "101 1.7 close(3) = 0\n"
			      "100 1.8 openat(-100, \"/w/c\", 0) = 4\n",
			      &st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(has_line(t, "open 3 /a wronly|creat 0644 = 3"));
	CU_ASSERT(has_line(t, "open 4 /b wronly|creat 0644 = 4"));
	CU_ASSERT(has_line(t, "write 4 1 = 1"));
	CU_ASSERT(has_line(t, "write 3 2 = 2"));
	CU_ASSERT(has_line(t, "close 3 = 0"));
	/* 3 is free again: the program's own 4 is taken, so 3 is reused */
	CU_ASSERT(has_line(t, "open 3 /c rdonly 0 = 3"));
	/* descriptors still open at the end are closed */
	CU_ASSERT(strstr(t, "# end of capture") != NULL);
	CU_ASSERT(has_line(t, "close 4 = 0"));
	free(t);
}

static void test_failed_calls(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.1 openat(-100, \"/w/missing\", 0) = -1 ENOENT (No such "
		"file or directory)\n"
		"100 1.2 openat(-100, \"/etc/missing\", 0) = -1 ENOENT (No "
		"such file or directory)\n"
		"100 1.3 mkdir(\"/w/x\", 0700) = -1 EEXIST (File exists)\n"
		"100 1.4 unlink(\"x/y\") = -1 ENOTDIR (Not a directory)\n"
		"100 1.5 access(\"/w/q\", 0) = -1 ENOENT (No such file or "
		"directory)\n"
		"100 1.6 access(\"/w/r\", 0x1) = -1 EACCES (Permission "
		"denied)\n"
		"100 1.7 newfstatat(-100, \"/w/s\", 0x7ffc, 0) = -1 ENOENT "
		"(No such file or directory)\n",
		&st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(has_line(t, "open 3 /missing rdonly 0 = -ENOENT"));
	CU_ASSERT(strstr(t, "/etc") == NULL);
	CU_ASSERT(has_line(t, "mkdir /x 0700 = -EEXIST"));
	CU_ASSERT(has_line(t, "unlink /x/y = -ENOTDIR"));
	CU_ASSERT(has_line(t, "stat /q = -ENOENT"));
	CU_ASSERT(strstr(t, "/r") == NULL); /* EACCES: not expressible */
	CU_ASSERT(has_line(t, "stat /s = -ENOENT"));
	CU_ASSERT_EQUAL(st.failed_calls, 7);
	CU_ASSERT_EQUAL(st.failed_imported, 5);
	CU_ASSERT_EQUAL(st.skipped_outside, 1);
	CU_ASSERT_EQUAL(st.unreplayable, 1);
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_relative_dirfds(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.01 openat(-100, \"/w/d\", 0x90800) = 3\n"
		"100 1.02 mkdirat(3, \"sub\", 0755) = 0\n"
		"100 1.03 openat(3, \"../x/./y\", 0x241, 0644) = 4\n"
		"100 1.04 unlinkat(3, \"sub\", 0x200) = 0\n"
		"100 1.05 renameat(3, \"a\", -100, \"/w/b\") = 0\n"
		"100 1.06 fchownat(3, \"f\", 0, 0xffffffff, 0x100) = 0\n"
		"100 1.07 newfstatat(3, \"\", {st_mode=040755, ...}, 0x1000)"
		" = 0\n"
		"100 1.08 chdir(\"/w/d/e\") = 0\n"
		"100 1.09 linkat(-100, \"../f\", 3, \"g\", 0) = 0\n"
		"100 1.10 symlinkat(\"t a\", -100, \"..\") = -1 EEXIST (File "
		"exists)\n"
		"100 1.11 readlinkat(3, \"g\", 0x1234, 32) = 5\n"
		"100 1.12 readlink(\"/w/long\", 0x1234, 32) = 32\n"
		"100 1.13 utimensat(4, NULL, [...], 0) = 0\n"
		"100 1.14 utimensat(-100, \"/w/d\", [{tv_sec=5, tv_nsec=7000},"
		" {tv_sec=6, tv_nsec=0x3ffffffe}], 0) = 0\n"
		"100 1.15 openat(-100, \"/w/d/p\", 0x2a0000) = 5\n"
		"100 1.16 chmod(\"/proc/self/fd/5\", 0755) = 0\n"
		"100 1.17 newfstatat(5, \"\", {st_mode=040700, ...}, 0x1000)"
		" = 0\n"
		"100 1.18 mkdirat(99, \"z\", 0755) = 0\n"
		"100 1.19 getcwd(\"/w/d\", 4096) = 5\n"
		"100 1.20 truncate(\"q\", 10) = 0\n"
		"100 1.21 openat2(-100, \"/w/o2\", {flags=0x241, mode=0600, "
		"resolve=0}, 24) = 6\n"
		"100 1.22 statx(6, \"\", 0x1000, 0x7ff, {stx_mode=0100600, "
		"...}) = 0\n",
		&st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(has_line(t, "open 3 /d rdonly|directory 0 = 3"));
	CU_ASSERT(has_line(t, "mkdir /d/sub 0755 = 0"));
	CU_ASSERT(has_line(t, "open 4 /x/y wronly|creat|trunc 0644 = 4"));
	CU_ASSERT(has_line(t, "rmdir /d/sub = 0"));
	CU_ASSERT(has_line(t, "rename /d/a /b = 0"));
	CU_ASSERT(has_line(t, "chown /d/f 0 -1 = 0"));
	CU_ASSERT(has_line(t, "fstat 3 = 0"));
	CU_ASSERT(has_line(t, "link /d/f /d/g = 0"));
	CU_ASSERT(has_line(t, "symlink t%20a /d = -EEXIST"));
	CU_ASSERT(has_line(t, "readlink /d/g = 5"));
	CU_ASSERT(has_line(t, "readlink /long")); /* truncated: unchecked */
	CU_ASSERT(has_line(t, "utimes /x/y -2 -2 = 0"));
	CU_ASSERT(has_line(t, "utimes /d 5000007 -1 = 0"));
	/* O_PATH fd: state only, used through /proc/self/fd */
	CU_ASSERT(strstr(t, "/d/p rdonly") == NULL);
	CU_ASSERT(has_line(t, "chmod /d/p 0755 = 0"));
	CU_ASSERT(has_line(t, "lstat /d/p = 0"));
	CU_ASSERT(has_line(t, "truncate /d/q 10 = 0"));
	CU_ASSERT(has_line(t, "open 6 /o2 wronly|creat|trunc 0600 = 6"));
	CU_ASSERT(has_line(t, "fstat 6 = 0"));
	CU_ASSERT_EQUAL(st.unresolved, 1); /* mkdirat on unknown fd 99 */
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_outside_skipped(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.1 openat(-100, \"/etc/passwd\", 0x80000) = 3\n"
		"100 1.2 read(3, \"\"..., 4096) = 1200\n"
		"100 1.3 newfstatat(3, \"\", {st_mode=0100644, ...}, 0x1000)"
		" = 0\n"
		"100 1.4 close(3) = 0\n"
		"100 1.5 openat(-100, \"/wx/f\", 0x241, 0644) = 3\n"
		"100 1.6 write(3, \"\"..., 10) = 10\n"
		"100 1.7 write(1, \"\"..., 10) = 10\n"
		"100 1.8 unlink(\"/w/../etc/f\") = 0\n"
		"100 1.9 mkdir(\"/w/../w/k\", 0777) = 0\n",
		&st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(st.skipped_outside, 8);
	CU_ASSERT_EQUAL(st.imported, 1);
	CU_ASSERT(has_line(t, "mkdir /k 0777 = 0"));
	CU_ASSERT_EQUAL(count_ops(t), 1);
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_copy_file_range(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.1 openat(-100, \"/usr/include/a.h\", 0x20000) = 4\n"
		"100 1.2 openat(-100, \"/w/a.h\", 0xc1, 0644) = 5\n"
		"100 1.3 copy_file_range(4, NULL, 5, NULL, 9223372035781033984,"
		" 0) = 9208\n"
		"100 1.4 copy_file_range(4, NULL, 5, NULL, 9223372035781033984,"
		" 0) = 0\n"
		"100 1.5 openat(-100, \"/w/b.h\", 0xc1, 0644) = 6\n"
		"100 1.6 openat(-100, \"/w/a.h\", 0) = 7\n"
		"100 1.7 copy_file_range(7, NULL, 6, NULL, 100, 0) = 100\n"
		"100 1.8 copy_file_range(7, [4096], 6, [0], 50, 0) = 50\n"
		"100 1.9 sendfile(6, 4, NULL, 30) = 30\n"
		"100 2.0 copy_file_range(4, NULL, 5, NULL, 9, 0) = -1 EXDEV "
		"(Invalid cross-device link)\n",
		&st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(has_line(t, "write 5 9208 = 9208"));
	CU_ASSERT(has_line(t, "read 7 100 = 100"));
	CU_ASSERT(has_line(t, "write 6 100 = 100"));
	CU_ASSERT(has_line(t, "pread 7 4096 50 = 50"));
	CU_ASSERT(has_line(t, "pwrite 6 0 50 = 50"));
	CU_ASSERT(has_line(t, "write 6 30 = 30"));
	CU_ASSERT(strstr(t, "write 5 0") == NULL);
	CU_ASSERT_EQUAL(st.unreplayable, 1);
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_getdents(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.01 openat(-100, \"/w/d\", 0x90800) = 3\n"
		"100 1.02 getdents64(3, 0x55 /* 15 entries */, 32768) = 616\n"
		"100 1.03 getdents64(3, 0x55 /* 2 entries */, 32768) = 48\n"
		"100 1.04 getdents64(3, 0x55 /* 0 entries */, 32768) = 0\n"
		"100 1.05 getdents64(3, 0x55 /* 0 entries */, 32768) = 0\n"
		"100 1.06 lseek(3, 0, 0) = 0\n"
		"100 1.07 getdents64(3, 0x55 /* 3 entries */, 32768) = 72\n"
		"100 1.08 unlink(\"/w/d/x\") = 0\n"
		"100 1.09 getdents64(3, 0x55 /* 0 entries */, 32768) = 0\n"
		"100 1.10 close(3) = 0\n"
		"100 1.11 openat(-100, \"/w\", 0x90800) = 3\n"
		"100 1.12 getdents64(3, 0x55 /* 2 entries */, 32768) = 48\n",
		&st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(has_line(t, "readdir /d = 15"));
	/* a change under /w during the second listing: result unchecked */
	CU_ASSERT(has_line(t, "readdir /d"));
	CU_ASSERT_EQUAL(count_prefix(t, "readdir /d"), 2);
	CU_ASSERT(strstr(t, "lseek") == NULL); /* directory offsets */
	/* not read to the end: unchecked */
	CU_ASSERT(has_line(t, "readdir /"));
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_unknown_syscalls(void)
{
	struct import_stats st;
	char *t = import_text(
		"100 1.1 setxattr(\"/w/f\", \"user.a\", 0x1, 1, 0) = 0\n"
		"100 1.2 setxattr(\"/usr/f\", \"user.a\", 0x1, 1, 0) = 0\n"
		"100 1.3 openat(-100, \"/w/f\", 0x2) = 3\n"
		"100 1.4 splice(3, NULL, 7, NULL, 10, 0) = 10\n"
		"100 1.5 fremovexattr(3, \"user.a\") = 0\n"
		"100 1.6 setxattr(\"/w/g\", \"user.a\", 0x1, 1, 0) = 0\n"
		"100 1.7 ioctl(3, 0x5401, 0x7ff) = -1 ENOTTY (Inappropriate "
		"ioctl for device)\n"
		"100 1.8 fadvise64(3, 0, 0, 0x2) = 0\n"
		"100 1.9 mmap(NULL, 4096, 0x1, 0x2, 3, 0) = 0x7f00\n"
		"100 2.0 mmap(NULL, 4096, 0x3, 0x1, 3, 0) = 0x7f00\n",
		&st);
	unsigned i;
	uint64_t sx = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(st.unknown_syscalls, 4);
	CU_ASSERT_EQUAL(st.nunknown, 3);
	for (i = 0; i < st.nunknown; i++)
		if (strcmp(st.unknown[i].name, "setxattr") == 0)
			sx = st.unknown[i].count;
	CU_ASSERT_EQUAL(sx, 2);
	CU_ASSERT(strstr(t, "# unknown setxattr 2\n") != NULL);
	CU_ASSERT(strstr(t, "# unknown splice 1\n") != NULL);
	CU_ASSERT_EQUAL(st.skipped_outside, 1);
	CU_ASSERT_EQUAL(st.ignored, 3);	     /* ioctl, fadvise, mmap */
	CU_ASSERT_EQUAL(st.unreplayable, 1); /* shared writable mmap */
	CU_ASSERT_EQUAL(st.mmap_w, 2);
	/* one report per unknown name, plus the mmap */
	CU_ASSERT_EQUAL(nreports, 4);
	CU_ASSERT(buckets_sum(&st));
	free(t);
}

static void test_errors_and_gzip(void)
{
	struct import_stats st;
	int err = 0;
	long line = -1;
	const char *name;
	char *t, gzname[80];
	gzFile gz;

	t = import_file("/nonexistent/capture.gz", &st, &err, &line);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(err, ENOENT);

	name = write_capture("100 1.1 close(3) = 0\n"
			     "this is not strace output\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(name);
	t = import_file(name, &st, &err, &line);
	unlink(name);
	CU_ASSERT_PTR_NULL(t);
	free(t);
	CU_ASSERT_EQUAL(err, EINVAL);
	CU_ASSERT_EQUAL(line, 2);

	/* gzip input, and a truncated gzip stream */
	snprintf(gzname, sizeof(gzname), "/tmp/h2imp-%d.gz", (int)getpid());
	gz = gzopen(gzname, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
	gzputs(gz, "100 1.1 mkdir(\"/w/z\", 0755) = 0\n");
	gzclose(gz);
	t = import_file(gzname, &st, &err, &line);
	CU_ASSERT_PTR_NOT_NULL(t);
	CU_ASSERT(t && has_line(t, "mkdir /z 0755 = 0"));
	free(t);
	{
		FILE *f = fopen(gzname, "r+");
		long sz;

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fseek(f, 0, SEEK_END);
		sz = ftell(f);
		fclose(f);
		CU_ASSERT(truncate(gzname, sz - 12) == 0);
	}
	t = import_file(gzname, &st, &err, &line);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(err, EIO);
	CU_ASSERT(line >= 1);
	free(t);
	unlink(gzname);
}

/* ---------------------------------------------------------------- */
/* The real captures */

struct real_expect {
	const char *file;
	const char *prefix; /* an operation counted exactly */
	long count;
	long min_ops;
};

static void check_real(const struct real_expect *e)
{
	char path[256];
	struct import_stats st, st2;
	char *t, *t2;
	int err = 0;
	long line = 0;

	snprintf(path, sizeof(path), WORKLOADS "%s", e->file);
	if (access(path, R_OK) != 0) {
		printf("\n  %s absent, skipped\n", path);
		return;
	}
	t = import_file(path, &st, &err, &line);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	printf("\n  %s: calls %llu imported %llu skipped_outside %llu "
	       "ignored %llu unreplayable %llu unknown %llu\n",
	       e->file, (unsigned long long)st.calls,
	       (unsigned long long)st.imported,
	       (unsigned long long)st.skipped_outside,
	       (unsigned long long)st.ignored,
	       (unsigned long long)st.unreplayable,
	       (unsigned long long)st.unknown_syscalls);
	CU_ASSERT_EQUAL(count_prefix(t, e->prefix), e->count);
	CU_ASSERT(count_ops(t) >= e->min_ops);
	CU_ASSERT_EQUAL((uint64_t)count_ops(t), st.ops);
	CU_ASSERT(buckets_sum(&st));
	/* unknown syscalls on /w: none, or listed by name */
	if (st.unknown_syscalls) {
		uint64_t sum = st.unknown_other;
		unsigned i;

		for (i = 0; i < st.nunknown; i++) {
			sum += st.unknown[i].count;
			printf(" [%s %llu]", st.unknown[i].name,
			       (unsigned long long)st.unknown[i].count);
		}
		CU_ASSERT_EQUAL(sum, st.unknown_syscalls);
	}
	CU_ASSERT(strstr(t, "# end of capture") == NULL);
	/* deterministic */
	t2 = import_file(path, &st2, &err, &line);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t2);
	CU_ASSERT_STRING_EQUAL(t, t2);
	free(t);
	free(t2);
}

/*
 * Import the real capture WORKLOADS file, asserting that it imports: the
 * trace (the caller frees) with its stats in *st, or NULL if the capture
 * is absent (which is said unless quiet).
 */
static char *import_real(const char *file, struct import_stats *st, int quiet)
{
	char path[256];
	char *t;

	snprintf(path, sizeof(path), WORKLOADS "%s", file);
	if (access(path, R_OK) != 0) {
		if (!quiet)
			printf("\n  %s absent, skipped\n", path);
		return NULL;
	}
	t = import_file(path, st, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

static void test_real_untar(void)
{
	static const struct real_expect e = { "untar-headers.strace.gz",
					      "write ", 1254, 5000 };

	check_real(&e);
}

static void test_real_untar_creates(void)
{
	struct import_stats st;
	char *t = import_real("untar-headers.strace.gz", &st, 0);

	if (t == NULL)
		return;
	CU_ASSERT_EQUAL(count_prefix(t, "open "),
			800 + 0); /* each header created once */
	CU_ASSERT_EQUAL(count_prefix(t, "mkdir "), 32);
	CU_ASSERT_EQUAL(count_prefix(t, "utimes "), 830);
	CU_ASSERT_EQUAL(st.unknown_syscalls, 0);
	free(t);
}

static void test_real_git(void)
{
	static const struct real_expect e = { "git-workflow.strace.gz",
					      "rename ", 27, 7000 };
	struct import_stats st;
	char *t;

	check_real(&e);
	t = import_real(e.file, &st, 1);
	if (t == NULL)
		return;
	CU_ASSERT_EQUAL(count_prefix(t, "link "), 101);
	CU_ASSERT_EQUAL(count_prefix(t, "symlink "), 1);
	CU_ASSERT_EQUAL(count_prefix(t, "fsync "), 3);
	CU_ASSERT_EQUAL(st.unfinished_joined, 41);
	CU_ASSERT(count_prefix(t, "readdir ") > 0);
	free(t);
}

static void test_real_sqlite(void)
{
	static const struct real_expect e = { "sqlite-txn.strace.gz",
					      "fdatasync ", 812, 40000 };
	struct import_stats st;
	char *t;

	check_real(&e);
	t = import_real(e.file, &st, 1);
	if (t == NULL)
		return;
	/* the VACUUM temp file lives in /var/tmp: its writes are skipped */
	CU_ASSERT(count_prefix(t, "pwrite ") > 30000);
	CU_ASSERT_EQUAL(count_prefix(t, "unlink /db.sqlite-journal = 0"), 202);
	CU_ASSERT_EQUAL(count_prefix(t, "ftruncate "), 1);
	free(t);
}

static const h2test_t tests[] = {
	H2TEST(test_header_and_basic),
	H2TEST(test_unfinished_resumed),
	H2TEST(test_fd_inheritance),
	H2TEST(test_process_tree),
	H2TEST(test_trace_fds_unique),
	H2TEST(test_failed_calls),
	H2TEST(test_relative_dirfds),
	H2TEST(test_outside_skipped),
	H2TEST(test_copy_file_range),
	H2TEST(test_getdents),
	H2TEST(test_unknown_syscalls),
	H2TEST(test_errors_and_gzip),
	H2TEST(test_real_untar),
	H2TEST(test_real_untar_creates),
	H2TEST(test_real_git),
	H2TEST(test_real_sqlite),
	H2TEST_END,
};

int main(void)
{
	return h2test_run("import", tests);
}
