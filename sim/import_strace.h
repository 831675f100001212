/*
 * import_strace.h - turn an strace capture into an h2sim trace.
 *
 * The capture is the text written by `strace -f -ttt -X raw -o FILE`
 * (see ../shared/workloads/README.md), plain or gzip-compressed.  The
 * output is a trace in the format of docs/TRACE.md: every call that
 * touches a path or descriptor under /w becomes a trace operation with
 * its expected result, /w being the root of the filesystem under test.
 */
#ifndef H2SIM_IMPORT_STRACE_H
#define H2SIM_IMPORT_STRACE_H

#include <stdint.h>
#include <stdio.h>

/* Capacity of the per-syscall table of unknown calls. */
#define IMPORT_MAX_UNKNOWN 64

/* One unknown syscall name and how many calls of it were not imported. */
struct import_unknown {
	char name[32];
	uint64_t count;
};

/*
 * Import statistics.  Every complete call (a line, or an <unfinished ...>
 * line joined with its <... resumed> line) lands in exactly one of the
 * buckets imported, skipped_outside, ignored, unreplayable, unresolved and
 * unknown_syscalls, so those six sum to calls.  failed_calls counts the
 * calls whose result was an error, whatever their bucket.
 */
struct import_stats {
	uint64_t lines;		   /* input lines read */
	uint64_t calls;		   /* complete system calls */
	uint64_t imported;	   /* calls that produced trace operations */
	uint64_t skipped_outside;  /* calls on paths/fds not under /w */
	uint64_t failed_calls;	   /* calls with an error result (any bucket) */
	uint64_t unknown_syscalls; /* calls on /w the importer does not know */
	uint64_t unfinished_joined; /* <unfinished ...> lines joined */
	uint64_t ignored;	    /* harmless or state-only calls */
	uint64_t unreplayable; /* known calls on /w the trace can't express */
	uint64_t unresolved;   /* relative to a dirfd of unknown path */
	uint64_t failed_imported; /* imported calls expected to fail */
	uint64_t mmap_w;	  /* mmap of files under /w (not replayed) */
	uint64_t ops;		  /* operation lines written to the trace */
	/* unknown syscall name -> count of calls on /w not imported */
	unsigned nunknown;
	struct import_unknown unknown[IMPORT_MAX_UNKNOWN];
	uint64_t unknown_other; /* calls of names beyond the table */
};

/*
 * Read a strace capture (plain or gzip; read with zlib's gzopen/gzgets so
 * both work) and write a trace (docs/TRACE.md) to out.  *st is cleared
 * and filled.  Unknown syscalls and calls the trace cannot express that
 * concern paths/fds under /w are reported (report(arg, msg), once per
 * kind, report may be NULL) and counted, never silently mis-replayed.
 * Output depends only on the input bytes and the file's base name.
 * Returns 0, or an errno: gzopen's (file missing or unreadable; *errline
 * 0), EIO for an unreadable (e.g. truncated gzip) input, EINVAL for a
 * line that is not strace output; *errline (may be NULL) is then set to
 * the line number (1-based) of the offending input line.  The trace is
 * written only on success.  Aborts when out of memory.
 */
int import_strace(const char *path, FILE *out, struct import_stats *st,
		  void (*report)(void *arg, const char *msg), void *arg,
		  long *errline);

/*
 * Print the statistics as text lines, each starting with prefix (e.g.
 * "# " for a trace trailer), to f.
 */
void import_stats_print(const struct import_stats *st, FILE *f,
			const char *prefix);

#endif /* H2SIM_IMPORT_STRACE_H */
