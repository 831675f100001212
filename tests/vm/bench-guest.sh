#!/bin/sh
# bench-guest.sh - the benchmark inside the VM (init.sh runs it for
# h2mode=bench; the host side is tests/vm/bench-vm.sh).
#
# /dev/vdb is the benchmark disk.  For each target of h2arg= (comma list,
# default raw,ext4,btrfs,xfs,hammer2) the disk is freshly formatted and
# mounted on /mnt (raw: the device itself), then:
#   seqwrite   fio, 1 MiB sequential writes of SEQ MiB, end_fsync
#   seqread    the same file read sequentially after drop_caches
#   randwrite  fio, 4 KiB random overwrites, RAND MiB in all, inside the
#              SEQ MiB file (or device), end_fsync
#   create, stat, unlink   h2files: NFILES empty files (not on raw)
#   sqlite     h2replay -t of the sqlite capture (not on raw)
# h2seq=SEQ (MiB, default 512), h2rand=RAND (default 64), h2files=NFILES
# (default 10000) on the kernel command line change the sizes;
# h2newfs=ARGS (commas for spaces) adds newfs_hammer2 options;
# h2perf=TARGET-TEST[,...] (e.g. hammer2-seqwrite) profiles those steps
# with perf record -a -g (cpu-clock; the flat report goes to
# /results/bench/perf-TARGET-TEST.txt, the call graphs to
# perf-TARGET-TEST-graph.txt); h2stat=TARGET-TEST[,...] samples
# /proc/diskstats (vdb) every half second during those steps into
# /results/bench/diskstats-TARGET-TEST.txt ("uptime" + the vdb line) and
# the top of the kernel stacks of the benchmark's processes every 0.2 s
# into stacks-TARGET-TEST.txt ("pid frame frame ...": where they wait).
#
# h2steps=STEP[,...] runs only those steps (seqwrite, seqread, randwrite,
# files, sqlite; default all).
# h2rounds=N (default 1) runs all of it N times, round after round (each
# round formats every target again), so that the host's drift over the
# boot hits every filesystem alike; round R starts at target R of the
# list (rotated, so that no filesystem always follows the same one or
# always comes first or last); profiles and disk samples are taken in the
# first round only.
# Output: one line per measurement,
#   BENCH TARGET TEST SECONDS AMOUNT UNIT ROUND
# (wall seconds by the guest clock, AMOUNT bytes or operations), and fio's
# JSON reports in /results/bench/TARGET-TEST-ROUND.json.  A failed step prints
# "FAIL bench TARGET TEST: why" and the next target goes on.
TARGETS=raw,ext4,btrfs,xfs,hammer2
SEQ=512
RAND=64
NFILES=10000
H2NEWFS=
H2PERF=
H2STAT=
ROUNDS=1
STEPS=all
for a in $(cat /proc/cmdline); do
	case "$a" in
	h2arg=*) TARGETS=${a#h2arg=} ;;
	h2seq=*) SEQ=${a#h2seq=} ;;
	h2rand=*) RAND=${a#h2rand=} ;;
	h2files=*) NFILES=${a#h2files=} ;;
	h2newfs=*) H2NEWFS=$(echo "${a#h2newfs=}" | tr ',' ' ') ;;
	h2perf=*) H2PERF=${a#h2perf=} ;;
	h2stat=*) H2STAT=${a#h2stat=} ;;
	h2rounds=*) ROUNDS=${a#h2rounds=} ;;
	h2steps=*) STEPS=${a#h2steps=} ;;
	esac
done
R=/results/bench
mkdir -p $R

# want STEP: is STEP one of h2steps= (default all)?
want() {
	case ",$STEPS," in
	*",$1,"* | ,all,) return 0 ;;
	esac
	return 1
}
up() { cut -d' ' -f1 /proc/uptime; }
drop() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
# elapsed T0: seconds since T0 (from up)
elapsed() { echo "$1 $(up)" | awk '{printf "%.2f", $2 - $1}'; }

mkfs_t() {
	case "$1" in
	ext4) /usr/local/bin/mke2fs -t ext4 -F -q \
		-E lazy_itable_init=0,lazy_journal_init=0 /dev/vdb ;;
	btrfs) mkfs.btrfs -q -f /dev/vdb ;;
	xfs) mkfs.xfs -q -f /dev/vdb ;;
	hammer2) newfs_hammer2 $H2NEWFS /dev/vdb >/dev/null ;;
	esac
}

