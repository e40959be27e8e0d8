#!/usr/bin/env bash
# Builds the guest images of mvm into images/out/ (or $MVM_IMAGES_OUT, or
# --out DIR), reproducibly and only when their inputs changed:
#   vmlinux, bzImage   minimal kernel: Debian's linux-source-6.1, tinyconfig
#                      + kernel/minimal.config
#   stock-vmlinuz      the Debian cloud kernel, unpacked from its package
#   initramfs.cpio     static busybox + init/init (newc cpio, built without root)
#   rootfs/            the same tree as a directory, for the runc container
#   manifest.json      sha256, size and Debian package versions of each output
# Each output has a stamp in out/.stamps holding the sha256 of its inputs (this
# script, the config fragment, the init script, package and tool versions);
# a matching stamp means "up to date". Needs (Debian 12): linux-source-6.1
# bc flex bison libelf-dev libssl-dev lz4 busybox-static build-essential, and
# apt lists that know linux-image-cloud-amd64. Installs nothing itself.
set -euo pipefail

usage() {
	echo "usage: $0 [--out DIR]   (default: \$MVM_IMAGES_OUT or images/out)"
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${MVM_IMAGES_OUT:-$HERE/out}
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift 2 ;;
	--out=*) OUT=${1#--out=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

export LC_ALL=C TZ=UTC
umask 022

say() { printf 'images: %s\n' "$*"; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

# --- prerequisites: one clear line naming the package when something lacks --
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package $2"; }
need_file() { [ -e "$1" ] || die "$1 not found: install the Debian package $2"; }
pkg_version() {
	local v
	v=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null) || true
	case $v in
	"installed "*) printf '%s\n' "${v#installed }" ;;
	*) die "package $1 is not installed: apt-get install $1" ;;
	esac
}

need_cmd dpkg-query dpkg
need_cmd dpkg-deb dpkg
need_cmd apt-get apt
need_cmd apt-cache apt
need_cmd sha256sum coreutils
need_cmd flock util-linux
need_cmd tar tar
need_cmd xz xz-utils
need_cmd make make
need_cmd gcc gcc
need_cmd cc gcc
need_cmd ld binutils
need_cmd bc bc
need_cmd flex flex
need_cmd bison bison
need_cmd lz4 lz4
need_cmd perl perl-base
need_file /usr/include/libelf.h libelf-dev
need_file /usr/include/openssl/ssl.h libssl-dev
KSRC_TARBALL=/usr/src/linux-source-6.1.tar.xz
need_file "$KSRC_TARBALL" linux-source-6.1
BUSYBOX=/bin/busybox
need_file "$BUSYBOX" busybox-static

KVER=$(pkg_version linux-source-6.1)
BBVER=$(pkg_version busybox-static)

FRAGMENT=$HERE/kernel/minimal.config
INIT=$HERE/init/init
[ -f "$FRAGMENT" ] || die "missing $FRAGMENT"
[ -f "$INIT" ] || die "missing $INIT"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=$OUT/build
STAMPS=$OUT/.stamps
LOGS=$OUT/logs
CACHE=$OUT/cache
mkdir -p "$BUILD" "$STAMPS" "$LOGS" "$CACHE"

exec 9>"$OUT/.lock"
flock -n 9 || { say "waiting for another build.sh working on $OUT"; flock 9; }
say "output folder: $OUT"

# Fixed mtime of every initramfs/rootfs entry (2023-06-10, Debian 12's release).
TREE_EPOCH=1686355200
# Applets /init uses (plus a few for poking around a guest); symlinks in /bin.
APPLETS="sh mount umount cat echo printf uname nproc sleep reboot ls grep awk"
NCPU=$(nproc)

sha() { sha256sum "$1" | cut -c1-64; }
# sha256 over "key=value" lines: the identity of an output's inputs.
inputs_hash() { printf '%s\n' "$@" | sha256sum | cut -c1-64; }
# up_to_date NAME HASH FILE...: stamp matches and every output exists.
up_to_date() {
	local name=$1 hash=$2 f
	shift 2
	[ "$(cat "$STAMPS/$name" 2>/dev/null)" = "$hash" ] || return 1
	for f; do [ -e "$OUT/$f" ] || return 1; done
}
stamp() { printf '%s\n' "$2" >"$STAMPS/$1.tmp" && mv "$STAMPS/$1.tmp" "$STAMPS/$1"; }
# run LOG CMD...: CMD's output goes to LOG; on failure show its tail and stop.
run() {
	local log=$1
	shift
	if ! "$@" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}
# install_file SRC NAME: atomically replace $OUT/NAME.
install_file() { cp "$1" "$OUT/$2.tmp" && mv -f "$OUT/$2.tmp" "$OUT/$2"; }

