#!/bin/sh
# vmtest.sh - the filesystem test inside the VM (run by init.sh, busybox sh).
#
# Disks: /dev/vda results (init.sh writes it), /dev/vdb the test disk,
# /dev/vdc a tar archive (vmtest-host.sh made it) holding manifest.sha256
# and include/ (a copy of the host's /usr/include), /dev/vdd (hammer2 only)
# an image the host's newfs_hammer2 and hammer2 import wrote.  The filesystem under
# test is h2fs= on the kernel command line (default hammer2; ext4 tests
# the harness itself).  h2mnt=SPEC overrides the mount source (default
# /dev/vdb).
#
#   0. (hammer2) a 1 GiB volume filled until ENOSPC, checked, emptied
#   1. format /dev/vdb (newfs_hammer2, built static) and mount it on /mnt
#   2. posix_suite /mnt/posix            (every check its own line)
#   3. extract include/ from /dev/vdc with busybox tar, check every file's
#      sha256 against the host's manifest
#   4. replay each /vm/traces/*.trace with h2replay into /mnt/replay/NAME,
#      against a tmpfs reference (/tmp/ref/NAME): results, read bytes,
#      stat, readdir, readlink, final trees
#   5. sync, umount, mount: posix_suite -v, the sha256 manifest again, the
#      replay trees against the references again; (hammer2) reads straight
#      into the page cache, and a block damaged on the device
#   6. copy and delete a subtree, umount; (hammer2) a power cut right
#      after fsync (fail_writes), then fsck, recovery at mount, fsck
#   7. mount /dev/vdd, check include/linux there against the manifest,
#      change it (write, rename, unlink, mkdir, chmod, symlink), umount
# The reference trees go to /results/ref.tar for the host's comparison
# with its own export of the image.  Each check prints "ok NAME" or
# "FAIL NAME: why"; "H2VM-PHASE NAME" lines tell the host how far it got.
FS=hammer2
SPEC=/dev/vdb
for a in $(cat /proc/cmdline); do
	case "$a" in
	h2fs=*) FS=${a#h2fs=} ;;
	h2mnt=*) SPEC=${a#h2mnt=} ;;
	esac
done
LOG=/tmp/log
mkdir -p $LOG

ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
up() { cut -d' ' -f1 /proc/uptime; }

# run NAME CMD...: one check from a command's exit status; its output goes
# to $LOG/NAME.log, the last lines are shown on failure.
run() {
	local name=$1 f
	shift
	f=$LOG/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').log
	if "$@" >"$f" 2>&1; then
		ok "$name"
		return 0
	fi
	fail "$name: $(tail -n 5 "$f" | tr '\n' '|')"
	return 1
}

mkfs_fs() {
	case "$FS" in
	hammer2) newfs_hammer2 /dev/vdb ;;
	ext4) /usr/local/bin/mke2fs -t ext4 -F -q /dev/vdb ;; # not the applet
	*) mkfs."$FS" /dev/vdb ;;
	esac
}
mount_fs() { mount -t "$FS" "$SPEC" /mnt; }

# check_manifest: sha256 of every file of /mnt/include against the host.
check_manifest() {
	local n bad
	n=$(wc -l </tmp/manifest.sha256)
	bad=$(cd /mnt && sha256sum -c /tmp/manifest.sha256 2>&1 | grep -v ': OK$')
	if [ -n "$bad" ]; then
		echo "$bad" | head -n 10
		echo "$(echo "$bad" | wc -l) of $n files differ"
		return 1
	fi
	echo "$n files match"
}

