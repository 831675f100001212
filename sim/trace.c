/*
 * trace.c - the h2sim trace format (docs/TRACE.md): parser and writer.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_disk.h"
#include "sim.h"

/* argument shapes: p path, q second path, n number, f fd (number),
 * F open flags, m mode, t mknod type, r rename flags, w whence */
static const struct {
	const char *name;
	const char *args;
} optab[OP_MAX] = {
	[OP_OPEN] = { "open", "fpFm" },
	[OP_CLOSE] = { "close", "f" },
	[OP_MKDIR] = { "mkdir", "pm" },
	[OP_MKNOD] = { "mknod", "ptmnn" },
	[OP_SYMLINK] = { "symlink", "pq" },
	[OP_LINK] = { "link", "pq" },
	[OP_UNLINK] = { "unlink", "p" },
	[OP_RMDIR] = { "rmdir", "p" },
	[OP_RENAME] = { "rename", "pqr" },
	[OP_WRITE] = { "write", "fn" },
	[OP_PWRITE] = { "pwrite", "fnn" },
	[OP_READ] = { "read", "fn" },
	[OP_PREAD] = { "pread", "fnn" },
	[OP_LSEEK] = { "lseek", "fnw" },
	[OP_TRUNCATE] = { "truncate", "pn" },
	[OP_FTRUNCATE] = { "ftruncate", "fn" },
	[OP_FALLOCATE] = { "fallocate", "fnnn" },
	[OP_CHMOD] = { "chmod", "pm" },
	[OP_FCHMOD] = { "fchmod", "fm" },
	[OP_CHOWN] = { "chown", "pnn" },
	[OP_FCHOWN] = { "fchown", "fnn" },
	[OP_UTIMES] = { "utimes", "pnn" },
	[OP_STAT] = { "stat", "p" },
	[OP_LSTAT] = { "lstat", "p" },
	[OP_FSTAT] = { "fstat", "f" },
	[OP_READDIR] = { "readdir", "p" },
	[OP_READLINK] = { "readlink", "p" },
	[OP_FSYNC] = { "fsync", "f" },
	[OP_FDATASYNC] = { "fdatasync", "f" },
	[OP_SYNC] = { "sync", "" },
	[OP_CRASH] = { "crash", "" },
	[OP_REMOUNT] = { "remount", "" },
	[OP_CHECK] = { "check", "" },
};

static const char *const oflag_names[] = { "wronly",	"rdwr",	   "creat",
					   "excl",	"trunc",   "append",
					   "directory", "nofollow" };
static const int oflag_bits[] = { OF_WRONLY,	OF_RDWR,    OF_CREAT,
				  OF_EXCL,	OF_TRUNC,   OF_APPEND,
				  OF_DIRECTORY, OF_NOFOLLOW };

static const struct {
	const char *name;
	int type;
} mtypes[] = {
	{ "reg", HAMMER2_OBJTYPE_REGFILE }, { "fifo", HAMMER2_OBJTYPE_FIFO },
	{ "chr", HAMMER2_OBJTYPE_CDEV },    { "blk", HAMMER2_OBJTYPE_BDEV },
	{ "sock", HAMMER2_OBJTYPE_SOCKET },
};

const char *op_name(enum op_kind k)
{
	return k > OP_NONE && k < OP_MAX ? optab[k].name : "?";
}

int op_uses_fd(enum op_kind k)
{
	switch (k) {
	case OP_CLOSE:
	case OP_WRITE:
	case OP_PWRITE:
	case OP_READ:
	case OP_PREAD:
	case OP_LSEEK:
	case OP_FTRUNCATE:
	case OP_FALLOCATE:
	case OP_FCHMOD:
	case OP_FCHOWN:
	case OP_FSTAT:
	case OP_FSYNC:
	case OP_FDATASYNC:
		return 1;
	default:
		return 0;
	}
}