# prof TARGET TEST CMD...: run CMD, under perf record if h2perf= names it,
# with /proc/diskstats sampled if h2stat= names it.
prof() {
	local t=$1 test=$2 rc=0 sampler=
	shift 2
	case ",$H2STAT," in
	*",$t-$test,"*)
		while :; do
			echo "$(up) $(grep ' vdb ' /proc/diskstats) $(awk '/^(Dirty|Writeback):/ {printf "%s %s ", $1, $2}' /proc/meminfo)"
			sleep 0.5
		done >"$R/diskstats-$t-$test.txt" &
		sampler=$!
		while :; do
			for p in $(pidof fio h2replay h2files); do
				echo "$p $(head -n 4 /proc/$p/stack 2>/dev/null |
					sed 's/^\[<.*>\] //; s/+0x.*//' | tr '\n' ' ')"
			done
			sleep 0.2
		done >"$R/stacks-$t-$test.txt" &
		sampler="$sampler $!"
		;;
	esac
	prof_run "$t" "$test" "$@" || rc=$?
	[ -z "$sampler" ] || kill $sampler
	return $rc
}

prof_run() {
	local t=$1 test=$2 rc=0
	shift 2
	case ",$H2PERF," in
	*",$t-$test,"*)
		if command -v perf >/dev/null 2>&1; then
			echo 0 >/proc/sys/kernel/kptr_restrict
			echo -1 >/proc/sys/kernel/perf_event_paranoid
			perf record -q -e cpu-clock -a -g -o "/tmp/perf-$t-$test.data" \
				-- "$@" || rc=$?
			perf report -q --stdio --no-children --sort sym -g none \
				-i "/tmp/perf-$t-$test.data" 2>/dev/null | grep -v '^$' |
				head -n 60 >"$R/perf-$t-$test.txt"
			perf report -q --stdio --no-children --sort sym \
				-g caller,0.5,callee,function,percent \
				-i "/tmp/perf-$t-$test.data" 2>/dev/null | grep -v '^$' |
				head -n 1500 >"$R/perf-$t-$test-graph.txt"
			rm -f "/tmp/perf-$t-$test.data"
			return $rc
		fi
		;;
	esac
	"$@"
}

# h2info TARGET TEST: hammer2's counters after a step (cumulative since
# the module was loaded), as an info line of the guest log
h2info() {
	local d=/sys/module/hammer2/parameters p out=
	case "$1" in hammer2*) ;; *) return 0 ;; esac
	for p in reserve_slow reserve_slow_us pool_buffers direct_blocks_written \
		direct_blocks_refused; do
		[ -r $d/$p ] && out="$out $p=$(cat $d/$p)"
	done
	echo "info h2 $1 $2 $round$out"
}

# h2layout TARGET: (hammer2 targets) the data blocks of /mnt/fio.dat as the
# last commit has them (hammer2 show on /dev/vdb): how many blocks, and in
# how many runs of blocks back to back on the media (1: one extent)
h2layout() {
	local o prev=-1 n=0 runs=0
	case "$1" in hammer2*) ;; *) return 0 ;; esac
	echo 3 >/proc/sys/vm/drop_caches
	hammer2 -f /dev/vdb show 2>/dev/null | awk '/"fio.dat"/ { f = 1; next }
		f && $1 ~ /^data\./ { print $2 }' >/tmp/layout
	while read -r o; do
		n=$((n + 1))
		[ $((o & ~63)) -eq $prev ] || runs=$((runs + 1))
		prev=$(((o & ~63) + (1 << (o & 63))))
	done </tmp/layout
	echo "info layout $1 $round blocks=$n runs=$runs"
}

# cpubusy: CPU ticks (USER_HZ) all CPUs spent busy since boot (/proc/stat:
# everything but idle and iowait); a step's difference is the CPU it cost
# the whole guest (the filesystem, its writeback and fio), which the wall
# time under TCG shows only through the host's contention.
cpubusy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# fio_t TARGET TEST AMOUNT FIOARGS...: one timed fio job (round $round).
fio_t() {
	local t=$1 test=$2 amount=$3 t0 c0 o="$R/$1-$2-$round"
	shift 3
	c0=$(cpubusy)
	t0=$(up)
	if prof "$t" "$test" fio --name="$test" --ioengine=psync --output-format=json \
		--output="$o.json" "$@" >"$o.out" 2>&1; then
		echo "BENCH $t $test $(elapsed "$t0") $amount bytes $round"
		echo "info cpu $t $test $round busy_ticks=$(($(cpubusy) - c0))"
		h2info "$t" "$test"
	else
		echo "FAIL bench $t $test: $(tail -n 3 "$o.out" | tr '\n' ' ')"
	fi
}