# 5b. (hammer2) reads straight into the page cache: an 8 MiB file read
# after drop_caches comes from the media without the core copying it
# (/sys/module/hammer2/parameters/direct_reads counts the blocks) and is
# intact.  Then one sector of its block 5 is damaged on the device while
# unmounted: reading the file gives EIO, the kernel log names the block
# (data_off as hammer2 show prints it), the failed block was read again
# through the core (direct_rereads), the blocks after it still read back
# right, and with the sector repaired the whole file reads back.
direct_test() {
	local P=/sys/module/hammer2/parameters f=/mnt/direct.dat s d0 r0 d
	local bref o sec
	dd if=/dev/urandom of=/tmp/direct.orig bs=1M count=8 2>/dev/null &&
		cp /tmp/direct.orig $f && sync || return 1
	s=$(sha256sum </tmp/direct.orig)
	# the written blocks' buffers went back to the pool; memory
	# pressure (drop_caches runs the shrinkers) empties it
	d=$(cat $P/pool_buffers)
	[ "$d" -gt 0 ] || { echo "no buffer pooled after writing 8 MiB"; return 1; }
	echo 3 >/proc/sys/vm/drop_caches
	[ "$(cat $P/pool_buffers)" -eq 0 ] ||
		{ echo "pool kept $(cat $P/pool_buffers) of $d buffers after drop_caches"; return 1; }
	echo "$d buffers pooled after the write, 0 after drop_caches"
	d0=$(cat $P/direct_reads) && r0=$(cat $P/direct_rereads) || return 1
	[ "$(sha256sum <$f)" = "$s" ] || { echo "content differs"; return 1; }
	d=$(($(cat $P/direct_reads) - d0))
	[ $d -ge 120 ] || { echo "only $d of 128 blocks read straight in"; return 1; }
	[ "$(cat $P/direct_rereads)" = "$r0" ] ||
		{ echo "blocks read again without any damage"; return 1; }
	echo "$d of 128 blocks read straight into the page cache"
	bref=$(hammer2 -f /dev/vdb show | awk '/"direct.dat"/ {f = 1; next}
		f && $1 ~ /^data\./ && $3 == "0x0000000000050000/16" {print $2; exit}')
	[ -n "$bref" ] || { echo "block 5 not in hammer2 show"; return 1; }
	o=$((bref & ~63))
	sec=$((o / 512 + 8))
	umount /mnt && echo 3 >/proc/sys/vm/drop_caches || return 1
	dd if=/dev/vdb of=/tmp/sector bs=512 skip=$sec count=1 2>/dev/null &&
		dd if=/dev/urandom of=/dev/vdb bs=512 seek=$sec count=1 \
			conv=notrunc 2>/dev/null && sync || return 1
	mount_fs || return 1
	if cat $f >/dev/null 2>/tmp/direct.err; then
		echo "a damaged block read without an error"
		return 1
	fi
	grep -q 'Input/output error' /tmp/direct.err ||
		{ echo "cat: $(cat /tmp/direct.err)"; return 1; }
	dmesg | grep -q "hammer2: vdb: check code mismatch in blockref type .* data_off $bref" ||
		{ echo "no log line naming data_off $bref"; return 1; }
	[ "$(cat $P/direct_rereads)" -gt "$r0" ] ||
		{ echo "the damaged block was not read again"; return 1; }
	[ "$(dd if=$f bs=64k skip=6 count=100 2>/dev/null | sha256sum)" = \
		"$(dd if=/tmp/direct.orig bs=64k skip=6 count=100 2>/dev/null | sha256sum)" ] ||
		{ echo "the blocks after the damaged one differ"; return 1; }
	echo "damaged block $bref: EIO, logged, the rest intact"
	umount /mnt && echo 3 >/proc/sys/vm/drop_caches || return 1
	dd if=/tmp/sector of=/dev/vdb bs=512 seek=$sec count=1 conv=notrunc \
		2>/dev/null && sync || return 1
	mount_fs || return 1
	[ "$(sha256sum <$f)" = "$s" ] || { echo "repaired file differs"; return 1; }
	rm -f $f /tmp/direct.orig && sync
}

# 5c. (hammer2) readahead fills large folios (mapping_set_large_folios):
# a 4 MiB file read after drop_caches comes in folios larger than a page
# (readahead_large_folios counts them); then writes into those folios
# (unaligned, a whole page, across a 64 KiB block and a folio edge) and
# truncation through one: the page cache and, after drop_caches, the media
# both equal a copy patched the same way in tmpfs.
# folio_same FILE COPY WHAT: FILE equals COPY in the page cache, and after
# sync and drop_caches on the media.
folio_same() {
	[ "$(sha256sum <$1)" = "$(sha256sum <$2)" ] ||
		{ echo "page cache differs after $3"; return 1; }
	sync && echo 3 >/proc/sys/vm/drop_caches
	[ "$(sha256sum <$1)" = "$(sha256sum <$2)" ] ||
		{ echo "media differs after $3"; return 1; }
}

folio_test() {
	local P=/sys/module/hammer2/parameters f=/mnt/folio.dat o=/tmp/folio.orig
	local l0 l off
	dd if=/dev/urandom of=$o bs=1M count=4 2>/dev/null && cp $o $f && sync ||
		return 1
	echo 3 >/proc/sys/vm/drop_caches
	l0=$(cat $P/readahead_large_folios) || return 1
	cat $f >/dev/null || return 1
	l=$(($(cat $P/readahead_large_folios) - l0))
	[ $l -gt 0 ] || { echo "readahead filled no large folio"; return 1; }
	echo "readahead filled $l large folios"
	for off in 70000 1048576 2097102 3000001; do
		dd if=/dev/urandom of=/tmp/folio.patch bs=100 count=1 2>/dev/null
		[ $off != 1048576 ] ||
			dd if=/dev/urandom of=/tmp/folio.patch bs=4096 count=1 2>/dev/null
		for t in $o $f; do
			dd if=/tmp/folio.patch of=$t bs=1 seek=$off conv=notrunc \
				2>/dev/null || return 1
		done
	done
	folio_same $f $o "the writes" || return 1
	cat $f >/dev/null
	for t in $o $f; do
		dd if=/dev/null of=$t bs=1 seek=3145851 2>/dev/null || return 1
	done
	folio_same $f $o truncation || return 1
	rm -f $f $o /tmp/folio.patch && sync
}

# 5d. (hammer2) writes past EOF, and writes into a hole below it, make
# whole-block folios (append_large_folios counts them): unaligned appends (1000 and 25 bytes
# per write(2)), a write that leaves a hole before it, a write into the
# hole and one into the truncated tail: the page cache and the media equal
# a tmpfs copy written the same way (the hole and the part of a new folio
# before the write read as zeros).
append_test() {
	local P=/sys/module/hammer2/parameters f=/mnt/append.dat o=/tmp/append.orig
	local a0 a t
	a0=$(cat $P/append_large_folios) || return 1
	dd if=/dev/urandom of=/tmp/append.src bs=1000 count=300 2>/dev/null ||
		return 1
	for t in $o $f; do
		dd if=/tmp/append.src of=$t bs=1000 2>/dev/null &&
			dd if=/tmp/append.src of=$t bs=25 seek=42435 count=2800 \
				conv=notrunc 2>/dev/null &&
			dd if=/tmp/append.src of=$t bs=25 seek=20000 count=200 \
				conv=notrunc 2>/dev/null &&
			dd if=/dev/null of=$t bs=1 seek=1100000 2>/dev/null &&
			dd if=/tmp/append.src of=$t bs=25 seek=43960 count=160 \
				conv=notrunc 2>/dev/null || return 1
	done
	a=$(($(cat $P/append_large_folios) - a0))
	[ $a -ge 6 ] || { echo "appends made $a whole-block folios (< 6)"; return 1; }
	echo "appends made $a whole-block folios"
	[ "$(stat -c %s $f)" = 1103000 ] || { echo "size $(stat -c %s $f)"; return 1; }
	folio_same $f $o "the appends" || return 1
	# a hole below EOF (the file extended first, as fio lays files out)
	# gets whole-block folios too: 256 KiB written into a 1 MiB hole
	a0=$(cat $P/append_large_folios)
	for t in $o $f; do
		rm -f $t && dd if=/dev/null of=$t bs=1 seek=1048576 2>/dev/null &&
			dd if=/tmp/append.src of=$t bs=4096 seek=32 count=64 \
				conv=notrunc 2>/dev/null || return 1
	done
	a=$(($(cat $P/append_large_folios) - a0))
	[ $a -ge 4 ] || { echo "writes into a hole made $a whole-block folios (< 4)"; return 1; }
	echo "writes into a hole made $a whole-block folios"
	folio_same $f $o "the writes into a hole" || return 1
	rm -f $f $o /tmp/append.src && sync
}

# 5e. (hammer2) writeback straight from the page cache (docs/DESIGN.md;
# direct_writes is on by default, direct_tiles is turned on for this):
# 8 MiB of random data written in 1 MiB writes goes out from whole-block
# folios without a copy into the core (direct_blocks_written counts
# them), and reads back right after sync and drop_caches; then a 1 MiB
# rewrite over blocks written that way (single pages in the page cache,
# 16 to a block: written straight from them too) and a 4 KiB write into
# one (the core completes it from the directly written block), the same
# after a remount.
wdirect_test() {
	local P=/sys/module/hammer2/parameters f=/mnt/wdirect.dat o=/tmp/wdirect.orig
	local w0 w t
	echo 1 >$P/direct_tiles || return 1 # off by default
	w0=$(cat $P/direct_blocks_written) || return 1
	dd if=/dev/urandom of=$o bs=1M count=8 2>/dev/null &&
		dd if=$o of=$f bs=1M 2>/dev/null && sync || return 1
	w=$(($(cat $P/direct_blocks_written) - w0))
	[ $w -ge 120 ] || { echo "only $w of 128 blocks written straight from the page cache ($(cat $P/direct_blocks_refused) refused)"; return 1; }
	echo "$w of 128 blocks written straight from the page cache"
	folio_same $f $o "the direct writes" || return 1
	dd if=/dev/urandom of=/tmp/wdirect.patch bs=1M count=1 2>/dev/null ||
		return 1
	# not an append: page by page in the page cache, 16 to a block (the
	# read above left readahead's large folios, which the copy path takes
	# when one spans more than a block: dropped first)
	echo 3 >/proc/sys/vm/drop_caches
	w0=$(cat $P/direct_blocks_written)
	for t in $o $f; do
		dd if=/tmp/wdirect.patch of=$t bs=1M seek=3 conv=notrunc \
			2>/dev/null || return 1
	done
	folio_same $f $o "a 1 MiB rewrite" || return 1
	w=$(($(cat $P/direct_blocks_written) - w0))
	[ $w -ge 16 ] || { echo "only $w of the rewrite's 16 blocks went straight from its pages ($(cat $P/direct_blocks_refused) refused in all)"; return 1; }
	echo "the 1 MiB rewrite: $w of 16 blocks straight from its pages"
	for t in $o $f; do
		dd if=/tmp/wdirect.patch of=$t bs=4096 count=1 seek=50 \
			conv=notrunc 2>/dev/null || return 1
	done
	folio_same $f $o "a 4 KiB write into a direct block" || return 1
	umount /mnt && mount_fs || return 1
	[ "$(sha256sum <$f)" = "$(sha256sum <$o)" ] ||
		{ echo "differs after a remount"; return 1; }
	rm -f $f $o /tmp/wdirect.patch && sync
	echo 0 >$P/direct_tiles
}

end() {
	echo "H2VM-PHASE end $(up)"
	exit 0
}

echo "H2VM-PHASE start $(up) fs=$FS"
if ! grep -qw "$FS" /proc/filesystems; then
	case "$FS" in
	hammer2) fail "hammer2 registered in /proc/filesystems: the module registers no filesystem (VFS glue missing?)" ;;
	*) fail "$FS registered in /proc/filesystems" ;;
	esac
	end
