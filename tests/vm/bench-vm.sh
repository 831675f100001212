#!/bin/bash
# bench-vm.sh - "make bench-vm": raw device, ext4, btrfs, xfs and hammer2
# on the same virtio disk, in one VM boot (not a test).
#
# Builds build/vm/initramfs-bench.cpio.gz (build-initramfs.sh bench: the
# base image plus fio, mkfs.xfs and mkfs.btrfs with their libraries),
# imports the sqlite capture, prepares build/vm/bench.img (BENCH_DISK_MB,
# default 3072, fully written once so the host file has no holes, then
# fsync'ed and attached with cache=none), boots the VM with
# tests/vm/bench-guest.sh and collects its "BENCH" lines:
#
#   seq write MB/s   fio 1 MiB writes of 512 MiB, end_fsync
#   seq read MB/s    the same after drop_caches
#   rand write IOPS  fio 4 KiB random overwrites, 64 MiB, end_fsync
#   create/s stat/s unlink/s   h2files, 10,000 files
#   sqlite s         h2replay of the sqlite capture (45k operations)
#
# Prints the table, appends it to BENCHMARKS.md (BENCH_MD) with the date,
# commit and kernel, and draws build/vm/bench-vm.png (gnuplot, each
# figure relative to ext4).  Times are under QEMU TCG (no KVM): compare
# filesystems with each other, not with real hardware.
# Environment: BENCH_TARGETS (default raw,ext4,btrfs,xfs,hammer2; a
# target hammer2:PARAM=VALUE is hammer2 with the module parameter PARAM
# set to VALUE for that target only, for A/B runs in one boot, e.g.
# xfs,hammer2,hammer2:append_folios=0; its goals get rows of their own),
# BENCH_SEQ_MB (512), BENCH_RAND_MB (64), BENCH_FILES (10000),
# BENCH_STEPS (comma list of seqwrite, seqread, randwrite, files, sqlite:
# only those steps; default all), BENCH_TIMEOUT (seconds, default 3600),
# WORKLOADS, BENCH_NEWFS
# (newfs_hammer2 options, e.g. "-c none"), BENCH_PERF (profile steps,
# e.g. hammer2-seqwrite,hammer2-sqlite: build/vm/bench-results/bench/perf-*.txt),
# BENCH_STAT (the same steps: /proc/diskstats every 0.5 s, diskstats-*.txt,
# and where the processes wait, stacks-*.txt;
# both in the first round only), BENCH_ROUNDS (default 5: everything that
# many times in the one boot, round after round; the table gives each
# figure's median, and the goals table the ratios of every round; three
# rounds of the same code have read four goals met where five read two).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

TARGETS=${BENCH_TARGETS:-raw,ext4,btrfs,xfs,hammer2}
SEQ=${BENCH_SEQ_MB:-512}
RAND=${BENCH_RAND_MB:-64}
NFILES=${BENCH_FILES:-10000}
DISK_MB=${BENCH_DISK_MB:-3072}
ROUNDS=${BENCH_ROUNDS:-5}
MD=${BENCH_MD:-$ROOT/BENCHMARKS.md}
WL=${WORKLOADS:-$ROOT/../shared/workloads}

if ! why=$(h2_vm_ready); then
	echo "bench-vm: $why" >&2
	exit 77
fi
for p in fio mkfs.xfs mkfs.btrfs gnuplot; do
	command -v $p >/dev/null 2>&1 || echo "bench-vm: note: $p not installed (make deps)" >&2
done
mkdir -p "$VMDIR/traces"
if [ -e "$WL/sqlite-txn.strace.gz" ]; then
	build/bin/h2sim import-strace "$WL/sqlite-txn.strace.gz" \
		-o "$VMDIR/traces/sqlite-txn.trace"
fi
echo "bench-vm: building the initramfs"
tests/vm/build-initramfs.sh bench

DISK=$VMDIR/bench.img
RES=$VMDIR/bench-results.img
if [ ! -f "$DISK" ] || [ "$(stat -c %s "$DISK")" -ne $((DISK_MB * 1048576)) ]; then
	echo "bench-vm: writing $DISK ($DISK_MB MiB)"
	dd if=/dev/zero of="$DISK" bs=1M count="$DISK_MB" status=none
fi
# the host file on disk before the guest starts (cache=none bypasses the
# host page cache from then on)
sync "$DISK"
rm -f "$RES"
truncate -s 64M "$RES"