# rotated R LIST: the comma LIST rotated left by R-1, space separated
rotated() {
	echo "$2" | tr ',' '\n' | awk -v r="$1" '{ t[NR] = $0 }
		END { for (i = 0; i < NR; i++) printf "%s ", t[(i + r - 1) % NR + 1] }'
}

# one round: every target freshly formatted, every step
bench_round() {
	local pset= pold=
	for t in $(rotated "$round" "$TARGETS"); do
		echo "bench: $t round $round at $(up) s"
		# direct reclaim and compaction so far (memory gets fragmented)
		echo "info vmstat $t $round $(grep -E '^(compact_stall|compact_fail|allocstall_normal|pgscan_direct) ' /proc/vmstat | tr '\n' ' ')"
		# hammer2:PARAM=VALUE: hammer2 with a module parameter set for
		# this target only (A/B runs of one module in one boot)
		fs=${t%%:*}
		[ -z "$pset" ] || echo "$pold" >"$pset"
		pset=
		if [ "$fs" != "$t" ]; then
			pset=/sys/module/hammer2/parameters/${t#*:}
			pset=${pset%%=*}
			pold=$(cat "$pset")
			echo "${t#*=}" >"$pset"
		fi
		if [ "$t" = raw ]; then
			f=/dev/vdb
		else
			if ! out=$(mkfs_t "$fs" 2>&1); then
				echo "FAIL bench $t mkfs: $out"
				continue
			fi
			if ! out=$(mount -t "$fs" /dev/vdb /mnt 2>&1); then
				echo "FAIL bench $t mount: $out"
				continue
			fi
			f=/mnt/fio.dat
		fi
		drop
		want seqwrite && fio_t "$t" seqwrite $((SEQ * 1048576)) --filename=$f --rw=write \
			--bs=1M --size=${SEQ}M --end_fsync=1 && h2layout "$t"
		drop
		want seqread && fio_t "$t" seqread $((SEQ * 1048576)) --filename=$f --rw=read \
			--bs=1M --size=${SEQ}M
		drop
		want randwrite && fio_t "$t" randwrite $((RAND * 1048576)) --filename=$f --rw=randwrite \
			--bs=4k --size=${SEQ}M --io_size=${RAND}M --randrepeat=1 \
			--end_fsync=1
		if [ "$t" != raw ]; then
			rm -f $f
			drop
			o="$R/$t-files-$round.out"
			if ! want files; then
				:
			elif h2files /mnt "$NFILES" >"$o" 2>&1; then
				awk -v t="$t" -v r="$round" \
					'$1 == "h2files" {print "BENCH", t, $2, $5, $3, "ops", r}' "$o"
			else
				echo "FAIL bench $t files: $(tail -n 2 "$o" | tr '\n' ' ')"
			fi
			drop
			if want sqlite && [ -f /vm/traces/sqlite-txn.trace ]; then
				mkdir -p /mnt/sqlite
				t0=$(up)
				o="$R/$t-sqlite-$round.out"
				if prof "$t" sqlite h2replay -t /vm/traces/sqlite-txn.trace /mnt/sqlite \
					>"$o" 2>&1; then
					n=$(awk '/^time:/ {print $2}' "$o")
					sync
					echo "BENCH $t sqlite $(elapsed "$t0") $n ops $round"
				else
					echo "FAIL bench $t sqlite: $(tail -n 3 "$o" | tr '\n' ' ')"
				fi
			fi
			[ "$round" -gt 1 ] || df -k /mnt | tail -n 1 | sed "s/^/info $t df: /"
			if ! out=$(umount /mnt 2>&1); then
				echo "FAIL bench $t umount: $out"
			fi
		fi
	done
	[ -z "$pset" ] || echo "$pold" >"$pset"
}

# touch most of the guest's memory once, so that the first target of the
# first round does not pay alone for the host mapping it
dd if=/dev/zero of=/tmp/warm bs=1M count=1024 2>/dev/null
rm -f /tmp/warm

round=1
while [ "$round" -le "$ROUNDS" ]; do
	bench_round
	# profiles and disk samples: the first round only
	H2PERF=
	H2STAT=
	round=$((round + 1))
done
echo "bench: done at $(up) s"
