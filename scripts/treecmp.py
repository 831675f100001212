#!/usr/bin/env python3
"""treecmp.py - compare two directory trees entry by entry.

usage: treecmp.py [--skip WHAT,...] [--owner yes|no|auto] [--holes]
                  [--max N] [--prefix TEXT] SRC DST

Every entry below SRC must be below DST and the other way round, with the
same type and, unless --skip names it:
  content  file size and data
  mode     permission bits, set-id and sticky bits included (not symlinks)
  mtime    modification time, to the microsecond
  target   symlink target
  rdev     device numbers of character and block devices
  owner    uid and gid (--owner auto, the default: only when run as root)
With --holes a file that is mostly holes in SRC must not come back fully
allocated in DST.

Prints the first --max differences (default 50), then the summary line
"SRC: N entries, N file bytes, N differences"; every line starts with
--prefix.  Exit status 0 if the trees are equal, 1 if not, 2 on bad usage.
Used by scripts/demo.sh and tests/integration/test_roundtrip.sh.
"""
import argparse
import os
import stat
import sys

CHECKS = ("content", "mode", "mtime", "target", "rdev", "owner")


def walk(root):
    """Map each path below root (relative to it) to its lstat."""
    out = {}
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            p = os.path.join(dp, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def same_data(pa, pb):
    """True if files pa and pb hold the same bytes."""
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def compare_entry(k, sa, sb, pa, pb, want, holes):
    """Differences of one entry present in both trees, as messages."""
    errs = []
    if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
        return ["type differs: %s %o %o" % (k, sa.st_mode, sb.st_mode)]
    ma, mb = stat.S_IMODE(sa.st_mode), stat.S_IMODE(sb.st_mode)
    if "mode" in want and not stat.S_ISLNK(sa.st_mode) and ma != mb:
        errs.append("mode differs: %s %o %o" % (k, ma, mb))
    if "owner" in want and \
            (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid):
        errs.append("owner differs: %s %d:%d %d:%d" % (k, sa.st_uid,
                    sa.st_gid, sb.st_uid, sb.st_gid))
    if "mtime" in want and sa.st_mtime_ns // 1000 != sb.st_mtime_ns // 1000:
        errs.append("mtime differs: %s %d %d" % (k, sa.st_mtime_ns,
                                                 sb.st_mtime_ns))
    if stat.S_ISLNK(sa.st_mode):
        if "target" in want and os.readlink(pa) != os.readlink(pb):
            errs.append("symlink target differs: " + k)
    elif stat.S_ISREG(sa.st_mode):
        if "content" in want:
            if sa.st_size != sb.st_size:
                errs.append("size differs: %s %d %d" % (k, sa.st_size,
                                                        sb.st_size))
            elif not same_data(pa, pb):
                errs.append("content differs: " + k)
        # a sparse source must not come back fully allocated
        if holes and sa.st_blocks * 512 < sa.st_size // 2 and \
                sb.st_blocks * 512 > sa.st_blocks * 512 + (1 << 20):
            errs.append("holes lost: %s %d -> %d blocks" % (k, sa.st_blocks,
                                                           sb.st_blocks))
    elif stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
        if "rdev" in want and sa.st_rdev != sb.st_rdev:
            errs.append("rdev differs: " + k)
    return errs


def main():
    ap = argparse.ArgumentParser(
        description="Compare two directory trees entry by entry.")
    ap.add_argument("--skip", default="",
                    help="comma-separated checks to leave out: "
                    + ",".join(CHECKS))
    ap.add_argument("--owner", choices=("yes", "no", "auto"), default="auto",
                    help="compare uid/gid (auto: only when run as root)")
    ap.add_argument("--holes", action="store_true",
                    help="sparse files must stay sparse")
    ap.add_argument("--max", type=int, default=50,
                    help="differences printed at most (default 50)")
    ap.add_argument("--prefix", default="", help="start of every line")
    ap.add_argument("src")
    ap.add_argument("dst")
    args = ap.parse_args()

    skip = set(s for s in args.skip.split(",") if s)
    if skip - set(CHECKS):
        ap.error("unknown --skip check: " + ",".join(sorted(skip - set(CHECKS))))
    want = set(CHECKS) - skip
    if args.owner == "no" or (args.owner == "auto" and os.geteuid() != 0):
        want.discard("owner")

    a, b = walk(args.src), walk(args.dst)
    errs = ["missing: " + k for k in sorted(set(a) - set(b))]
    errs += ["extra: " + k for k in sorted(set(b) - set(a))]
    nbytes = 0
    for k in sorted(set(a) & set(b)):
        sa, sb = a[k], b[k]
        if stat.S_ISREG(sa.st_mode):
            nbytes += sa.st_size
        errs += compare_entry(k, sa, sb, os.path.join(args.src, k),
                              os.path.join(args.dst, k), want, args.holes)
    for e in errs[:args.max]:
        print(args.prefix + e)
    print("%s%s: %d entries, %d file bytes, %d differences"
          % (args.prefix, args.src, len(a), nbytes, len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
