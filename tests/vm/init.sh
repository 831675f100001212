#!/bin/sh
# init.sh - /init of the test VM's initramfs (busybox sh, PID 1).
#
# Mounts proc, sys, devtmpfs and a tmpfs on /tmp; loads the kernel modules
# of /lib/modules/load.list in order (build-initramfs.sh wrote it: the
# virtio drivers, crc32c, lz4, ext4/btrfs/xfs and their dependencies, and
# hammer2.ko last); then runs the script the kernel command line names:
#
#   h2mode=vmtest   /vm/vmtest.sh        (the test, tests/vm/vmtest.sh)
#   h2mode=bench    /vm/bench-guest.sh   (make bench-vm)
#   h2mode=smoke    nothing: report the boot and the modules
#   h2timeout=SEC   guest-side limit for the script (default 1200): when
#                   it passes, the blocked tasks are dumped (sysrq w) and
#                   the run is reported as failed
#   h2fs=FS, h2arg=... are for the scripts (they read /proc/cmdline)
#
# Everything printed goes to the serial console (the host logs it); the
# script's output is also kept in /results/guest.log.  At the end the
# kernel log is searched for warnings, BUGs, oopses, lockdep and hung-task
# reports (each one a "FAIL dmesg" line), /results is written to /dev/vda
# as a tar archive (the host reads it back) and the VM powers off.
#
# Result lines on the console: "ok NAME" / "FAIL NAME: why"; the last
# line is "H2VM: done".
export PATH=/vm/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /results
# Debian's kernel has no lockdep; the hung-task detector is on: report a
# task blocked for 60 s (instead of 120) so a deadlock shows in the log
echo 60 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
echo "H2VM: booted at $(cut -d' ' -f1 /proc/uptime) s (guest clock)"

MODE=smoke
LIMIT=1200
for a in $(cat /proc/cmdline); do
	case "$a" in
	h2mode=*) MODE=${a#h2mode=} ;;
	h2timeout=*) LIMIT=${a#h2timeout=} ;;
	esac
done

# modules, in dependency order
while read -r m; do
	if ! out=$(insmod "/lib/modules/$m" 2>&1); then
		case "$out" in
		*"File exists"*) ;;
		*)
			if [ "$m" = hammer2.ko ]; then
				echo "FAIL insmod hammer2.ko: $out"
			else
				echo "H2VM: insmod $m: $out"
			fi
			;;
		esac
	fi
done </lib/modules/load.list
if grep -q '^hammer2 ' /proc/modules; then
	echo "ok   insmod hammer2.ko ($(dmesg | grep -o "hammer2: [a-z].*" | grep -v taints | grep -v verification | head -n 1))"
fi

# the virtio disks appear when virtio_blk probes them
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "H2VM: disks: $(cd /dev && ls -d vd? 2>/dev/null | tr '\n' ' ')"
echo "H2VM: modules loaded at $(cut -d' ' -f1 /proc/uptime) s"

case "$MODE" in
vmtest) SCRIPT=/vm/vmtest.sh ;;
bench) SCRIPT=/vm/bench-guest.sh ;;
*) SCRIPT= ;;
esac

if [ -n "$SCRIPT" ]; then
	# run the script in the background so a hang can be diagnosed
	(sh "$SCRIPT" 2>&1; echo "H2VM: script exit $?") |
		tee /results/guest.log &
	pid=$!
	t=0
	while kill -0 $pid 2>/dev/null; do
		if [ $t -ge "$LIMIT" ]; then
			echo "FAIL guest timeout: $SCRIPT still running after ${LIMIT} s"
			echo 1 >/proc/sys/kernel/sysrq
			echo w >/proc/sysrq-trigger
			dmesg | tail -n 150 | sed 's/^/H2VM-dmesg: /'
			break
		fi
		sleep 1
		t=$((t + 1))
	done
fi

# the kernel log: anything alarming is a failure
dmesg >/results/dmesg.txt
bad=$(grep -E 'WARNING:|BUG:|BUG |Oops|general protection|possible circular locking|possible recursive locking|INFO: task|INFO: possible|inconsistent lock state|UBSAN:|KASAN:|Call Trace|soft lockup|hard LOCKUP|Kernel panic|kernel BUG|corruption|stack-protector' \
	/results/dmesg.txt)
if [ -n "$bad" ]; then
	echo "FAIL dmesg: $(echo "$bad" | wc -l) suspicious kernel log lines:"
	echo "$bad" | head -n 40 | sed 's/^/H2VM-dmesg: /'
	grep -B 5 -A 40 -E 'WARNING:|BUG:|Oops|circular locking|INFO: task' \
		/results/dmesg.txt | head -n 200 | sed 's/^/H2VM-dmesg: /'
else
	echo "ok   dmesg clean (no WARNING/BUG/Oops/lockdep/hung task)"
fi
grep 'hammer2:' /results/dmesg.txt | grep -v -e taints -e 'verification failed' |
	head -n 30 | sed 's/^/H2VM-dmesg: /'

# the results disk
if [ -b /dev/vda ]; then
	tar -cf /dev/vda -C /results . && sync
fi
echo "H2VM: done at $(cut -d' ' -f1 /proc/uptime) s"
poweroff -f
