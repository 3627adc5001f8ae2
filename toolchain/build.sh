#!/usr/bin/env bash
# Builds the GOOS=tamago Go toolchain from Go's source and Hachi's port
# (toolchain/README.md), installs it in a cache directory keyed by the port's
# contents and prints the GOROOT on standard output (messages go to stderr).
#
# With --check, it builds nothing: it prints the GOROOT if the toolchain is
# there and fails with a message saying how to get it otherwise.
#
# Environment:
#   TAMAGO=/path/to/bin/go  use that toolchain (e.g. an official tamago-go) instead
#   XDG_CACHE_HOME          cache root (default ~/.cache): hachi/go-tamago-<hash>
#   GO                      bootstrap go command (default: go on PATH)
set -euo pipefail

main() {
	GO_VERSION=1.26.8
	GO_SOURCE_MODULE=golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-amd64

	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	export GOTOOLCHAIN=local

	say() { echo "toolchain: $*" >&2; }
	die() { echo "toolchain: error: $*" >&2; exit 1; }

	if [[ -n "${TAMAGO:-}" ]]; then
		[[ -x "$TAMAGO" ]] || die "TAMAGO=$TAMAGO is not an executable go command"
		goroot=$("$TAMAGO" env GOROOT) || die "TAMAGO=$TAMAGO does not run"
		"$TAMAGO" tool dist list | grep -qx 'tamago/amd64' || die "TAMAGO=$TAMAGO has no GOOS=tamago"
		[[ "${1:-}" == --check ]] || say "using TAMAGO=$TAMAGO ($("$TAMAGO" version))"
		echo "$goroot"
		exit 0
	fi

	bootstrap_go=${GO:-go}
	command -v "$bootstrap_go" >/dev/null || die "no bootstrap go command (set GO=/path/to/go)"

	# The cache key covers every file of the port (this script included).
	hash=$(cd "$here" && find . -type f ! -name '*~' ! -name README.md -print0 | LC_ALL=C sort -z |
		xargs -0 sha256sum | sha256sum | cut -c1-16)
	cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/hachi
	goroot=$cache_root/go-tamago-$hash
	if [[ -f "$goroot/.hachi-complete" ]]; then
		[[ "${1:-}" == --check ]] || say "cached: $goroot"
		echo "$goroot"
		exit 0
	fi
	if [[ "${1:-}" == --check ]]; then
		die "the GOOS=tamago toolchain is not built (expected $goroot): run 'make toolchain', or set TAMAGO=/path/to/tamago-go/bin/go"
	fi

	say "building Go $GO_VERSION with GOOS=tamago into $goroot"
	src=$("$bootstrap_go" mod download -json "$GO_SOURCE_MODULE" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n "$src" && -d "$src/src" ]] || die "go mod download $GO_SOURCE_MODULE gave no source tree"

	mkdir -p "$cache_root"
	work=$(mktemp -d "$cache_root/.go-tamago-build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	cp -r "$src/." "$work/"
	chmod -R u+w "$work"
	# The module zip stores nested modules' go.mod as _go.mod.
	find "$work" -name _go.mod -execdir mv _go.mod go.mod \;

	cd "$work"
	for p in "$here"/patches/*.patch; do
		say "patch $(basename "$p")"
		patch -p1 --forward --quiet < "$p" || die "patch $(basename "$p") does not apply"
	done

	say "new files"
	cp -r "$here/files/src/." "$work/src/"

	# Build constraints: "path" appends "|| tamago", "!path" makes it
	# "(expr) && !tamago".
	while read -r line; do
		[[ -z "$line" || "$line" == \#* ]] && continue
		f=${line#!}
		[[ -f "src/$f" ]] || die "tags.txt: no file src/$f"
		grep -q '^//go:build ' "src/$f" || die "tags.txt: src/$f has no //go:build line"
		if [[ "$line" == !* ]]; then
			sed -i -E '0,/^\/\/go:build /s/^\/\/go:build (.*)$/\/\/go:build (\1) \&\& !tamago/' "src/$f"
		else
			sed -i -E '0,/^\/\/go:build /s/^(\/\/go:build .*)$/\1 || tamago/' "src/$f"
		fi
	done < "$here/tags.txt"

	# Files chosen by name for js/wasm/wasip1 that serve tamago unchanged.
	while read -r from to; do
		[[ -z "$from" || "$from" == \#* ]] && continue
		[[ -f "src/$from" ]] || die "copies.txt: no file src/$from"
		[[ ! -e "src/$to" ]] || die "copies.txt: src/$to exists already"
		# The new name selects GOOS=tamago; a constraint, if any, becomes "tamago".
		sed -E '0,/^\/\/go:build /s/^\/\/go:build .*$/\/\/go:build tamago/' "src/$from" > "src/$to"
	done < "$here/copies.txt"

	say "regenerate internal/goos (GOOS list)"
	(cd src/internal/goos && "$bootstrap_go" run gengoos.go) || die "gengoos.go failed"

	say "make.bash (a few minutes)"
	(cd src && GOROOT_BOOTSTRAP=$("$bootstrap_go" env GOROOT) bash make.bash >&2) || die "make.bash failed"
	bin/go tool dist list | grep -qx 'tamago/riscv64' || die "the new toolchain does not list tamago/riscv64"

	touch .hachi-complete
	cd /
	rm -rf "$goroot"
	mv "$work" "$goroot"
	trap - EXIT
	say "installed: $goroot"
	echo "$goroot"
}

# All of the script is read before it runs (it may be edited meanwhile).
main "$@"
