#!/usr/bin/env bash
# Builds the guest images of mvm into images/out/ (or $MVM_IMAGES_OUT, or
# --out DIR), reproducibly and only when their inputs changed:
#   vmlinux, bzImage   minimal kernel: Debian's linux-source-$KERNEL_SERIES,
#                      tinyconfig + kernel/minimal.config
#   stock-vmlinuz      the Debian cloud kernel, unpacked from its package
#   initramfs.cpio     static busybox + init/init (newc cpio, built without root)
#   rootfs/            the same tree as a directory, for the runc container
#   image-init         init/image-init: mvm's init inside a user's OCI image
#   manifest.json      sha256, size and Debian package versions of each output
# With --debian-oci, only this output (nothing above, no manifest):
#   debian-oci/        OCI image layout of a slim Debian 12 (bookworm; debootstrap
#                      minbase + python3-minimal, docs/man/locales removed),
#                      one layer, two tags: true (cmd /bin/true) and python
#                      (cmd python3 -c pass). Needs root, debootstrap, umoci,
#                      debian-archive-keyring and Debian's mirror (the one apt
#                      uses, else deb.debian.org; the .debs stay in
#                      out/cache/debootstrap). Its stamp holds the tool
#                      versions, not the packages': to take newer Debian
#                      packages, delete out/debian-oci. Same packages, same
#                      digests: the epoch below is the images' creation time
#                      and the mtime of whatever the install wrote; files
#                      from .debs keep their packages' mtimes.
# Each output has a stamp in out/.stamps holding the sha256 of its inputs: the
# code of the functions that make it (as `declare -f` prints them, so comments
# and layout do not count), the config fragment, the init script, package and
# tool versions, the epoch. A matching stamp means "up to date"; a change
# rebuilds only the outputs it feeds.
# stock-vmlinuz: its stamp also records the package and version it came from,
# so while the file and its stamp are there apt is not asked at all. To take
# the newest cloud kernel apt knows, pass --refresh-stock (or delete
# out/stock-vmlinuz); it is downloaded only if the version changed.
# SOURCE_DATE_EPOCH, when set (seconds since 1970), is the mtime of every
# initramfs/rootfs entry and the kernel's build timestamp; unset, these are
# 2023-06-10 (Debian 12's release) and the mtime of the kernel source's
# Makefile. Needs (Debian 12): linux-source-$KERNEL_SERIES bc flex bison
# libelf-dev libssl-dev lz4 busybox-static build-essential, and apt lists that
# know linux-image-cloud-amd64. Installs nothing itself.
set -euo pipefail

# The kernel series: names the source package, its tarball and tree.
KERNEL_SERIES=6.1
KSRC_PKG=linux-source-$KERNEL_SERIES
KSRC_TARBALL=/usr/src/$KSRC_PKG.tar.xz
STOCK_META_PKG=linux-image-cloud-amd64
BUSYBOX=/bin/busybox
# Fixed mtime of every initramfs/rootfs entry (2023-06-10, Debian 12's release)
# unless SOURCE_DATE_EPOCH is set.
DEFAULT_TREE_EPOCH=1686355200
# Applets /init uses (plus a few for poking around a guest); symlinks in /bin.
# dd, sha256sum, readlink, id: the workloads and the isolation probe.
APPLETS="sh mount umount cat echo printf uname nproc sleep reboot ls grep awk dd sha256sum readlink id"
# Both trees hold these directories; /dev nodes only in the initramfs (the VM
# needs /dev/console before /init runs; an OCI runtime creates /dev itself).
TREE_DIRS="bin dev etc proc root sbin sys tmp"
# debian-oci: what debootstrap installs, and the images' fixed config.
DEBIAN_SUITE=bookworm
DEBIAN_ARCH=amd64
DEBIAN_VARIANT=minbase
DEBIAN_INCLUDE=python3-minimal
DEBIAN_MIRROR_DEFAULT=http://deb.debian.org/debian
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
DEBIAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$HERE/kernel/minimal.config
INIT=$HERE/init/init
IMAGE_INIT=$HERE/init/image-init

