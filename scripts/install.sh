#!/usr/bin/env bash
# Installs mvm so that it works from any directory: what it needs (Debian
# packages, guest images: scripts/setup.sh), mvm built in release mode as
# $PREFIX/bin/mvm, its images in $PREFIX/share/mvm/images (where the
# installed mvm finds them by itself), shell completions for bash, zsh and
# fish, and the man page mvm(1). PREFIX defaults to /usr/local. Idempotent:
# a second run rebuilds nothing and copies only what changed.
# MVM_BUILD_CONFIGURATION=debug installs the debug build instead (the test
# command checks an install that way, reusing the tests' build).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${PREFIX:-/usr/local}"
configuration="${MVM_BUILD_CONFIGURATION:-release}"
case "$configuration" in release | debug) ;; *) echo "error: MVM_BUILD_CONFIGURATION must be release or debug" >&2; exit 2 ;; esac

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

bash "$repo/scripts/setup.sh"
cd "$repo"

say "swift build -c $configuration"
set +e
swift build -c "$configuration" 2>&1 | grep --line-buffered -E 'error|warning:|Build complete'
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || die "swift build failed; run 'swift build -c $configuration' to see why"

# The man page, from the same help text as `mvm --help` (argument-parser's
# generate-manual plugin; it reuses the build above).
say "generating the man page"
swift package --allow-writing-to-package-directory generate-manual --configuration "$configuration" >/dev/null 2>"$repo/.build/generate-manual.log" \
  || die "generating the man page failed; see $repo/.build/generate-manual.log"
manual="$repo/.build/plugins/GenerateManual/outputs/mvm/mvm.1"
[ -s "$manual" ] || die "the man page was not generated ($manual is missing)"

binary="$repo/.build/$configuration/mvm"
say "installing $prefix/bin/mvm"
install -D -m 0755 "$binary" "$prefix/bin/mvm"

# The images as they are in images/out: copies, not links, so that the
# checkout can move or go. The manifest (every output's sha256) goes last,
# so it only ever describes images that are all in place; when it is the
# same as the installed one, nothing is copied.
images="$prefix/share/mvm/images"
if cmp -s "$repo/images/out/manifest.json" "$images/manifest.json"; then
  say "guest images already installed in $images"
else
  say "installing the guest images in $images"
  mkdir -p "$images"
  rm -f "$images/manifest.json"
  for file in vmlinux bzImage stock-vmlinuz initramfs.cpio image-init; do
    if [ -e "$repo/images/out/$file" ]; then install -m 0644 "$repo/images/out/$file" "$images/$file"; fi
  done
  rm -rf "$images/rootfs.new"
  cp -a "$repo/images/out/rootfs" "$images/rootfs.new"
  rm -rf "$images/rootfs"
  mv "$images/rootfs.new" "$images/rootfs"
  install -m 0644 "$repo/images/out/manifest.json" "$images/manifest.json"
fi

say "installing shell completions and the man page"
completion() { "$prefix/bin/mvm" --generate-completion-script "$1"; }
install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
  "$prefix/share/fish/vendor_completions.d" "$prefix/share/man/man1"
completion bash >"$prefix/share/bash-completion/completions/mvm"
completion zsh >"$prefix/share/zsh/site-functions/_mvm"
completion fish >"$prefix/share/fish/vendor_completions.d/mvm.fish"
install -m 0644 "$manual" "$prefix/share/man/man1/mvm.1"
command -v mandb >/dev/null && mandb -q "$prefix/share/man" 2>/dev/null || true

say "installed: $("$prefix/bin/mvm" --version) as $prefix/bin/mvm"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on PATH; add it, or run $prefix/bin/mvm" ;;
esac