static int pct_ok(unsigned char c)
{
	return isalnum(c) || strchr("._-/+,@~:", c) != NULL;
}

void pct_write(FILE *f, const char *s)
{
	if (*s == 0) {
		fputc('%', f);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80 && pct_ok(c))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a percent-encoded field; NULL on a bad escape or a NUL byte. */
static char *pct_decode(const char *s)
{
	size_t n = strlen(s), j = 0;
	char *out;

	if (strcmp(s, "%") == 0)
		return xstrdup("");
	out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h1 = i + 2 < n ? hexv(s[i + 1]) : -1;
			int h2 = i + 2 < n ? hexv(s[i + 2]) : -1;

			if (h1 < 0 || h2 < 0 || (h1 | h2) == 0) {
				free(out);
				return NULL;
			}
			out[j++] = (char)(h1 * 16 + h2);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = 0;
	return out;
}

static int parse_num(const char *s, int octal_ok, int64_t *v)
{
	char *e;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		*v = (int64_t)strtoull(s + 2, &e, 16);
	else if (s[0] == '0' && s[1] && octal_ok)
		*v = (int64_t)strtoull(s, &e, 8);
	else
		*v = (int64_t)strtoull(s, &e, 10);
	if (*e || errno)
		return -1;
	if (neg)
		*v = -*v;
	return 0;
}

static int seterr(char *err, size_t errsz, long line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errsz, "line %ld: ", line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errsz)
		vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

void trace_add(struct trace *t, const struct top *op)
{
	struct top *d;

	if (t->nops == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->ops = xrealloc(t->ops, t->cap * sizeof(*t->ops));
	}
	d = &t->ops[t->nops++];
	*d = *op;
	d->path = op->path ? xstrdup(op->path) : NULL;
	d->path2 = op->path2 ? xstrdup(op->path2) : NULL;
}

void trace_free(struct trace *t)
{
	for (size_t i = 0; i < t->nops; i++) {
		free(t->ops[i].path);
		free(t->ops[i].path2);
	}
	free(t->ops);
	free(t->source);
	free(t->replay);
	memset(t, 0, sizeof(*t));
}

/* Parse one operation line (fields split); 0 or -1 with err set. */
static int parse_op(char **f, int nf, long line, struct top *op, char *err,
		    size_t errsz)
{
	int k, ai = 0, fi = 1;
	const char *args;

	memset(op, 0, sizeof(*op));
	op->line = line;
	for (k = OP_NONE + 1; k < OP_MAX; k++)
		if (strcmp(f[0], optab[k].name) == 0)
			break;
	if (k == OP_MAX)
		return seterr(err, errsz, line, "unknown operation '%s'", f[0]);
	op->kind = (enum op_kind)k;
	if (nf >= 2 && strcmp(f[nf - 2], "=") == 0) {
		const char *r = f[nf - 1];

		if (r[0] == '-' && isalpha((unsigned char)r[1])) {
			int e = errno_from_name(r + 1);

			if (e == 0)
				return seterr(err, errsz, line,
					      "unknown errno '%s'", r + 1);
			op->result = -e;
		} else if (parse_num(r, 0, &op->result) || op->result < 0) {
			return seterr(err, errsz, line, "bad result '%s'", r);
		}
		op->has_result = 1;
		nf -= 2;
	}
	args = optab[k].args;
	for (; *args; args++) {
		const char *s;
		char c = *args;

		if (fi >= nf) {
			/* rename's flags are optional */
			if (c == 'r')
				break;
			return seterr(err, errsz, line,
				      "%s: missing argument %d", f[0], fi);
		}
		s = f[fi++];
		switch (c) {
		case 'p':
		case 'q': {
			char *d = pct_decode(s);

			if (d == NULL)
				return seterr(err, errsz, line,
					      "bad string '%s'", s);
			if (c == 'p')
				op->path = d;
			else
				op->path2 = d;
			break;
		}
		case 'f':
		case 'n':
		case 'm':
			if (parse_num(s, c == 'm', &op->a[ai]))
				return seterr(err, errsz, line,
					      "bad number '%s'", s);
			ai++;
			break;
		case 'F': {
			int64_t v = 0;
			char *dup = xstrdup(s), *sv, *tok;

			for (tok = strtok_r(dup, "|", &sv); tok;
			     tok = strtok_r(NULL, "|", &sv))
				for (size_t i = 0;
				     i < sizeof(oflag_bits) / sizeof(int); i++)
					if (strcmp(tok, oflag_names[i]) == 0)
						v |= oflag_bits[i];
			free(dup);
			op->a[ai++] = v;
			break;
		}
		case 't': {
			size_t i;

			for (i = 0; i < sizeof(mtypes) / sizeof(mtypes[0]); i++)
				if (strcmp(s, mtypes[i].name) == 0)
					break;
			if (i == sizeof(mtypes) / sizeof(mtypes[0]))
				return seterr(err, errsz, line,
					      "bad mknod type '%s'", s);
			op->a[ai++] = mtypes[i].type;
			break;
		}
		case 'r':
			if (strcmp(s, "noreplace") == 0)
				op->a[ai++] = RF_NOREPLACE;
			else if (strcmp(s, "exchange") == 0)
				op->a[ai++] = RF_EXCHANGE;
			else if (strcmp(s, "0") == 0)
				op->a[ai++] = 0;
			else
				return seterr(err, errsz, line,
					      "bad rename flags '%s'", s);
			break;
		case 'w':
			if (strcmp(s, "set") == 0)
				op->a[ai++] = 0;
			else if (strcmp(s, "cur") == 0)
				op->a[ai++] = 1;
			else if (strcmp(s, "end") == 0)
				op->a[ai++] = 2;
			else
				return seterr(err, errsz, line,
					      "bad whence '%s'", s);
			break;
		}
	}
	if (fi != nf)
		return seterr(err, errsz, line, "%s: too many arguments", f[0]);
	return 0;
}

int trace_parse(const char *text, size_t len, struct trace *t, char *err,
		size_t errsz)
{
	const char *p = text, *end = text + len;
	long line = 0;
	int have_version = 0;

	memset(t, 0, sizeof(*t));
	t->volume = 8ULL << 30;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *buf = xmalloc(ll + 1), *f[16], *sv, *tok;
		int nf = 0;

		memcpy(buf, p, ll);
		buf[ll] = 0;
		p = nl ? nl + 1 : end;
		line++;
		if (ll && buf[ll - 1] == '\r')
			buf[--ll] = 0;
		if (buf[0] == '#') {
			if (strncmp(buf, "# replay:", 9) == 0 && !t->replay)
				t->replay = xstrdup(buf + 9);
			free(buf);
			continue;
		}
		for (tok = strtok_r(buf, " \t", &sv); tok && nf < 16;
		     tok = strtok_r(NULL, " \t", &sv))
			f[nf++] = tok;
		if (nf == 0) {
			free(buf);
			continue;
		}
		if (nf == 16) {
			free(buf);
			trace_free(t);
			return seterr(err, errsz, line, "too many fields");
		}
		if (!have_version) {
			if (nf != 2 || strcmp(f[0], "h2trace") != 0 ||
			    strcmp(f[1], "1") != 0) {
				free(buf);
				trace_free(t);
				return seterr(err, errsz, line,
					      "expected 'h2trace 1'");
			}
			have_version = 1;
		} else if (strcmp(f[0], "seed") == 0 ||
			   strcmp(f[0], "volume") == 0) {
			int64_t v;

			if (nf != 2 || parse_num(f[1], 0, &v) ||
			    (f[0][0] == 'v' && v < (1 << 26))) {
				free(buf);
				trace_free(t);
				return seterr(err, errsz, line, "bad %s", f[0]);
			}
			if (f[0][0] == 's')
				t->seed = (uint64_t)v;
			else
				t->volume = (uint64_t)v;
		} else if (strcmp(f[0], "source") == 0) {
			free(t->source);
			t->source = pct_decode(nf > 1 ? f[1] : "%");
			if (t->source == NULL)
				t->source = xstrdup("?");
		} else {
			struct top op;

			if (parse_op(f, nf, line, &op, err, errsz)) {
				free(op.path);
				free(op.path2);
				free(buf);
				trace_free(t);
				return -1;
			}
			trace_add(t, &op);
			free(op.path);
			free(op.path2);
		}
		free(buf);
	}
	if (!have_version) {
		trace_free(t);
		return seterr(err, errsz, line ? line : 1,
			      "empty trace (no 'h2trace 1')");
	}
	return 0;
}

