#!/bin/bash
# test_pkgconfig.sh: an app outside the repository builds against the installed libnom and
# nomnet, as a user would: cmake --install into a fresh prefix, then a new folder with a
# CMake project that finds them with pkg-config (nom.pc, nomnet.pc), builds, and runs; the
# program opens a nom instance that does not exist and must get libnom's own error for it,
# and it references nomnet so that the stack links too.
set -eu
. "$RAAS_SOURCE_DIR/tests/nom/lib.sh"
need /cmake /pkg-config /cc
BUILD=$(dirname "$B")
cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 || fail "install: $(tail -3 "$T/install.log")"
for f in lib/libnom.a lib/libnomnet.a lib/pkgconfig/nom.pc lib/pkgconfig/nomnet.pc \
	include/nom/nom.h include/nom/net.h include/bb/bb_layout.h; do
	[ -e "$T/prefix/$f" ] || fail "not installed: $f"
done
mkdir "$T/app"
cat >"$T/app/main.c" <<'EOF2'
#include <stdio.h>
#include <nom/nom.h>
#include <nom/net.h>
int main(void)
{
	struct nom *n;
	int r = nom_open("pkgconfig-test-no-such-instance", NULL, &n);
	printf("nom_open: %d %s; nomnet_create at %p\n", r, nom_strerror(r), (void *)nomnet_create);
	return r < 0 ? 0 : 1;
}
EOF2
cat >"$T/app/CMakeLists.txt" <<'EOF2'
cmake_minimum_required(VERSION 3.16)
project(myapp C)
find_package(PkgConfig REQUIRED)
pkg_check_modules(NOM REQUIRED IMPORTED_TARGET nom nomnet)
add_executable(myapp main.c)
target_link_libraries(myapp PRIVATE PkgConfig::NOM)
EOF2
(cd "$T/app" && PKG_CONFIG_PATH=$T/prefix/lib/pkgconfig cmake -S . -B build >"$T/cfg.log" 2>&1) ||
	fail "configure: $(tail -5 "$T/cfg.log")"
cmake --build "$T/app/build" >"$T/build.log" 2>&1 || fail "build: $(tail -15 "$T/build.log")"
out=$("$T/app/build/myapp") || fail "myapp: $out"
log "  $out"
echo "$out" | grep -q "^nom_open: -[0-9]" || fail "nom_open did not fail as expected: $out"
log "ok"
