/*
 * main.c - h2sim's command line (docs/SIM.md):
 *
 *   h2sim gen --seed N [--ops N] [--mix SPEC] [-o OUT]
 *   h2sim run TRACE [--seed N] [--crash none|random|every-flush] [--cut C]
 *             [--eio] [--direct] [--json] [--image OUT]
 *   h2sim run --gen-seeds A-B [--ops N] [--mix SPEC] [--crash ...] [--eio]
 *             [--direct] [--json]
 *   h2sim replay ID [--image OUT]
 *   h2sim shrink ID [-o NAME]
 *   h2sim import-strace FILE[.gz] [-o OUT]
 *
 * --image OUT saves the disk of a single run, after its final unmount, as
 * a sparse image file (hammer2 -f OUT, fsck_hammer2 OUT read it).
 * --direct writes every whole 64 KiB block of a write through the direct
 * seam (hammer2_vop_write_direct, the kernel's writeback straight from the
 * page cache), the block itself through the simulated disk's write cache.
 *
 * Exit: 0 every check passed, 1 a check failed, 2 usage, unreadable
 * trace or unwritable image.
 */
#include <errno.h>
#include <inttypes.h>
#include <sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#if __has_include("import_strace.h")
#include "import_strace.h"
#define HAVE_IMPORT 1
#endif

/* Where a run's trace comes from, and how it runs: one replay id. */
struct job {
	char src[1024]; /* trace path, or "gen/SEED/OPS[/MIX]" */
	uint64_t seed;
	enum schedule sched;
	uint64_t cut;
	int eio;
	int direct;	   /* whole 64 KiB blocks through the direct seam */
	const char *image; /* --image OUT (not part of the id) */
};

static const char *sched_name(enum schedule s)
{
	return s == SCHED_RANDOM      ? "random" :
	       s == SCHED_EVERY_FLUSH ? "every-flush" :
					"none";
}

static int sched_parse(const char *s, enum schedule *out)
{
	if (strcmp(s, "none") == 0)
		*out = SCHED_NONE;
	else if (strcmp(s, "random") == 0)
		*out = SCHED_RANDOM;
	else if (strcmp(s, "every-flush") == 0)
		*out = SCHED_EVERY_FLUSH;
	else
		return -1;
	return 0;
}

static void job_id(const struct job *j, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%" PRIu64 ":%s%s%s:%" PRIu64, j->src, j->seed,
		 sched_name(j->sched), j->eio ? "+eio" : "",
		 j->direct ? "+direct" : "", j->cut);
}

static int job_parse(const char *id, struct job *j)
{
	char *dup = xstrdup(id), *c[3];
	enum schedule s;

	memset(j, 0, sizeof(*j));
	for (int i = 2; i >= 0; i--) {
		c[i] = strrchr(dup, ':');
		if (c[i] == NULL) {
			free(dup);
			return -1;
		}
		*c[i]++ = 0;
	}
	snprintf(j->src, sizeof(j->src), "%s", dup);
	j->seed = strtoull(c[0], NULL, 10);
	if (strlen(c[1]) > 7 &&
	    strcmp(c[1] + strlen(c[1]) - 7, "+direct") == 0) {
		j->direct = 1;
		c[1][strlen(c[1]) - 7] = 0;
	}
	if (strlen(c[1]) > 4 && strcmp(c[1] + strlen(c[1]) - 4, "+eio") == 0) {
		j->eio = 1;
		c[1][strlen(c[1]) - 4] = 0;
	}
	if (sched_parse(c[1], &s)) {
		free(dup);
		return -1;
	}
	j->sched = s;
	j->cut = strtoull(c[2], NULL, 10);
	free(dup);
	return 0;
}

/* Load the trace of a job (generating it for gen/...); 0 or -1 + err. */
static int job_trace(const struct job *j, struct trace *t, char *err,
		     size_t errsz)
{
	if (strncmp(j->src, "gen/", 4) == 0) {
		char *dup = xstrdup(j->src + 4), *sv;
		char *s = strtok_r(dup, "/", &sv),
		     *o = strtok_r(NULL, "/", &sv);
		char *mix = strtok_r(NULL, "", &sv);
		int r;

		if (s == NULL || o == NULL) {
			snprintf(err, errsz, "bad generator source %.200s",
				 j->src);
			free(dup);
			return -1;
		}
		r = gen_trace(strtoull(s, NULL, 10), strtoull(o, NULL, 10), mix,
			      t, err, errsz);
		free(dup);
		return r;
	}
	return trace_load(j->src, t, err, errsz);
}