int trace_load(const char *path, struct trace *t, char *err, size_t errsz)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int r;

	if (f == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errsz, "%s: read error", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	r = trace_parse(buf, len, t, err, errsz);
	free(buf);
	if (r) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errsz, "%s", tmp);
	}
	return r;
}

static void write_oflags(FILE *f, int64_t v)
{
	int first = 1;

	if ((v & OF_ACCMODE) == OF_RDONLY) {
		fputs("rdonly", f);
		first = 0;
	}
	for (size_t i = 0; i < sizeof(oflag_bits) / sizeof(int); i++)
		if ((v & oflag_bits[i]) == oflag_bits[i]) {
			fprintf(f, "%s%s", first ? "" : "|", oflag_names[i]);
			first = 0;
		}
}

void trace_write_op(FILE *f, const struct top *op, int with_result)
{
	const char *args = optab[op->kind].args;
	int ai = 0;

	fputs(optab[op->kind].name, f);
	for (; *args; args++) {
		if (*args == 'r' && op->a[ai] == 0)
			continue;
		fputc(' ', f);
		switch (*args) {
		case 'p':
			pct_write(f, op->path ? op->path : "");
			break;
		case 'q':
			pct_write(f, op->path2 ? op->path2 : "");
			break;
		case 'f':
		case 'n':
			fprintf(f, "%" PRId64, op->a[ai++]);
			break;
		case 'm':
			fprintf(f, "0%" PRIo64, (uint64_t)op->a[ai++]);
			break;
		case 'F':
			write_oflags(f, op->a[ai++]);
			break;
		case 't':
			for (size_t i = 0;
			     i < sizeof(mtypes) / sizeof(mtypes[0]); i++)
				if (mtypes[i].type == op->a[ai])
					fputs(mtypes[i].name, f);
			ai++;
			break;
		case 'r':
			fputs(op->a[ai] == RF_NOREPLACE ? "noreplace" :
			      op->a[ai] == RF_EXCHANGE	? "exchange" :
							  "0",
			      f);
			ai++;
			break;
		case 'w':
			fputs(op->a[ai] == 0 ? "set" :
			      op->a[ai] == 1 ? "cur" :
					       "end",
			      f);
			ai++;
			break;
		}
	}
	if (with_result && op->has_result) {
		if (op->result < 0)
			fprintf(f, " = -%s",
				errno_name((int)-op->result) ?
					errno_name((int)-op->result) :
					"EINVAL");
		else
			fprintf(f, " = %" PRId64, op->result);
	}
}

void trace_write(FILE *f, const struct trace *t, int with_results)
{
	fputs("h2trace 1\n", f);
	if (t->replay)
		fprintf(f, "# replay:%s\n", t->replay);
	if (t->source) {
		fputs("source ", f);
		pct_write(f, t->source);
		fputc('\n', f);
	}
	fprintf(f, "seed %" PRIu64 "\n", t->seed);
	if (t->volume != (8ULL << 30))
		fprintf(f, "volume %" PRIu64 "\n", t->volume);
	for (size_t i = 0; i < t->nops; i++) {
		trace_write_op(f, &t->ops[i], with_results);
		fputc('\n', f);
	}
}