fi
ok "$FS registered in /proc/filesystems"

# 0. a full volume (hammer2 only): a 1 GiB volume (newfs's minimum) on
# /dev/vdb is filled with 1 MiB copies of a random pattern until write(2)
# fails; the error must be ENOSPC, a file synced before must be intact,
# what the writes reported must read back after a remount (every 32nd MiB
# and the last one: nothing lost at writeback), and deleting the fill must
# give the space back.
enospc_test() {
	local s n i
	dd if=/dev/urandom of=/tmp/pat bs=1M count=1 2>/dev/null || return 1
	newfs_hammer2 -s 1G /dev/vdb >/dev/null || return 1
	mount -t hammer2 /dev/vdb /mnt || return 1
	cp /tmp/pat /mnt/safe && sync || return 1
	s=$(sha256sum </tmp/pat)
	n=0
	while cat /tmp/pat >>/mnt/fill 2>/tmp/enospc.err; do
		n=$((n + 1))
		[ $n -lt 1100 ] || { echo "no error after $n MiB"; return 1; }
	done
	grep -q 'No space left on device' /tmp/enospc.err ||
		{ echo "cat: $(cat /tmp/enospc.err)"; return 1; }
	sync
	umount /mnt && mount -t hammer2 /dev/vdb /mnt || return 1
	[ "$(sha256sum </mnt/safe)" = "$s" ] || { echo "safe changed"; return 1; }
	[ $n -gt 512 ] || { echo "ENOSPC after only $n MiB"; return 1; }
	for i in $(seq 0 32 $((n - 1))) $((n - 1)); do
		[ "$(dd if=/mnt/fill bs=1M skip=$i count=1 2>/dev/null | sha256sum)" = "$s" ] ||
			{ echo "fill: MiB $i of $n differs"; return 1; }
	done
	rm /mnt/fill && sync || return 1
	cat /tmp/pat >/mnt/again && cat /tmp/pat >>/mnt/again && sync ||
		{ echo "no space after the fill was deleted"; return 1; }
	echo "ENOSPC after $n MiB on a 1 GiB volume; synced and written data intact"
	umount /mnt
}
if [ "$FS" = hammer2 ]; then
	run "full volume: write(2) fails with ENOSPC, nothing written is lost" enospc_test
	grep ENOSPC $LOG/full_volume*.log 2>/dev/null | sed 's/^/info /'
	umount /mnt 2>/dev/null