/* ---------------- totals and output ---------------- */

struct totals {
	uint64_t runs, ops, crashes, checks, failures, skipped, flushes;
	uint64_t direct_writes;
	SHA2_CTX img;
	uint8_t last[32];
	double secs;
};

static void tot_add(struct totals *T, const struct runstats *st)
{
	T->runs++;
	T->ops += st->ops;
	T->crashes += st->crashes;
	T->checks += st->checks;
	T->failures += st->failures ? 1 : 0;
	T->skipped += st->skipped_fd_ops;
	T->flushes += st->flushes;
	T->direct_writes += st->direct_writes;
	SHA256Update(&T->img, st->image_sha256, 32);
	memcpy(T->last, st->image_sha256, 32);
}

static void hex(const uint8_t *b, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void summary(const char *label, struct totals *T, int json, int timing)
{
	uint8_t d[32];
	char h[65];
	double rate = T->secs > 0 ? (double)T->ops / T->secs : 0;

	if (T->runs == 1)
		memcpy(d, T->last, 32);
	else
		SHA256Final(d, &T->img);
	hex(d, h);
	if (json) {
		printf("{\"trace\":\"%s\",\"runs\":%" PRIu64 ",\"ops\":%" PRIu64
		       ",\"crashes\":%" PRIu64 ",\"checks\":%" PRIu64
		       ",\"failures\":%" PRIu64 ",\"flushes\":%" PRIu64
		       ",\"skipped_fd_ops\":%" PRIu64,
		       label, T->runs, T->ops, T->crashes, T->checks,
		       T->failures, T->flushes, T->skipped);
		if (timing)
			printf(",\"ops_per_sec\":%.0f", rate);
		printf(",\"image_sha256\":\"%s\"}\n", h);
		return;
	}
	printf("h2sim: %s: %" PRIu64 " runs, %" PRIu64 " ops, %" PRIu64
	       " crashes, %" PRIu64 " checks, %" PRIu64 " failed, %" PRIu64
	       " flushes, %" PRIu64 " skipped fd ops",
	       label, T->runs, T->ops, T->crashes, T->checks, T->failures,
	       T->flushes, T->skipped);
	if (T->direct_writes)
		printf(", %" PRIu64 " direct writes", T->direct_writes);
	if (timing)
		printf(", %.0f ops/s", rate);
	printf(", image %s\n", h);
}

static void progress(uint64_t i, uint64_t n, uint64_t fails)
{
	int w = 40, f = n ? (int)(i * (uint64_t)w / n) : w;

	if (!isatty(2))
		return;
	fprintf(stderr, "\r[");
	for (int k = 0; k < w; k++)
		fputc(k < f ? '#' : ' ', stderr);
	fprintf(stderr, "] %" PRIu64 "/%" PRIu64 " failed %" PRIu64, i, n,
		fails);
	if (i == n)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Run one job on a loaded trace, print its failure with the id. */
static int run_job(const struct job *j, const struct trace *t, struct totals *T,
		   int quiet)
{
	struct runopts o;
	struct runstats st;
	char id[1200];
	int r;

	memset(&o, 0, sizeof(o));
	o.seed = j->seed;
	o.sched = j->sched;
	o.cut = j->cut;
	o.eio = j->eio;
	o.direct = j->direct;
	o.quiet = quiet;
	o.trust_results = 1;
	o.image = j->image;
	r = run_trace(t, &o, &st, stdout);
	tot_add(T, &st);
	if (r == 1) {
		job_id(j, id, sizeof(id));
		printf("FAIL %s: [%s] line %ld: %s\n", id, st.kind,
		       st.fail_line, st.msg);
		/* line -1: the final remount check after the last op */
		printf("replay: h2sim replay '%s'\n", id);
		fflush(stdout);
	}
	return r;
}

/*
 * Is j (with the --gen-seeds range, or NULL) a single run, whose disk
 * --image can save?  Prints why not on stderr.
 */
static int one_run(const struct job *j, const char *range)
{
	if (range == NULL && (j->sched != SCHED_EVERY_FLUSH || j->cut))
		return 1;
	fprintf(stderr, "h2sim: --image needs a single run (not --gen-seeds, "
			"nor --crash every-flush without --cut)\n");
	return 0;
}

/* Every schedule of one trace: every-flush expands into its cuts. */
static int run_schedules(struct job *j, const struct trace *t, struct totals *T,
			 int quiet, int *failed)
{
	uint64_t nf;
	int r;

	if (j->sched != SCHED_EVERY_FLUSH || j->cut) {
		r = run_job(j, t, T, quiet);
		if (r == 1)
			*failed = 1;
		return r == 2 ? 2 : 0;
	}
	r = count_flushes(t, j->seed, j->direct, &nf);
	if (r == 2)
		return 2;
	for (uint64_t c = 1; c <= 3 * nf; c++) {
		j->cut = c;
		r = run_job(j, t, T, quiet);
		if (r == 1)
			*failed = 1;
		if (r == 2)
			return 2;
	}
	j->cut = 0;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: h2sim gen --seed N [--ops N] [--mix SPEC] [-o OUT]\n"
		"       h2sim run TRACE [--seed N] "
		"[--crash none|random|every-flush] [--cut C] [--eio] "
		"[--direct]\n"
		"                 [--json] [--image OUT]\n"
		"       h2sim run --gen-seeds A-B [--ops N] [--mix SPEC] "
		"[--crash ...] [--eio] [--direct] [--json]\n"
		"       h2sim replay ID [--image OUT]\n"
		"       h2sim shrink ID [-o NAME]\n"
		"       h2sim import-strace FILE[.gz] [-o OUT]\n"
		"--image OUT saves the disk of one run after its final "
		"unmount (a sparse image)\n");
	exit(2);
}

/* ---------------- commands ---------------- */

static int cmd_gen(int argc, char **argv)
{
	uint64_t seed = 0;
	size_t ops = 200;
	const char *mix = NULL, *out = NULL;
	struct trace t;
	char err[256];
	FILE *f = stdout;
	int have_seed = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			have_seed = 1;
		} else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc)
			ops = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--mix") == 0 && i + 1 < argc)
			mix = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			usage();
	}
	if (!have_seed)
		usage();
	if (gen_trace(seed, ops, mix, &t, err, sizeof(err))) {
		fprintf(stderr, "h2sim: %s\n", err);
		return 2;
	}
	if (out && (f = fopen(out, "w")) == NULL) {
		fprintf(stderr, "h2sim: %s: %s\n", out, strerror(errno));
		trace_free(&t);
		return 2;
	}
	trace_write(f, &t, 1);
	if (out)
		fclose(f);
	trace_free(&t);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct job j;
	const char *path = NULL, *mix = NULL, *range = NULL;
	size_t ops = 200;
	int json = 0, failed = 0, r = 0;
	struct totals T;
	struct trace t;
	char err[512];
	double t0;

	memset(&j, 0, sizeof(j));
	memset(&T, 0, sizeof(T));
	SHA256Init(&T.img);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			j.seed = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--crash") == 0 && i + 1 < argc) {
			if (sched_parse(argv[++i], &j.sched))
				usage();
		} else if (strcmp(argv[i], "--cut") == 0 && i + 1 < argc)
			j.cut = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--eio") == 0)
			j.eio = 1;
		else if (strcmp(argv[i], "--direct") == 0)
			j.direct = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--gen-seeds") == 0 && i + 1 < argc)
			range = argv[++i];
		else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc)
			ops = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--mix") == 0 && i + 1 < argc)
			mix = argv[++i];
		else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
			j.image = argv[++i];
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else
			usage();
	}
	if ((path == NULL) == (range == NULL))
		usage();
	if (j.image && !one_run(&j, range))
		usage();
	t0 = now_s();
	if (path) {
		snprintf(j.src, sizeof(j.src), "%s", path);
		if (trace_load(path, &t, err, sizeof(err))) {
			fprintf(stderr, "h2sim: %s\n", err);
			return 2;
		}
		r = run_schedules(&j, &t, &T, 0, &failed);
		trace_free(&t);
	} else {
		uint64_t a, b;
		char *dash;

		a = strtoull(range, &dash, 10);
		b = *dash == '-' ? strtoull(dash + 1, NULL, 10) : a;
		if (b < a)
			usage();
		for (uint64_t s = a; s <= b && r != 2; s++) {
			if (mix)
				snprintf(j.src, sizeof(j.src),
					 "gen/%" PRIu64 "/%zu/%s", s, ops, mix);
			else
				snprintf(j.src, sizeof(j.src),
					 "gen/%" PRIu64 "/%zu", s, ops);
			j.seed = s;
			if (job_trace(&j, &t, err, sizeof(err))) {
				fprintf(stderr, "h2sim: %s\n", err);
				return 2;
			}
			r = run_schedules(&j, &t, &T, 1, &failed);
			trace_free(&t);
			progress(s - a + 1, b - a + 1, T.failures);
		}
	}
	T.secs = now_s() - t0;
	summary(path ? path : range, &T, json, 1);
	if (r == 2)
		return 2;
	return failed ? 1 : 0;
}