SCRIPT_SHA=$(sha "${BASH_SOURCE[0]}")
TOOLS="gcc=$(gcc -dumpfullversion) ld=$(ld --version | sed -n 1p) lz4=$(lz4 -V 2>&1 | sed -n 1p)"

# --- 1. minimal kernel: vmlinux + bzImage -------------------------------------
KSRC=$BUILD/linux-6.1
KLOG=$LOGS/kernel.log
kernel_hash=$(inputs_hash "script=$SCRIPT_SHA" "fragment=$(sha "$FRAGMENT")" \
	"linux-source-6.1=$KVER" "tools=$TOOLS")

# Every option of the fragment must hold in .config ("is not set" = n or absent).
verify_config() {
	local line sym want have bad=()
	while IFS= read -r line; do
		case $line in
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want=n ;;
		CONFIG_*=*) sym=${line%%=*}; want=${line#*=} ;;
		*) continue ;;
		esac
		have=$(grep -m1 "^$sym=" "$KSRC/.config" || true)
		have=${have#*=}
		[ -n "$have" ] || have=n
		[ "$have" = "$want" ] || bad+=("$sym=$have (wanted $want)")
	done <"$FRAGMENT"
	[ ${#bad[@]} -eq 0 ] || die "kernel config does not honour kernel/minimal.config: ${bad[*]}"
}

build_kernel() {
	local t0=$SECONDS epoch
	: >"$KLOG"
	# The tree is reused (incremental make) while the source package is the same.
	if [ "$(cat "$KSRC/.mvm-source-version" 2>/dev/null)" != "$KVER" ]; then
		say "kernel: extracting linux-source-6.1 $KVER into ${KSRC#"$OUT"/}"
		rm -rf "$KSRC" "$KSRC.tmp"
		mkdir -p "$KSRC.tmp"
		run "$KLOG" tar -xJf "$KSRC_TARBALL" -C "$KSRC.tmp" --strip-components=1
		# Build date = the source's own Makefile mtime (fixed by the package).
		stat -c %Y "$KSRC.tmp/Makefile" >"$KSRC.tmp/.mvm-source-epoch"
		printf '%s\n' "$KVER" >"$KSRC.tmp/.mvm-source-version"
		mv "$KSRC.tmp" "$KSRC"
	fi
	epoch=$(cat "$KSRC/.mvm-source-epoch")
	export KBUILD_BUILD_TIMESTAMP
	KBUILD_BUILD_TIMESTAMP=$(date -u -d "@$epoch" '+%a %b %e %H:%M:%S UTC %Y')
	export KBUILD_BUILD_USER=mvm KBUILD_BUILD_HOST=mvm KBUILD_BUILD_VERSION=1
	local mk=(make -C "$KSRC" ARCH=x86_64)

	say "kernel: configuring (tinyconfig + kernel/minimal.config)"
	run "$KLOG" "${mk[@]}" tinyconfig
	run "$KLOG" env -C "$KSRC" scripts/kconfig/merge_config.sh -m .config "$FRAGMENT"
	run "$KLOG" "${mk[@]}" olddefconfig
	verify_config

	say "kernel: building with make -j$NCPU (log: ${KLOG#"$OUT"/})"
	run "$KLOG" "${mk[@]}" -j"$NCPU" vmlinux bzImage
	install_file "$KSRC/vmlinux" vmlinux
	install_file "$KSRC/arch/x86/boot/bzImage" bzImage
	stamp kernel "$kernel_hash"
	say "kernel: built $(uname_of) in $((SECONDS - t0)) s (bzImage $(stat -c %s "$OUT/bzImage") B, vmlinux $(stat -c %s "$OUT/vmlinux") B)"
}
uname_of() { cat "$KSRC/include/config/kernel.release"; }

if up_to_date kernel "$kernel_hash" vmlinux bzImage; then
	say "vmlinux, bzImage: up to date"
else
	build_kernel
fi

# --- 2. Debian's cloud kernel ------------------------------------------------------
STOCK_PKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '$1 == "Depends:" && !n++ { print $2 }') || true
[ -n "$STOCK_PKG" ] || die "apt does not know linux-image-cloud-amd64: run apt-get update"
STOCK_VER=$(apt-cache policy "$STOCK_PKG" | awk '$1 == "Candidate:" && !n++ { print $2 }')
case $STOCK_VER in "" | "(none)") die "no candidate version of $STOCK_PKG: run apt-get update" ;; esac
stock_hash=$(inputs_hash "script=$SCRIPT_SHA" "$STOCK_PKG=$STOCK_VER")

