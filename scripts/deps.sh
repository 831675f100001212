#!/bin/bash
# deps.sh - install the Debian 12 packages the project needs.
#
# Idempotent and quick when everything is present: dpkg-query checks each
# package; apt-get update runs once, and only when something is missing.
set -euo pipefail

PKGS=(
	build-essential
	liblz4-dev
	zlib1g-dev
	libxxhash-dev
	libbsd-dev
	libmd-dev
	uuid-dev
	libcunit1-dev
	e2fsprogs
	btrfs-progs
	linux-headers-amd64
	clang-format
	valgrind
	python3
	# the VM test and benchmark (tests/vm/: make vmtest, make bench-vm)
	qemu-system-x86
	busybox-static
	linux-image-amd64
	kmod
	cpio
	xz-utils
	zstd
	fio
	xfsprogs
	gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages installed"
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps: missing ${missing[*]}; run as root or install sudo" >&2
		exit 1
	fi
fi

echo "deps: installing ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends "${missing[@]}"