LOG=$VMDIR/bench-console.log
echo "bench-vm: booting (TCG; a few minutes per filesystem); console: $LOG"
t0=$(date +%s)
rc=0
tests/vm/run-vm.sh -q -t "${BENCH_TIMEOUT:-3600}" \
	-i "$VMDIR/initramfs-bench.cpio.gz" \
	-a "h2mode=bench h2timeout=${BENCH_TIMEOUT:-3600} h2arg=$TARGETS h2seq=$SEQ h2rand=$RAND h2files=$NFILES h2rounds=$ROUNDS${BENCH_STEPS:+ h2steps=$BENCH_STEPS}${BENCH_NEWFS:+ h2newfs=$(echo "$BENCH_NEWFS" | tr ' ' ',')}${BENCH_PERF:+ h2perf=$BENCH_PERF}${BENCH_STAT:+ h2stat=$BENCH_STAT}" \
	-l "$LOG" "$RES" "$DISK" || rc=$?
echo "bench-vm: VM ran $(($(date +%s) - t0)) s (QEMU exit $rc)"
grep -aE '^(FAIL|bench:|info)' "$LOG" || true
rm -rf "$VMDIR/bench-results"
mkdir -p "$VMDIR/bench-results"
tar -xf "$RES" -C "$VMDIR/bench-results" 2>/dev/null || true
grep -a '^BENCH ' "$LOG" >"$VMDIR/bench.txt" || {
	echo "bench-vm: no results" >&2
	exit 1
}

# ----- the table -----
K=$(h2_kver)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT (+ uncommitted changes)"
CPU=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
python3 - "$VMDIR/bench.txt" "$VMDIR/bench.dat" "$TARGETS" \
	"$VMDIR/bench-results/bench" >"$VMDIR/bench-table.md" <<'EOF'
import json, os, statistics, sys
src, dat, targets, jdir = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
r = {}  # (target, test) -> {round: (seconds, amount)}
for line in open(src):
    f = line.split()
    if len(f) < 6:
        continue
    _, t, test, secs, amount = f[:5]
    rnd = f[6] if len(f) > 6 else "1"
    one = (float(secs), float(amount))
    # fio's own accounting (its runtime includes end_fsync) rather than the
    # wall time, which includes fio's start-up (seconds under TCG)
    jf = os.path.join(jdir, "%s-%s-%s.json" % (t, test, rnd))
    if os.path.exists(jf):
        try:
            job = json.load(open(jf))["jobs"][0]
            d = job["read"] if test == "seqread" else job["write"]
            if job["job_runtime"] > 0:
                one = (job["job_runtime"] / 1000.0, float(d["io_bytes"]))
        except (ValueError, KeyError, IndexError):
            pass
    r.setdefault((t, test), {})[rnd] = one
cols = [  # (test, heading, function of (seconds, amount), format)
    ("seqwrite", "seq write MB/s", lambda s, a: a / s / 1e6, "%.1f"),
    ("seqread", "seq read MB/s", lambda s, a: a / s / 1e6, "%.1f"),
    ("randwrite", "rand 4K write IOPS", lambda s, a: a / 4096 / s, "%.0f"),
    ("create", "create/s", lambda s, a: a / s, "%.0f"),
    ("stat", "stat/s", lambda s, a: a / s, "%.0f"),
    ("unlink", "unlink/s", lambda s, a: a / s, "%.0f"),
    ("sqlite", "sqlite replay s", lambda s, a: s, "%.1f"),
]
fmt_of = {c[0]: c[3] for c in cols}
rounds = sorted({k for v in r.values() for k in v}, key=int)
per = {}  # (target, test) -> {round: figure}
for (t, test), byr in r.items():
    fn = [c[2] for c in cols if c[0] == test]
    if fn:
        per[(t, test)] = {k: fn[0](*v) for k, v in byr.items() if v[0] > 0}
val = {k: statistics.median(v.values()) for k, v in per.items() if v}
if len(rounds) > 1:
    print("Median of %d rounds (each round formats every target again; round"
          % len(rounds))
    print("R starts at the R-th target of the table and goes round it):")
    print()
