#!/bin/bash
# test_corrupt.sh - damaged media: the tools report, name the bad block and
# never crash.
#   (a) volume header copy 0 of a 3 GiB sparse image: the tools use another
#       copy (info/ls work), fsck reports the bad copy and exits 4;
#   (b) an inode block, (c) an indirect block, (d) a data block, located
#       with "hammer2 show": cat/export exit 1 naming the block, fsck exits
#       4 naming it, show marks it FAILED, the rest stays readable;
#   (e) random damage to metadata of an image without check codes: every
#       tool exits without crashing.
# With $ASAN_BIN the checks run again on the sanitizer builds (an ASan or
# UBSan report, or a crash status, is a failure).
#
# Environment: BIN (default build/bin), ASAN_BIN (optional), SRCDIR, TMPDIR.
# Last line: "test_corrupt: N passed, N failed".
set -u
NAME=test_corrupt
. "$(dirname "$0")/lib.sh"
ERR_SHOW="tail -n 10"
export HAMMER2_FAKE_RANDOM_SEED=${HAMMER2_FAKE_RANDOM_SEED:-4242}

# names_block DESC DATA_OFF: stdout+stderr of the last command mention it.
names_block() {
	local full=${2#0x} masked
	masked=$(printf '%x' $((0x$full & ~0x3f)))
	full=$(echo "$full" | sed 's/^0*//')
	if cat "$W/out" "$W/err" | grep -qiE "(0x)?0*($full|$masked)([^0-9a-f]|$)"; then
		ok "$1 names block 0x$full"
	else
		bad "$1 does not name block 0x$full"
	fi
}

# find_off SHOWFILE NAME TYPE: data_off of the first TYPE blockref below
# inode "NAME" in show output (TYPE "self" = the inode itself).
find_off() {
	python3 - "$1" "$2" "$3" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
name, want = sys.argv[2], sys.argv[3]
for i, l in enumerate(lines):
    t = l.split()
    if len(t) > 1 and t[0].startswith("inode.") and (' ok "%s" ' % name) in l:
        if want == "self":
            print(t[1]); sys.exit(0)
        ind = len(l) - len(l.lstrip(" "))
        for m in lines[i + 1:]:
            if len(m) - len(m.lstrip(" ")) <= ind:
                break
            u = m.split()
            if u and u[0].split(".")[0] == want:
                print(u[1]); sys.exit(0)
sys.exit(1)
EOF
}

# ----- base images -----
mkcontent() {
	local d=$W/content
	rm -rf "$d"
	mkdir -p "$d/c/sub"
	echo "small file whose inode gets damaged" >"$d/c/victim_inode.txt"
	head -c 2097152 /dev/urandom >"$d/c/victim_ind.bin"
	head -c 204800 /dev/urandom >"$d/c/victim_data.bin"
	echo "an innocent bystander" >"$d/c/other.txt"
	for i in $(seq 1 40); do
		head -c $((i * 997)) /dev/urandom >"$d/c/sub/f$i"
	done
	ln -s victim_data.bin "$d/c/link"
}

make_base() { # BINDIR IMG NEWFS_OPTS...
	local B=$1 img=$2
	shift 2
	rm -f "$img"
	"$B/newfs_hammer2" "$@" "$img" >"$W/out" 2>"$W/err" &&
		"$B/hammer2" -f "$img" import "$W/content" / >"$W/out" 2>"$W/err"
}

# suite BINDIR TAG
suite() {
	local B=$1 H=$1/hammer2 F=$1/fsck_hammer2
	local BASE=$W/base.img IMG=$W/img off
	TAG="[$2] "
	need_tools "$B" hammer2 newfs_hammer2 || return
	local have_fsck=1
	if [ ! -x "$F" ]; then
		have_fsck=0
		echo "skip $TAG fsck_hammer2 not built: fsck checks skipped"
	fi
	if ! make_base "$B" "$BASE" -s 3g; then
		bad "building the base image"
		return
	fi
	ok "base image (3 GiB sparse, two volume header copies)"
	expect_rc 0 "show on the intact image" "$H" -f "$BASE" show || return
	cp "$W/out" "$W/show"

	# (a) volume header copy 0
	cp --sparse=always "$BASE" "$IMG"
	flip "$IMG" 0x100 8 0xa5
	expect_rc 0 "(a) info with copy 0 damaged" "$H" -f "$IMG" info &&
		if grep -qE 'copy 0 .*(CRC|magic)' "$W/out"; then ok "(a) info reports copy 0"; else bad "(a) info does not report copy 0"; fi
	expect_rc 0 "(a) volhdr picks another copy" "$H" -f "$IMG" volhdr &&
		if grep -q '^volume header 1 {' "$W/out"; then ok "(a) volhdr shows copy 1"; else bad "(a) volhdr did not select copy 1"; fi
	expect_rc 0 "(a) ls / still works" "$H" -f "$IMG" ls /
	expect_rc 0 "(a) show still works" "$H" -f "$IMG" show
	if [ $have_fsck -eq 1 ]; then
		expect_rc 4 "(a) fsck exits 4" "$F" "$IMG" &&
			if cat "$W/out" "$W/err" | grep -qiE '(volume header|volhdr|header copy).*0|copy 0'; then ok "(a) fsck names header copy 0"; else bad "(a) fsck does not name header copy 0"; fi
	fi

	# (b) inode block, (c) indirect block, (d) data block
	local what file type
	for what in "b victim_inode.txt self" "c victim_ind.bin indblk" "d victim_data.bin data"; do
		set -- $what
		file=$2
		type=$3
		if ! off=$(find_off "$W/show" "$file" "$type"); then
			bad "($1) no $type block for $file in show output"
			continue
		fi
		cp --sparse=always "$BASE" "$IMG"
		flip "$IMG" $(((off & ~0x3f) + 0x40)) 4 0xa5
		expect_rc 1 "($1) cat $file fails" "$H" -f "$IMG" cat "/c/$file" &&
			names_block "($1) cat" "$off"
		if grep -q 'Input/output error' "$W/err"; then ok "($1) cat reports EIO"; else bad "($1) cat does not report EIO"; fi
		# the core's log line names the device (the image path) too
		if grep -qF "hammer2: $IMG: " "$W/err"; then ok "($1) cat's log line names the image"; else bad "($1) cat's log line does not name $IMG"; fi
		expect_rc 1 "($1) export fails" "$H" -f "$IMG" export /c "$W/exp" &&
			names_block "($1) export" "$off"
		# a damaged inode also hides its directory entry (names live in
		# the inode), so a readdir of /c stops there: only (c) and (d)
		if [ "$1" = b ]; then
			:
		elif [ -f "$W/exp/other.txt" ] && cmp -s "$W/exp/other.txt" "$W/content/c/other.txt"; then
			ok "($1) export still copies the undamaged files"
		else
			bad "($1) undamaged file not exported"
		fi
		rm -rf "$W/exp"
		expect_rc 0 "($1) other files still readable" "$H" -f "$IMG" cat /c/other.txt
		expect_rc 1 "($1) show exits 1" "$H" -f "$IMG" show &&
			if grep -E "FAILED" "$W/out" | grep -qi "$off"; then ok "($1) show marks $off FAILED"; else bad "($1) show does not mark $off"; fi
		if [ $have_fsck -eq 1 ]; then
			expect_rc 4 "($1) fsck exits 4" "$F" "$IMG" &&
				names_block "($1) fsck" "$off"
		fi
	done

	# (e) random metadata damage without check codes: no crash
	if make_base "$B" "$W/nocheck.img" -s 1g -C none; then
		"$H" -f "$W/nocheck.img" show >"$W/show.nc" 2>/dev/null
		local offs
		mapfile -t offs < <(awk '$1 ~ /^(inode|indblk)\./ { print $2 }' "$W/show.nc")
		if [ "${#offs[@]}" -eq 0 ]; then
			bad "(e) no metadata blocks found"
		else
			local i n crashed=0 runs=0
			RANDOM=7
			for i in $(seq 1 12); do
				cp --sparse=always "$W/nocheck.img" "$IMG"
				off=${offs[$((RANDOM % ${#offs[@]}))]}
				for n in 1 2 3 4 5 6; do
					flip "$IMG" $(((off & ~0x3f) + (RANDOM % 1024))) 1 0xa5
				done
				local cmd
				for cmd in "show" "ls -l /c" "export / $W/fz" "cat /c/victim_ind.bin"; do
					run $H -f "$IMG" $cmd
					runs=$((runs + 1))
					if [ "$CRASHED" -ne 0 ]; then
						crashed=$((crashed + 1))
						echo "     crash: hammer2 $cmd on damage at $off (exit $RC)"
						tail -n 5 "$W/err" | sed 's/^/     | /'
					fi
					rm -rf "$W/fz"
				done
				if [ $have_fsck -eq 1 ]; then
					run "$F" "$IMG"
					runs=$((runs + 1))
					if [ "$CRASHED" -ne 0 ]; then
						crashed=$((crashed + 1))
						echo "     crash: fsck on damage at $off (exit $RC)"
					fi
				fi
			done
			if [ $crashed -eq 0 ]; then ok "(e) $runs runs on damaged metadata, no crash"; else bad "(e) $crashed of $runs runs crashed"; fi
		fi
	else
		bad "(e) building the no-check image"
	fi

	# garbage and truncated images
	head -c 1048576 /dev/urandom >"$IMG"
	expect_rc 1 "random bytes: info fails cleanly" "$H" -f "$IMG" info
	expect_rc 1 "random bytes: show fails cleanly" "$H" -f "$IMG" show
	head -c 65536 "$BASE" >"$IMG"
	expect_rc nz "truncated image: ls fails cleanly" "$H" -f "$IMG" ls /
	rm -f "$IMG" "$BASE" "$W/nocheck.img"
}

mkcontent
suite "$BIN" plain
if have_asan; then
	suite "$ASAN_BIN" asan
fi
report