static int cmd_replay(int argc, char **argv)
{
	struct job j;
	struct trace t;
	struct totals T;
	char err[512];
	const char *image = NULL;
	int r, failed = 0;

	if (argc == 4 && strcmp(argv[2], "--image") == 0)
		image = argv[3];
	else if (argc != 2)
		usage();
	if (job_parse(argv[1], &j))
		usage();
	j.image = image;
	if (image && !one_run(&j, NULL))
		usage();
	if (job_trace(&j, &t, err, sizeof(err))) {
		fprintf(stderr, "h2sim: %s\n", err);
		return 2;
	}
	memset(&T, 0, sizeof(T));
	SHA256Init(&T.img);
	r = run_schedules(&j, &t, &T, 0, &failed);
	trace_free(&t);
	summary(argv[1], &T, 0, 0);
	return r == 2 ? 2 : failed;
}

/* ---------------- shrink ---------------- */

/* Run t under j in a child process; failure kind in kind ("" = passed). */
static void probe(const struct job *j, const struct trace *t, char *kind,
		  size_t n)
{
	int pfd[2], status;
	pid_t pid;
	ssize_t got;

	kind[0] = 0;
	if (pipe(pfd) != 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct runopts o;
		struct runstats st;
		int r;

		close(pfd[0]);
		memset(&o, 0, sizeof(o));
		o.seed = j->seed;
		o.sched = j->sched;
		o.cut = j->cut;
		o.eio = j->eio;
		o.direct = j->direct;
		o.quiet = 1;
		o.trust_results = 1;
		r = run_trace(t, &o, &st, NULL);
		if (r == 1 && write(pfd[1], st.kind, strlen(st.kind)) < 0)
			_exit(3);
		_exit(r);
	}
	close(pfd[1]);
	got = read(pfd[0], kind, n - 1);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (got < 0)
		got = 0;
	kind[got] = 0;
	if (WIFSIGNALED(status))
		snprintf(kind, n, "signal-%d", WTERMSIG(status));
}