print("| target | " + " | ".join(c[1] for c in cols) + " |")
print("| --- |" + " ---: |" * len(cols))
for t in targets:
    row = [fmt_of[test] % val[(t, test)] if (t, test) in val else "-"
           for test, _, _, _ in cols]
    print("| %s | %s |" % (t, " | ".join(row)))
# the issue's goals, as ratios within each round and of the medians
goals = [  # (heading, test, other target, higher is better)
    ("seq write >= xfs", "seqwrite", "xfs", True),
    ("seq read >= xfs", "seqread", "xfs", True),
    ("rand 4K write >= ext4", "randwrite", "ext4", True),
    ("creates/s >= btrfs", "create", "btrfs", True),
    ("sqlite <= 1.2x ext4", "sqlite", "ext4", False),
]
lines = []
# every hammer2 target: "hammer2" and variants "hammer2:PARAM=VALUE"
h2t = [t for t in targets if t.split(":")[0] == "hammer2"]
for (head, test, other, up), t2 in [(g, t) for t in h2t for g in goals]:
    h2, ot = per.get((t2, test)), per.get((other, test))
    if not h2 or not ot:
        continue
    if t2 != "hammer2":
        head = "%s: %s" % (t2, head)
    cells = []
    met = 0
    both = [k for k in rounds if k in h2 and k in ot]
    for k in both:
        q = h2[k] / ot[k]
        ok = q >= 1.0 if up else q <= 1.2
        met += ok
        cells.append("%.2fx" % q)
    q = val[(t2, test)] / val[(other, test)]
    ok = q >= 1.0 if up else q <= 1.2
    lines.append("| %s | %s | %s | %d of %d | %s |" % (
        head, "met" if ok else "missed", "%.3fx" % q, met, len(both),
        " ".join(cells)))
if lines:
    print()
    print("| goal (hammer2 / other) | of the medians | ratio | rounds met | each round |")
    print("| --- | --- | ---: | ---: | --- |")
    print("\n".join(lines))
# gnuplot data: one row per test, one column per target, relative to ext4
# (for the sqlite time: ext4 time / time, so higher is better everywhere)
with open(dat, "w") as out:
    out.write("test " + " ".join(targets) + "\n")
    for test, head, _, _ in cols:
        base = val.get(("ext4", test))
        vals = []
        for t in targets:
            v = val.get((t, test))
            if v is None or not base:
                vals.append("0")
            elif test == "sqlite":
                vals.append("%.3f" % (base / v))
            else:
                vals.append("%.3f" % (v / base))
        label = "sqlite replay (1/time)" if test == "sqlite" else head
        out.write('"%s" %s\n' % (label, " ".join(vals)))
EOF
cat "$VMDIR/bench-table.md"
{
	echo
	echo "## VM benchmark $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT"
	echo
	echo "make bench-vm (tests/vm/bench-vm.sh): one boot of Debian's $K kernel"
	echo "under QEMU TCG (no KVM; 2 vCPUs, 2 GiB) on $CPU; one virtio disk"
	echo "(raw file, cache=none), freshly formatted per filesystem with default"
	echo "options, $ROUNDS round(s) of all targets."
	echo "fio psync: ${SEQ} MiB of 1 MiB writes + end_fsync, read back"
	echo "after drop_caches, ${RAND} MiB of 4 KiB random overwrites + end_fsync;"
	echo "h2files: ${NFILES} empty files created (+ syncfs), stat'ed, unlinked"
	echo "(+ syncfs); the sqlite capture replayed by h2replay (+ sync). fio"
	echo "figures from fio's own accounting (end_fsync included), the others wall"
	echo "seconds by the guest clock; emulated CPU, so compare the rows with each"
	echo "other only."
	echo
	cat "$VMDIR/bench-table.md"
} >>"$MD"
echo "bench-vm: appended to $MD"

if command -v gnuplot >/dev/null 2>&1; then
	n=$(echo "$TARGETS" | tr ',' '\n' | wc -l)
	gnuplot <<EOF
set terminal pngcairo size 1100,520 noenhanced font ",10"
set output "$VMDIR/bench-vm.png"
set title "make bench-vm: throughput relative to ext4 (higher is better), QEMU TCG, $K"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [0:*]
set bmargin 3
set ylabel "relative to ext4"
plot for [i=2:$((n + 1))] "$VMDIR/bench.dat" using i:xtic(1) title columnheader(i)
EOF
	echo "bench-vm: chart $VMDIR/bench-vm.png"
fi
