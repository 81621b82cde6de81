#!/bin/sh
# Builds newlib for x86_64-elf with the host gcc into DIR, once.
# Usage: build-newlib.sh TARBALL DIR JOBS CFLAGS CONFIGURE_FLAGS...
# Runs under a lock so parallel `make` invocations never build the same tree
# twice; a finished tree (DIR/.installed) is left alone.
set -eu
tarball=$1 dir=$(realpath -m "$2") jobs=$3 cflags=$4
shift 4
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
[ -f "$dir/.installed" ] && exit 0

echo "  NEWLIB  $tarball -> $dir (about 2 minutes, once)"
rm -rf "$dir" && mkdir -p "$dir/src" "$dir/obj"
tar -xf "$tarball" -C "$dir/src" --strip-components=1
prefix=$dir/install

step() { # step NAME COMMAND...: run quietly, show the log's tail on failure
	name=$1; shift
	if ! "$@" > "$dir/obj/$name.log" 2>&1; then
		tail -20 "$dir/obj/$name.log"
		echo "newlib $name failed: see $dir/obj/$name.log" >&2
		exit 1
	fi
}

cd "$dir/obj"
step configure ../src/configure "$@" --prefix="$prefix" \
	CC_FOR_TARGET=gcc AR_FOR_TARGET=ar AS_FOR_TARGET=as LD_FOR_TARGET=ld \
	RANLIB_FOR_TARGET=ranlib NM_FOR_TARGET=nm STRIP_FOR_TARGET=strip \
	OBJCOPY_FOR_TARGET=objcopy OBJDUMP_FOR_TARGET=objdump \
	READELF_FOR_TARGET=readelf CFLAGS_FOR_TARGET="$cflags"
step build env MAKEFLAGS= make -j"$jobs" all-target-newlib
step install env MAKEFLAGS= make install-target-newlib
cd / && rm -rf "$dir/src" "$dir/obj"
touch "$dir/.installed"