build_stock() {
	local debs=$CACHE/debs deb tmp log=$LOGS/stock-vmlinuz.log
	: >"$log"
	deb=$debs/${STOCK_PKG}_${STOCK_VER//:/%3a}_amd64.deb
	mkdir -p "$debs"
	if [ ! -f "$deb" ]; then
		say "stock-vmlinuz: downloading $STOCK_PKG $STOCK_VER"
		find "$debs" -name '*.deb' -delete
		(cd "$debs" && run "$log" apt-get download "$STOCK_PKG=$STOCK_VER")
		[ -f "$deb" ] || die "apt-get download did not produce $deb (see $log)"
	fi
	[ "$(dpkg-deb -f "$deb" Version)" = "$STOCK_VER" ] || die "$deb is not version $STOCK_VER"
	say "stock-vmlinuz: unpacking /boot/vmlinuz-* from ${deb##*/}"
	tmp=$CACHE/unpack
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# Like `dpkg -x`, but only /boot (the modules are not needed).
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
	set -- "$tmp"/boot/vmlinuz-*
	[ $# -eq 1 ] && [ -f "$1" ] || die "expected exactly one /boot/vmlinuz-* in $deb"
	install_file "$1" stock-vmlinuz
	rm -rf "$tmp"
	stamp stock-vmlinuz "$stock_hash"
	say "stock-vmlinuz: ${1##*/} ($(stat -c %s "$OUT/stock-vmlinuz") B)"
}

if up_to_date stock-vmlinuz "$stock_hash" stock-vmlinuz; then
	say "stock-vmlinuz: up to date"
else
	build_stock
fi

# --- 3. initramfs.cpio and 4. rootfs/ -------------------------------------------
# Both hold the same tree; /dev nodes only in the initramfs (the VM needs
# /dev/console before /init runs; an OCI runtime creates /dev itself).
tree_hash=$(inputs_hash "script=$SCRIPT_SHA" "init=$(sha "$INIT")" \
	"busybox-static=$BBVER" "applets=$APPLETS" "epoch=$TREE_EPOCH")
initramfs_hash=$(inputs_hash "$tree_hash" "linux-source-6.1=$KVER" "cc=$(gcc -dumpfullversion)")
TREE_DIRS="bin dev etc proc root sbin sys tmp"
dir_mode() { [ "$1" = tmp ] && echo 1777 || echo 0755; }

# gen_init_cpio from the kernel source: writes a newc cpio from a list file,
# no root needed; -t fixes the mtime of dirs/nodes/symlinks.
gen_init_cpio_tool() {
	local tools=$BUILD/tools src
	mkdir -p "$tools"
	if [ "$(cat "$tools/.version" 2>/dev/null)" != "$KVER" ] || [ ! -x "$tools/gen_init_cpio" ]; then
		src=$KSRC/usr/gen_init_cpio.c
		if [ "$(cat "$KSRC/.mvm-source-version" 2>/dev/null)" != "$KVER" ]; then
			run "$LOGS/initramfs.log" tar -xJf "$KSRC_TARBALL" -C "$tools" --strip-components=2 \
				linux-source-6.1/usr/gen_init_cpio.c
			src=$tools/gen_init_cpio.c
		fi
		run "$LOGS/initramfs.log" cc -O2 -o "$tools/gen_init_cpio" "$src"
		printf '%s\n' "$KVER" >"$tools/.version"
	fi
	echo "$tools/gen_init_cpio"
}

build_initramfs() {
	local stage=$BUILD/initramfs-stage list tool d a
	: >"$LOGS/initramfs.log"
	say "initramfs.cpio: packing busybox-static $BBVER and init/init"
	tool=$(gen_init_cpio_tool)
	rm -rf "$stage"
	mkdir -p "$stage"
	# gen_init_cpio takes a regular file's mtime from the file: pin it.
	cp "$BUSYBOX" "$stage/busybox"
	cp "$INIT" "$stage/init"
	touch -d "@$TREE_EPOCH" "$stage/busybox" "$stage/init"
	list=$BUILD/initramfs.list
	{
		for d in $TREE_DIRS; do echo "dir /$d $(dir_mode "$d") 0 0"; done
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "nod /dev/null 0666 0 0 c 1 3"
		echo "file /bin/busybox $stage/busybox 0755 0 0"
		for a in $APPLETS; do echo "slink /bin/$a busybox 0777 0 0"; done
		echo "file /init $stage/init 0755 0 0"
	} >"$list"
	"$tool" -t "$TREE_EPOCH" "$list" >"$OUT/initramfs.cpio.tmp" 2>>"$LOGS/initramfs.log" ||
		die "gen_init_cpio failed (see $LOGS/initramfs.log)"
	mv -f "$OUT/initramfs.cpio.tmp" "$OUT/initramfs.cpio"
	stamp initramfs.cpio "$initramfs_hash"
	say "initramfs.cpio: $(stat -c %s "$OUT/initramfs.cpio") B"
}

# The rootfs digest: sha256 of a sorted listing "path type mode sha256|target".
rootfs_listing() {
	(
		cd "$OUT/rootfs"
		find . -mindepth 1 -printf '%P\n' | sort | while IFS= read -r p; do
			if [ -L "$p" ]; then
				printf '/%s l %s %s\n' "$p" "$(stat -c %a "$p")" "$(readlink "$p")"
			elif [ -f "$p" ]; then
				printf '/%s f %s %s\n' "$p" "$(stat -c %a "$p")" "$(sha "$p")"
			elif [ -d "$p" ]; then
				printf '/%s d %s\n' "$p" "$(stat -c %a "$p")"
			else
				printf '/%s %s\n' "$p" "$(stat -c '%F %a %t:%T' "$p")"
			fi
		done
	)
}
rootfs_digest() { rootfs_listing | sha256sum | cut -c1-64; }
build_rootfs() {
	local tmp=$OUT/.rootfs.tmp d a
	say "rootfs: populating with busybox-static $BBVER and init/init"
	rm -rf "$tmp" "$OUT/.rootfs.old"
	mkdir "$tmp"
	for d in $TREE_DIRS; do mkdir -m "$(dir_mode "$d")" "$tmp/$d"; done
	cp "$BUSYBOX" "$tmp/bin/busybox"
	cp "$INIT" "$tmp/init"
	chmod 0755 "$tmp/bin/busybox" "$tmp/init" "$tmp"
	for a in $APPLETS; do ln -s busybox "$tmp/bin/$a"; done
	[ "$(id -u)" != 0 ] || chown -hR 0:0 "$tmp"
	find "$tmp" -depth -exec touch -h -d "@$TREE_EPOCH" {} +
	if [ -e "$OUT/rootfs" ]; then mv "$OUT/rootfs" "$OUT/.rootfs.old"; fi
	mv "$tmp" "$OUT/rootfs"
	rm -rf "$OUT/.rootfs.old"
	rootfs_digest >"$STAMPS/rootfs.digest"
	stamp rootfs "$tree_hash"
}

if up_to_date initramfs.cpio "$initramfs_hash" initramfs.cpio; then
	say "initramfs.cpio: up to date"
else
	build_initramfs
fi
# A directory is easily changed in place (e.g. by a chroot): check its content.
if up_to_date rootfs "$tree_hash" rootfs/init rootfs/bin/busybox &&
	[ "$(rootfs_digest)" = "$(cat "$STAMPS/rootfs.digest" 2>/dev/null)" ]; then
	say "rootfs: up to date"
else
	build_rootfs
fi

# --- 5. manifest.json ---------------------------------------------------------
# entry NAME SHA BYTES "pkg=ver"... (pkgs sorted): one JSON object, keys sorted.
entry() {
	local name=$1 digest=$2 bytes=$3 first=1 kv
	shift 3
	printf '    "%s": {\n      "bytes": %s,\n      "from": {' "$name" "$bytes"
	for kv in "$@"; do
		[ $first = 1 ] || printf ','
		printf '\n        "%s": "%s"' "${kv%%=*}" "${kv#*=}"
		first=0
	done
	printf '\n      },\n      "path": "%s",\n      "sha256": "%s"\n    }' "$name" "$digest"
}
file_entry() { local f=$1; shift; entry "$f" "$(sha "$OUT/$f")" "$(stat -c %s "$OUT/$f")" "$@"; }

manifest() {
	local rootfs_bytes
	rootfs_bytes=$(find "$OUT/rootfs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	printf '{\n  "outputs": {\n'
	file_entry bzImage "linux-source-6.1=$KVER"
	printf ',\n'
	file_entry initramfs.cpio "busybox-static=$BBVER" "linux-source-6.1=$KVER"
	printf ',\n'
	entry rootfs "$(rootfs_digest)" "$rootfs_bytes" "busybox-static=$BBVER"
	printf ',\n'
	file_entry stock-vmlinuz "$STOCK_PKG=$STOCK_VER"
	printf ',\n'
	file_entry vmlinux "linux-source-6.1=$KVER"
	printf '\n  },\n  "schema": 1\n}\n'
}

manifest >"$OUT/manifest.json.tmp"
if cmp -s "$OUT/manifest.json.tmp" "$OUT/manifest.json"; then
	rm -f "$OUT/manifest.json.tmp"
	say "manifest.json: up to date"
else
	mv -f "$OUT/manifest.json.tmp" "$OUT/manifest.json"
	say "manifest.json: written"
fi
