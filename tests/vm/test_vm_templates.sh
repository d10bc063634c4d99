#!/bin/bash
# test_vm_templates.sh: every `raas app init --template` builds, as a user would, from a fresh
# folder outside the repository against the installed runtime: minimal, http, memcached,
# pingpong each give a main.c that bids through libnom, its utility config and a README;
# `raas app build` compiles it (cmake, pkg-config nom) and makes an image with the app and
# /etc/nom/NAME.ini. An unknown template is refused (exit 64), nothing made. The http one is
# booted and served from the host by test_vm_deploy. Root (the image builder reads /boot).
set -eu
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need /cmake /cc
BUILD=$(dirname "$B")
cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 || fail "cmake --install"
mkdir "$T/work"
cd "$T/work"
n=0
for t in minimal http memcached pingpong; do
	"$B/raas" app init "my$t" --template $t >"$T/init-$t.log" || fail "init $t: $(cat "$T/init-$t.log")"
	for f in main.c CMakeLists.txt my$t.ini README.md; do [ -s "my$t/$f" ] || fail "$t: no $f"; done
	grep -q "nom_acquire" "my$t/main.c" || fail "$t's main.c does not bid"
	grep -q "@APP@\|@TEMPLATE@\|@SUMMARY@" my$t/* && fail "$t: a placeholder is left"
	(cd "my$t" && "$B/raas" app build --prefix "$T/prefix" >"$T/build-$t.log" 2>&1) ||
		fail "raas app build ($t): $(tail -20 "$T/build-$t.log")"
	"$B/raas" image inspect "my$t/build/image" >"$T/inspect-$t.txt" || fail "inspect $t"
	grep -q "^apps     my$t" "$T/inspect-$t.txt" || fail "$t's image has no my$t"
	grep -q "/etc/nom/my$t.ini" "my$t/build/image/manifest" || fail "$t's config is not in the image"
	log "  $t: $(tail -1 "$T/build-$t.log")"
	n=$((n + 1))
done
set +e
"$B/raas" app init other --template redis >"$T/bad.out" 2>"$T/bad.err"
rc=$?
set -e
[ "$rc" = 64 ] && grep -q "template redis: not minimal, http, memcached or pingpong" "$T/bad.err" ||
	fail "an unknown template: exit $rc, $(cat "$T/bad.err")"
[ ! -e other ] || fail "an unknown template left a folder"
log "ok: $n templates built into images"