fi

run "mkfs $FS /dev/vdb" mkfs_fs || end
run "mount -t $FS $SPEC /mnt" mount_fs || end
echo "H2VM-PHASE mounted $(up)"
grep " /mnt " /proc/mounts | sed 's/^/info mount: /'

# 2. POSIX suite
posix_suite /mnt/posix >$LOG/posix.log 2>&1
rc=$?
grep -v '^posix: ' $LOG/posix.log
[ $rc -le 1 ] || fail "posix_suite exited with status $rc (crashed?)"
echo "H2VM-PHASE posix $(up)"

# 3. the include tree
if run "extract include/ (busybox tar from /dev/vdc)" tar -xf /dev/vdc -C /mnt &&
	run "rename manifest out of the mount" mv /mnt/manifest.sha256 /tmp/manifest.sha256; then
	run "include/: sha256 of every file" check_manifest
fi
echo "H2VM-PHASE include $(up)"

# 4. trace replays against a tmpfs reference
mkdir -p /mnt/replay /tmp/ref
for t in /vm/traces/*.trace; do
	[ -e "$t" ] || continue
	n=$(basename "$t" .trace)
	mkdir -p "/mnt/replay/$n" "/tmp/ref/$n"
	t0=$(up)
	if h2replay -r "/tmp/ref/$n" "$t" "/mnt/replay/$n" >"$LOG/replay-$n.log" 2>&1; then
		ok "replay $n: $(tail -n 1 "$LOG/replay-$n.log") ($(grep '^treecmp' "$LOG/replay-$n.log")), $t0 -> $(up) s"
	else
		fail "replay $n: $(tail -n 1 "$LOG/replay-$n.log")"
		grep -E '^(MISMATCH|DIFF|note)' "$LOG/replay-$n.log" | head -n 15 | sed 's/^/  /'
	fi
	grep '^note' "$LOG/replay-$n.log" | head -n 3 | sed 's/^/info /'
done
echo "H2VM-PHASE replay $(up)"

# 5. unmount, mount, everything again
run "sync" sync
run "umount" umount /mnt || end
run "mount again" mount_fs || end
echo "H2VM-PHASE remounted $(up)"
if [ "$FS" = hammer2 ]; then
	run "reads straight into the page cache; a damaged block gives EIO" direct_test
	grep -h 'blocks read straight\|damaged block\|buffers pooled' $LOG/reads_straight*.log 2>/dev/null |
		sed 's/^/info /'
	grep -q " /mnt " /proc/mounts || mount_fs
	run "writes into large folios that readahead brought in" folio_test
	grep -h 'large folios' $LOG/writes_into_large*.log 2>/dev/null | sed 's/^/info /'
	run "appends make whole-block folios" append_test
	run "writeback straight from the page cache" wdirect_test
	grep -h 'whole-block folios' $LOG/appends_make*.log 2>/dev/null | sed 's/^/info /'
fi
posix_suite -v /mnt/posix >$LOG/posix-verify.log 2>&1
rc=$?
grep -v '^posix-verify: ' $LOG/posix-verify.log
[ $rc -le 1 ] || fail "posix_suite -v exited with status $rc (crashed?)"
[ -f /tmp/manifest.sha256 ] &&
	run "include/ after remount: sha256 of every file" check_manifest
for t in /vm/traces/*.trace; do
	[ -e "$t" ] || continue
	n=$(basename "$t" .trace)
	run "replay $n after remount: tree equals the reference" \
		h2replay -c "/mnt/replay/$n" "/tmp/ref/$n"
done

# 6. copy and delete a subtree
if [ -d /mnt/include/linux ]; then
	run "cp -a include/linux" cp -a /mnt/include/linux /mnt/linux.copy &&
		run "copy equals include/linux" h2replay -c /mnt/include/linux /mnt/linux.copy
	run "rm -rf the copy" rm -rf /mnt/linux.copy
	run "copy gone" test ! -e /mnt/linux.copy
fi
df -k /mnt | tail -n 1 | sed 's/^/info df: /'
run "final umount" umount /mnt || end
echo "H2VM-PHASE unmounted $(up)"

# 6b. (hammer2) a power cut right after fsync.  A commit for fsync leaves
# the freemap out (docs/DESIGN.md), so the next mount must recover it:
# the fsync'ed file intact, nothing new allocated on top of it, fsck clean
# before (recovery pending) and after.  The cut is the module's fail_writes
# (every write and cache flush fails from then on, as if the power went);
# the unmount's flush then fails and nothing more reaches the disk.
crash_test() {
	local P=/sys/module/hammer2/parameters/fail_writes want got
	mount_fs || return 1
	head -c 1048576 /dev/urandom >/mnt/crash-a && sync || return 1
	rm /mnt/crash-a && head -c 3000000 /dev/urandom >/mnt/crash-b || return 1
	want=$(sha256sum </mnt/crash-b)
	# fsync, then the cut at once (the 5 s flusher writes the freemap)
	sync /mnt/crash-b && echo 1 >$P || return 1
	umount /mnt
	echo 0 >$P
	fsck_hammer2 /dev/vdb >$LOG/crash-fsck1.txt 2>&1 ||
		{ echo "fsck after the cut:"; grep -v '^ *$' $LOG/crash-fsck1.txt | tail -n 5; return 1; }
	if ! grep -q 'freemap recovery' $LOG/crash-fsck1.txt; then
		echo "the flusher wrote the freemap before the cut (nothing to recover)"
	fi
	mount_fs || return 1
	got=$(sha256sum </mnt/crash-b)
	[ "$got" = "$want" ] || { echo "crash-b differs after the cut"; return 1; }
	[ ! -e /mnt/crash-a ] || { echo "crash-a is back"; return 1; }
	if grep -q 'freemap recovery' $LOG/crash-fsck1.txt; then
		dmesg | grep -q 'hammer2: vdb: freemap recovered' ||
			{ echo "no 'freemap recovered' line"; return 1; }
		dmesg | grep 'hammer2: vdb: freemap recovered' | tail -n 1
	fi
	head -c 8388608 /dev/urandom >/mnt/crash-c && sync || return 1
	got=$(sha256sum </mnt/crash-b)
	[ "$got" = "$want" ] || { echo "crash-b overwritten by new writes"; return 1; }
	rm /mnt/crash-b /mnt/crash-c && umount /mnt || return 1
	fsck_hammer2 /dev/vdb >$LOG/crash-fsck2.txt 2>&1 ||
		{ echo "fsck after recovery:"; tail -n 5 $LOG/crash-fsck2.txt; return 1; }
	! grep -q 'freemap recovery' $LOG/crash-fsck2.txt ||
		{ echo "the freemap is still not written"; return 1; }
	grep -h 'freemap recovery\|leaked' $LOG/crash-fsck1.txt
}
if [ "$FS" = hammer2 ]; then
	run "power cut after fsync: the freemap recovered, the file intact" crash_test
	grep -h 'recover\|leaked\|wrote the freemap' \
		$LOG/power_cut_after*.log 2>/dev/null |
		sed 's/^/info /'
fi

# 7. /dev/vdd: an image the host made with newfs_hammer2 + hammer2 import
# (include/linux): the kernel reads it, then changes it for the host to see
if [ "$FS" = hammer2 ] && [ -b /dev/vdd ] && [ -f /tmp/manifest.sha256 ]; then
	mkdir -p /mnt2
	if run "mount the image the userland tools wrote" mount -t hammer2 /dev/vdd /mnt2; then
		grep '  include/linux/' /tmp/manifest.sha256 >/tmp/linux.sha256
		run "host-imported include/linux: sha256 of every file" \
			sh -c 'cd /mnt2 && sha256sum -c /tmp/linux.sha256 | grep -v ": OK$"; [ $? -eq 1 ]'
		kwrite() {
			echo "written by the kernel" >/mnt2/from-kernel &&
				mv /mnt2/include/linux/kernel.h /mnt2/include/linux/kernel.h.moved &&
				rm /mnt2/include/linux/types.h &&
				mkdir /mnt2/kdir && cp /vm/bin/h2replay /mnt2/kdir/ &&
				chmod 0600 /mnt2/kdir/h2replay && ln -s ../from-kernel /mnt2/kdir/sym
		}
		run "kernel writes into the host-made image" kwrite
		run "umount the host-made image" umount /mnt2 &&
			echo "H2VM-PHASE userland-image $(up)"
	fi
fi
tar -cf /results/ref.tar -C /tmp/ref .
cp $LOG/*.log /results/ 2>/dev/null
end