usage() {
	echo "usage: $0 [--out DIR] [--refresh-stock | --debian-oci]   (default: \$MVM_IMAGES_OUT or images/out)"
	echo "  --debian-oci   build only debian-oci/ (Debian $DEBIAN_SUITE as an OCI image layout; as root)"
}

parse_args() {
	OUT=${MVM_IMAGES_OUT:-$HERE/out}
	REFRESH_STOCK=0
	DEBIAN_OCI=0
	while [ $# -gt 0 ]; do
		case $1 in
		--out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift 2 ;;
		--out=*) OUT=${1#--out=}; shift ;;
		--refresh-stock) REFRESH_STOCK=1; shift ;;
		--debian-oci) DEBIAN_OCI=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
	done
	if [ "$DEBIAN_OCI" = 1 ] && [ "$REFRESH_STOCK" = 1 ]; then
		echo "$0: --debian-oci builds only debian-oci/: --refresh-stock does not go with it" >&2
		exit 2
	fi
}

say() { printf 'images: %s\n' "$*"; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

# SOURCE_DATE_EPOCH (reproducible-builds.org): empty or unset means the
# defaults. At most 2^32-1: a newc cpio holds an mtime in 8 hex digits.
check_epoch() {
	local e=${SOURCE_DATE_EPOCH:-}
	EPOCH=
	if [ -n "$e" ]; then
		if [[ ! $e =~ ^[0-9]{1,10}$ ]] || [ $((10#$e)) -gt 4294967295 ]; then
			die "SOURCE_DATE_EPOCH must be a non-negative integer of seconds (at most 4294967295), not '$e'"
		fi
		EPOCH=$((10#$e))
	fi
	TREE_EPOCH=${EPOCH:-$DEFAULT_TREE_EPOCH}
}

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

check_prereqs() {
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
	need_file "$KSRC_TARBALL" "$KSRC_PKG"
	need_file "$BUSYBOX" busybox-static

	KVER=$(pkg_version "$KSRC_PKG")
	BBVER=$(pkg_version busybox-static)

	[ -f "$FRAGMENT" ] || die "missing $FRAGMENT"
	[ -f "$INIT" ] || die "missing $INIT"
}

# --debian-oci needs only these (root is checked when it builds).
check_debian_prereqs() {
	need_cmd dpkg-query dpkg
	need_cmd sha256sum coreutils
	need_cmd flock util-linux
	need_cmd debootstrap debootstrap
	need_cmd umoci umoci
	need_cmd chroot coreutils
	need_file "$DEBIAN_KEYRING" debian-archive-keyring
	DBSVER=$(pkg_version debootstrap)
	UMOCIVER=$(pkg_version umoci)
}

# Output folder, its subfolders, and the lock against a concurrent build.sh.
setup_out() {
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	BUILD=$OUT/build
	STAMPS=$OUT/.stamps
	LOGS=$OUT/logs
	CACHE=$OUT/cache
	KSRC=$BUILD/linux-$KERNEL_SERIES
	KLOG=$LOGS/kernel.log
	mkdir -p "$BUILD" "$STAMPS" "$LOGS" "$CACHE"

	exec 9>"$OUT/.lock"
	flock -n 9 || { say "waiting for another build.sh working on $OUT"; flock 9; }
	say "output folder: $OUT"
	NCPU=$(nproc)
}

# --- helpers ------------------------------------------------------------------
sha() { sha256sum "$1" | cut -c1-64; }
# sha256 over "key=value" lines: the identity of an output's inputs.
inputs_hash() { printf '%s\n' "$@" | sha256sum | cut -c1-64; }
# code_hash FN...: sha256 of the functions' code as bash prints it, without
# comments and in bash's own layout: the part of this script a step runs.
code_hash() {
	local f
	for f; do declare -F "$f" >/dev/null || die "code_hash: no function $f"; done
	declare -f "$@" | sha256sum | cut -c1-64
}
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

# --- 1. minimal kernel: vmlinux + bzImage -------------------------------------
kernel_step() {
	local code tools hash
	code=$(code_hash kernel_step build_kernel verify_config uname_of install_file)
	tools="gcc=$(gcc -dumpfullversion) ld=$(ld --version | sed -n 1p) lz4=$(lz4 -V 2>&1 | sed -n 1p)"
	# "source": the build date is the source's Makefile mtime (see build_kernel).
	hash=$(inputs_hash "code=$code" "fragment=$(sha "$FRAGMENT")" \
		"$KSRC_PKG=$KVER" "tools=$tools" "epoch=${EPOCH:-source}")
	if up_to_date kernel "$hash" vmlinux bzImage; then
		say "vmlinux, bzImage: up to date"
	else
		build_kernel "$hash"
	fi
}

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

# build_kernel HASH: build, install vmlinux and bzImage, stamp them with HASH.
build_kernel() {
	local hash=$1 t0=$SECONDS epoch
	: >"$KLOG"
	# The tree is reused (incremental make) while the source package is the same.
	if [ "$(cat "$KSRC/.mvm-source-version" 2>/dev/null)" != "$KVER" ]; then
		say "kernel: extracting $KSRC_PKG $KVER into ${KSRC#"$OUT"/}"
		rm -rf "$KSRC" "$KSRC.tmp"
		mkdir -p "$KSRC.tmp"
		run "$KLOG" tar -xJf "$KSRC_TARBALL" -C "$KSRC.tmp" --strip-components=1
		# Default build date = the source's own Makefile mtime (fixed by the package).
		stat -c %Y "$KSRC.tmp/Makefile" >"$KSRC.tmp/.mvm-source-epoch"
		printf '%s\n' "$KVER" >"$KSRC.tmp/.mvm-source-version"
		mv "$KSRC.tmp" "$KSRC"
	fi
	epoch=${EPOCH:-$(cat "$KSRC/.mvm-source-epoch")}
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
	stamp kernel "$hash"
	say "kernel: built $(uname_of) in $((SECONDS - t0)) s (bzImage $(stat -c %s "$OUT/bzImage") B, vmlinux $(stat -c %s "$OUT/vmlinux") B)"
}
uname_of() { cat "$KSRC/include/config/kernel.release"; }

# --- 2. Debian's cloud kernel ------------------------------------------------------
# The stamp holds two lines: the inputs hash, then "PACKAGE VERSION" of the
# kernel installed. Apt is asked only when that does not match the file there
# (or with --refresh-stock); sets STOCK_PKG and STOCK_VER for the manifest.
stock_step() {
	local code hash pkg='' ver=''
	code=$(code_hash stock_step resolve_stock build_stock install_file)
	if [ "$REFRESH_STOCK" = 0 ] && [ -f "$STAMPS/stock-vmlinuz" ]; then
		{ read -r hash && read -r pkg ver; } <"$STAMPS/stock-vmlinuz" || true
		if [ -n "$pkg" ] && [ -n "$ver" ] &&
			up_to_date stock-vmlinuz "$(inputs_hash "code=$code" "$pkg=$ver")"$'\n'"$pkg $ver" stock-vmlinuz; then
			STOCK_PKG=$pkg STOCK_VER=$ver
			say "stock-vmlinuz: up to date"
			return
		fi
	fi
	resolve_stock
	hash=$(inputs_hash "code=$code" "$STOCK_PKG=$STOCK_VER")$'\n'"$STOCK_PKG $STOCK_VER"
	if up_to_date stock-vmlinuz "$hash" stock-vmlinuz; then
		say "stock-vmlinuz: up to date"
	else
		build_stock "$hash"
	fi
}

# The package the cloud metapackage depends on, and its candidate version.
resolve_stock() {
	STOCK_PKG=$(apt-cache depends "$STOCK_META_PKG" 2>/dev/null | awk '$1 == "Depends:" && !n++ { print $2 }') || true
	[ -n "$STOCK_PKG" ] || die "apt does not know $STOCK_META_PKG: run apt-get update"
	STOCK_VER=$(apt-cache policy "$STOCK_PKG" | awk '$1 == "Candidate:" && !n++ { print $2 }')
	case $STOCK_VER in "" | "(none)") die "no candidate version of $STOCK_PKG: run apt-get update" ;; esac
}

# build_stock STAMP: download (unless cached) and unpack the kernel, stamp it.
build_stock() {
	local stamp_text=$1 debs=$CACHE/debs deb tmp log=$LOGS/stock-vmlinuz.log
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
	{ [ $# -eq 1 ] && [ -f "$1" ]; } || die "expected exactly one /boot/vmlinuz-* in $deb"
	install_file "$1" stock-vmlinuz
	rm -rf "$tmp"
	stamp stock-vmlinuz "$stamp_text"
	say "stock-vmlinuz: ${1##*/} ($(stat -c %s "$OUT/stock-vmlinuz") B)"
}

# --- 3. initramfs.cpio and 4. rootfs/ -------------------------------------------
# What both trees are made of.
tree_inputs() {
	printf '%s\n' "init=$(sha "$INIT")" "busybox=$BUSYBOX" "busybox-static=$BBVER" \
		"applets=$APPLETS" "dirs=$TREE_DIRS" "epoch=$TREE_EPOCH"
}
dir_mode() { [ "$1" = tmp ] && echo 1777 || echo 0755; }

initramfs_step() {
	local code hash
	code=$(code_hash initramfs_step tree_inputs dir_mode gen_init_cpio_tool build_initramfs)
	hash=$(inputs_hash "code=$code" "$(tree_inputs)" "$KSRC_PKG=$KVER" "cc=$(gcc -dumpfullversion)")
	if up_to_date initramfs.cpio "$hash" initramfs.cpio; then
		say "initramfs.cpio: up to date"
	else
		build_initramfs "$hash"
	fi
}

# gen_init_cpio from the kernel source: writes a newc cpio from a list file,
# no root needed; -t fixes the mtime of dirs/nodes/symlinks.
gen_init_cpio_tool() {
	local tools=$BUILD/tools src
	mkdir -p "$tools"
	if [ "$(cat "$tools/.version" 2>/dev/null)" != "$KVER" ] || [ ! -x "$tools/gen_init_cpio" ]; then
		src=$KSRC/usr/gen_init_cpio.c
		if [ "$(cat "$KSRC/.mvm-source-version" 2>/dev/null)" != "$KVER" ]; then
			run "$LOGS/initramfs.log" tar -xJf "$KSRC_TARBALL" -C "$tools" --strip-components=2 \
				"$KSRC_PKG/usr/gen_init_cpio.c"
			src=$tools/gen_init_cpio.c
		fi
		run "$LOGS/initramfs.log" cc -O2 -o "$tools/gen_init_cpio" "$src"
		printf '%s\n' "$KVER" >"$tools/.version"
	fi
	echo "$tools/gen_init_cpio"
}

# build_initramfs HASH: write initramfs.cpio, stamp it with HASH.
build_initramfs() {
	local hash=$1 stage=$BUILD/initramfs-stage list tool d a
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
	stamp initramfs.cpio "$hash"
	say "initramfs.cpio: $(stat -c %s "$OUT/initramfs.cpio") B"
}

rootfs_step() {
	local code hash
	code=$(code_hash rootfs_step tree_inputs dir_mode rootfs_listing rootfs_digest build_rootfs)
	hash=$(inputs_hash "code=$code" "$(tree_inputs)")
	# A directory is easily changed in place (e.g. by a chroot): check its content.
	if up_to_date rootfs "$hash" rootfs/init rootfs/bin/busybox &&
		[ "$(rootfs_digest)" = "$(cat "$STAMPS/rootfs.digest" 2>/dev/null)" ]; then
		say "rootfs: up to date"
	else
		build_rootfs "$hash"
	fi
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

# build_rootfs HASH: populate rootfs/ (replaced whole), stamp it with HASH.
build_rootfs() {
	local hash=$1 tmp=$OUT/.rootfs.tmp d a
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
	stamp rootfs "$hash"
}

# image-init: mvm's init for a user's OCI image (`mvm compare --image` puts
# it in the image's tree as /.mvm/init, beside rootfs/bin/busybox). A copy
# of the script, so that an installed mvm finds it beside the other images.
image_init_step() {
	if cmp -s "$IMAGE_INIT" "$OUT/image-init"; then
		say "image-init: up to date"
		return
	fi
	[ -f "$IMAGE_INIT" ] || die "missing $IMAGE_INIT"
	install_file "$IMAGE_INIT" image-init
	chmod 0755 "$OUT/image-init"
	touch -d "@$TREE_EPOCH" "$OUT/image-init"
	say "image-init: copied"
}

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
	file_entry bzImage "$KSRC_PKG=$KVER"
	printf ',\n'
	file_entry image-init "busybox-static=$BBVER"
	printf ',\n'
	file_entry initramfs.cpio "busybox-static=$BBVER" "$KSRC_PKG=$KVER"
	printf ',\n'
	entry rootfs "$(rootfs_digest)" "$rootfs_bytes" "busybox-static=$BBVER"
	printf ',\n'
	file_entry stock-vmlinuz "$STOCK_PKG=$STOCK_VER"
	printf ',\n'
	file_entry vmlinux "$KSRC_PKG=$KVER"
	printf '\n  },\n  "schema": 1\n}\n'
}

write_manifest() {
	manifest >"$OUT/manifest.json.tmp"
	if cmp -s "$OUT/manifest.json.tmp" "$OUT/manifest.json"; then
		rm -f "$OUT/manifest.json.tmp"
		say "manifest.json: up to date"
	else
		mv -f "$OUT/manifest.json.tmp" "$OUT/manifest.json"
		say "manifest.json: written"
	fi
}

# --- 6. debian-oci/ (only with --debian-oci) -----------------------------------
# debootstrap minbase + python3-minimal, slimmed as Docker's debian:*-slim
# images are (debuerreotype's .slimify-excludes), packed by umoci into one
# layer tagged twice. Reproducible for the same Debian packages: see
# debian_fix_tree.
debian_oci_step() {
	local code hash
	code=$(code_hash debian_oci_step debian_mirror unmount_under build_debian_oci \
		debian_slim debian_fix_tree debian_check_tree debian_tag)
	hash=$(inputs_hash "code=$code" "epoch=$TREE_EPOCH" "debootstrap=$DBSVER" "umoci=$UMOCIVER" \
		"suite=$DEBIAN_SUITE" "arch=$DEBIAN_ARCH" "variant=$DEBIAN_VARIANT" "include=$DEBIAN_INCLUDE" \
		"path=$DEBIAN_PATH")
	# umoci rewrites index.json when a tag changes: check it is the one built.
	if up_to_date debian-oci "$hash" debian-oci/oci-layout debian-oci/index.json &&
		[ "$(sha "$OUT/debian-oci/index.json")" = "$(cat "$STAMPS/debian-oci.index" 2>/dev/null)" ]; then
		say "debian-oci: up to date"
	else
		build_debian_oci "$hash"
	fi
}

# The mirror apt uses for the suite (one-line or deb822 sources), else Debian's
# own. No network: only the host's configuration is read.
debian_mirror() {
	local f uri=''
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk -v s="$DEBIAN_SUITE" '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == s) { print $i; exit }
		}' "$f")
		[ -z "$uri" ] || break
	done
	if [ -z "$uri" ]; then
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			uri=$(awk -v s="$DEBIAN_SUITE" 'BEGIN { RS = "" } {
				types = suites = uris = ""; enabled = "yes"
				n = split($0, l, "\n")
				for (j = 1; j <= n; j++) {
					if (l[j] ~ /^#/ || l[j] !~ /:/) continue
					k = tolower(l[j]); sub(/:.*/, "", k)
					v = l[j]; sub(/^[^:]*:[ \t]*/, "", v)
					if (k == "types") types = " " v " "
					else if (k == "suites") suites = " " v " "
					else if (k == "uris") uris = v
					else if (k == "enabled") enabled = tolower(v)
				}
				if (enabled != "no" && types ~ / deb / && index(suites, " " s " ")) {
					split(uris, u, /[ \t]+/); print u[1]; exit
				}
			}' "$f")
			[ -z "$uri" ] || break
		done
	fi
	case $uri in
	http://* | https://* | file:/*) printf '%s\n' "${uri%/}" ;;
	*) printf '%s\n' "$DEBIAN_MIRROR_DEFAULT" ;;
	esac
}

# debootstrap mounts /proc and /sys in its target; an interrupted run leaves
# them there, and rm -rf must not walk into them.
unmount_under() {
	local dir=$1 m
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd -P)
	awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# debian_slim ROOT: what a slim image leaves out, and what the build wrote
# that is not the same on every run or host.
debian_slim() {
	local r=$1 f
	# Docker's slim variants (debuerreotype's .slimify-excludes): the dirs stay.
	for f in usr/share/doc usr/share/man usr/share/locale usr/share/info \
		usr/share/groff usr/share/linda usr/share/lintian/overrides \
		var/cache/apt var/lib/apt/lists; do
		[ ! -d "$r/$f" ] || find "$r/$f" -mindepth 1 -delete
	done
	# Logs (dpkg.log, alternatives.log, apt/*: dated lines); dirs stay.
	find "$r/var/log" -type f -delete
	# ldconfig's cache of mtimes; backups dpkg and debconf keep of their state.
	rm -f "$r/var/cache/ldconfig/aux-cache" "$r/run/mount/utab" \
		"$r"/var/lib/dpkg/*-old "$r"/var/cache/debconf/*-old
	# Copied from the host by debootstrap; an OCI runtime or the VM's init
	# provides these.
	rm -f "$r/etc/hostname" "$r/etc/resolv.conf" "$r/etc/machine-id"
	# debootstrap writes the mirror it used: name Debian's own, on any host.
	printf 'deb %s %s main\n' "$DEBIAN_MIRROR_DEFAULT" "$DEBIAN_SUITE" >"$r/etc/apt/sources.list"
	# Device nodes debootstrap made: runtimes mount their own /dev.
	find "$r/dev" -mindepth 1 -delete
	# Last password change is today's date in days (bugs.debian.org/857803):
	# clamp to the epoch, as debuerreotype does.
	for f in etc/shadow etc/shadow-; do
		[ -f "$r/$f" ] || continue
		awk -F: -v OFS=: -v d=$((TREE_EPOCH / 86400)) '$3 > d { $3 = d } { print }' "$r/$f" >"$r/$f.new"
		cat "$r/$f.new" >"$r/$f"
		rm -f "$r/$f.new"
	done
}

# debian_fix_tree ROOT MARK: every entry the build wrote or changed (newer
# than MARK) gets TREE_EPOCH as its mtime. Files unpacked from .debs keep the
# mtime their package gives them, which is the same on every build of the
# same version: Python's .pyc files check it against their .py, so setting
# those to the epoch would leave every cached module stale.
debian_fix_tree() {
	local r=$1 mark=$2
	chown 0:0 "$r"
	chmod 0755 "$r"
	find "$r" -newer "$mark" -exec touch -h -d "@$TREE_EPOCH" {} +
	touch -h -d "@$TREE_EPOCH" "$r"
}

# The two commands the images run, with nothing from the host's environment.
# python3 must find every module cached: it writes no .pyc into the tree
# (none newer than MARK, which this makes).
debian_check_tree() {
	local r=$1 log=$2 mark=$3
	touch "$mark"
	run "$log" env -i PATH="$DEBIAN_PATH" chroot "$r" /bin/true
	run "$log" env -i PATH="$DEBIAN_PATH" chroot "$r" python3 -c pass
	if [ -n "$(find "$r" -newer "$mark" -name '*.pyc' -print -quit)" ]; then
		die "debian-oci: python3 rewrote cached modules in the tree (stale .pyc files)"
	fi
}

# debian_tag LAYOUT FROM TAG CMD...: TAG = FROM with this config and CMD.
debian_tag() {
	local layout=$1 from=$2 tag=$3 created a cmd=()
	shift 3
	created=$(date -u -d "@$TREE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
	for a; do cmd+=(--config.cmd "$a"); done
	run "$LOGS/debian-oci.log" umoci config --image "$layout:$from" --tag "$tag" \
		--architecture "$DEBIAN_ARCH" --os linux --created "$created" \
		--clear config.env --config.env "PATH=$DEBIAN_PATH" --config.workingdir / \
		--clear config.cmd --clear config.entrypoint "${cmd[@]}" \
		--history.created "$created" --history.created_by "CMD $*"
}

# build_debian_oci HASH: make debian-oci/ (replaced whole), stamp it with HASH.
build_debian_oci() {
	local hash=$1 t0=$SECONDS work=$BUILD/debian-oci log=$LOGS/debian-oci.log
	local layout bundle root mirror created
	[ "$(id -u)" = 0 ] || die "--debian-oci must run as root (debootstrap installs packages into a chroot)"
	: >"$log"
	layout=$work/layout bundle=$work/bundle root=$work/bundle/rootfs
	created=$(date -u -d "@$TREE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
	mirror=$(debian_mirror)
	unmount_under "$work"
	rm -rf --one-file-system "$work"
	mkdir -p "$work" "$CACHE/debootstrap"

	run "$log" umoci init --layout "$layout"
	run "$log" umoci new --image "$layout:base"
	run "$log" umoci unpack --image "$layout:base" "$bundle"
	touch "$work/mark"
	say "debian-oci: debootstrap $DEBIAN_VARIANT $DEBIAN_SUITE + $DEBIAN_INCLUDE from $mirror (log: ${log#"$OUT"/})"
	run "$log" env SOURCE_DATE_EPOCH="$TREE_EPOCH" debootstrap --variant="$DEBIAN_VARIANT" \
		--arch="$DEBIAN_ARCH" --include="$DEBIAN_INCLUDE" --force-check-gpg \
		--keyring="$DEBIAN_KEYRING" --cache-dir="$CACHE/debootstrap" \
		"$DEBIAN_SUITE" "$root" "$mirror"
	unmount_under "$root"
	debian_slim "$root"
	debian_check_tree "$root" "$log" "$work/check-mark"
	debian_fix_tree "$root" "$work/mark"
	say "debian-oci: packing $(du -sh "$root" | cut -f1) with umoci"
	run "$log" umoci repack --image "$layout:base" --history.created "$created" --history.created_by \
		"debootstrap --variant=$DEBIAN_VARIANT --include=$DEBIAN_INCLUDE $DEBIAN_SUITE" "$bundle"
	debian_tag "$layout" base true /bin/true
	debian_tag "$layout" base python python3 -c pass
	run "$log" umoci rm --image "$layout:base"
	run "$log" umoci gc --layout "$layout"
	# umoci writes its blobs and index.json 0600: mvm reads them as any user.
	chmod -R a+rX "$layout"

	rm -rf "$OUT/.debian-oci.old"
	if [ -e "$OUT/debian-oci" ]; then mv "$OUT/debian-oci" "$OUT/.debian-oci.old"; fi
	mv "$layout" "$OUT/debian-oci"
	rm -rf "$OUT/.debian-oci.old"
	rm -rf --one-file-system "$work"
	sha "$OUT/debian-oci/index.json" >"$STAMPS/debian-oci.index"
	stamp debian-oci "$hash"
	say "debian-oci: built in $((SECONDS - t0)) s ($(du -sh "$OUT/debian-oci" | cut -f1) on disk; tags: $(umoci ls --layout "$OUT/debian-oci" | paste -sd' '))"
}

main() {
	parse_args "$@"
	export LC_ALL=C TZ=UTC
	umask 022
	check_epoch
	if [ "$DEBIAN_OCI" = 1 ]; then
		check_debian_prereqs
		setup_out
		debian_oci_step
		return
	fi
	check_prereqs
	setup_out
	kernel_step
	stock_step
	initramfs_step
	rootfs_step
	image_init_step
	write_manifest
}

main "$@"