static void sub_trace(const struct trace *t, const char *keep,
		      struct trace *out)
{
	memset(out, 0, sizeof(*out));
	out->seed = t->seed;
	out->volume = t->volume;
	for (size_t i = 0; i < t->nops; i++)
		if (keep[i])
			trace_add(out, &t->ops[i]);
}

static int cmd_shrink(int argc, char **argv)
{
	struct job j;
	struct trace t, s;
	char err[512], kind[64], k2[64], *keep, name[256], path[400];
	const char *oname = NULL;
	size_t n, len, chunks = 2, tests = 0;
	FILE *f;

	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			oname = argv[++i];
		else
			usage();
	if (argc < 2 || job_parse(argv[1], &j))
		usage();
	if (job_trace(&j, &t, err, sizeof(err))) {
		fprintf(stderr, "h2sim: %s\n", err);
		return 2;
	}
	probe(&j, &t, kind, sizeof(kind));
	if (kind[0] == 0) {
		fprintf(stderr, "h2sim: %s does not fail\n", argv[1]);
		trace_free(&t);
		return 2;
	}
	if (j.sched == SCHED_RANDOM) {
		/* random crash points move as lines go: prefer no crashes */
		struct job j0 = j;

		j0.sched = SCHED_NONE;
		probe(&j0, &t, k2, sizeof(k2));
		if (strcmp(k2, kind) == 0)
			j = j0;
	}
	/* results make sub-traces fail spuriously: check the model only */
	if (strcmp(kind, "trace-result") != 0)
		for (size_t i = 0; i < t.nops; i++)
			t.ops[i].has_result = 0;
	n = t.nops;
	keep = xmalloc(n);
	memset(keep, 1, n);
	len = n;
	fprintf(stderr, "h2sim: shrinking %zu ops failing with [%s]\n", n,
		kind);
	while (len >= 2) {
		int progressed = 0;
		size_t csize = (len + chunks - 1) / chunks;

		for (size_t c = 0; c < chunks; c++) {
			char *try = xmalloc(n);
			size_t idx = 0, removed = 0;

			memcpy(try, keep, n);
			for (size_t i = 0; i < n; i++)
				if (keep[i]) {
					if (idx / csize == c) {
						try[i] = 0;
						removed++;
					}
					idx++;
				}
			if (removed == 0) {
				free(try);
				continue;
			}
			sub_trace(&t, try, &s);
			probe(&j, &s, k2, sizeof(k2));
			trace_free(&s);
			tests++;
			if (strcmp(k2, kind) == 0) {
				memcpy(keep, try, n);
				len -= removed;
				progressed = 1;
				free(try);
				if (isatty(2))
					fprintf(stderr, "\r%zu ops left   ",
						len);
				break;
			}
			free(try);
		}
		if (progressed) {
			if (chunks > 2)
				chunks--;
		} else if (chunks < len) {
			chunks = chunks * 2 < len ? chunks * 2 : len;
		} else {
			break;
		}
	}
	sub_trace(&t, keep, &s);
	if (oname)
		snprintf(name, sizeof(name), "%s", oname);
	else
		snprintf(name, sizeof(name), "shrunk-%s-%08" PRIx64, kind,
			 fnv1a64(argv[1], strlen(argv[1])) & 0xFFFFFFFF);
	snprintf(path, sizeof(path), "tests/traces/%s.trace", name);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "h2sim: %s: %s\n", path, strerror(errno));
		return 2;
	}
	{
		char rep[200];

		snprintf(rep, sizeof(rep), " --seed %" PRIu64 " --crash %s%s%s",
			 j.seed, sched_name(j.sched), j.eio ? " --eio" : "",
			 j.direct ? " --direct" : "");
		if (j.cut) {
			size_t l = strlen(rep);

			snprintf(rep + l, sizeof(rep) - l, " --cut %" PRIu64,
				 j.cut);
		}
		s.replay = xstrdup(rep);
	}
	fprintf(f, "# shrunk by h2sim from %s (%zu of %zu ops, %zu tests)\n",
		argv[1], len, n, tests);
	fprintf(f, "# failure kind: %s\n", kind);
	trace_write(f, &s, 1);
	fclose(f);
	printf("%s: %zu ops (from %zu), failure [%s]\n", path, len, n, kind);
	trace_free(&s);
	trace_free(&t);
	free(keep);
	return 0;
}

/* ---------------- import ---------------- */

#ifdef HAVE_IMPORT
static void import_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "h2sim: import: %s\n", msg);
}
#endif

static int cmd_import(int argc, char **argv)
{
#ifdef HAVE_IMPORT
	const char *in = NULL, *out = NULL;
	struct import_stats st;
	long errline = 0;
	FILE *f = stdout;
	int e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (in == NULL)
			in = argv[i];
		else
			usage();
	}
	if (in == NULL)
		usage();
	if (out && (f = fopen(out, "w")) == NULL) {
		fprintf(stderr, "h2sim: %s: %s\n", out, strerror(errno));
		return 2;
	}
	e = import_strace(in, f, &st, import_report, NULL, &errline);
	if (out)
		fclose(f);
	if (e) {
		if (errline)
			fprintf(stderr, "h2sim: %s: line %ld: %s\n", in,
				errline, strerror(e));
		else
			fprintf(stderr, "h2sim: %s: %s\n", in, strerror(e));
		return 2;
	}
	return 0;
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "h2sim: import-strace is not built in\n");
	return 2;
#endif
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "gen") == 0)
		return cmd_gen(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(argv[1], "shrink") == 0)
		return cmd_shrink(argc - 1, argv + 1);
	if (strcmp(argv[1], "import-strace") == 0)
		return cmd_import(argc - 1, argv + 1);
	usage();
	return 2;
}
