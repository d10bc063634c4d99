#!/bin/bash
# test_testbed_badinput.sh: a testbed file with an error gets one "FILE:LINE: key: why" line,
# exit 78, and nothing is started: no state folder, no namespace, no board, no process
# (20 cases, 3 of them about vm instances).
#
# Each case is the good file of this test with one line changed (sed), so that the line the
# error must name is known: the case's own line. `raas testbed up` is used (not only check):
# as root it would start things if the file were taken.
set -eu
B=${RAAS_BIN:?}
T=$(mktemp -d /tmp/tbbad-XXXXXX)
NAME=b$(printf '%05d' $(($$ % 100000)))
trap 'rm -rf "$T"' EXIT
export RAAS_TESTBED_DIR=$T/state
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$T/good.ini" <<EOF
[testbed]
name = $NAME
duration = 20s

[market]
round = 500ms

[resource.bandwidth]
model = fixed
params = price=3.6

[resource.cores]
model = fixed
params = price=0.05

[host.h1]
bandwidth_mbit = 300
cores = 2

[tenant.alice]
host = h1
app = memcached
utility = refund
phases = 10s:16, 10s:1
cores = 1
cores_price = \$0.10

[tenant.bob]
host = h1
app = nhttpd
strategy = static
delay_us = 10
load = wrk

[event.cut]
at = 15s
action = host-fail
host = h1

[event.less]
at = 5s
action = supply
host = h1
resource = bandwidth
supply = 100

[event.dear]
at = 12s
action = price
resource = bandwidth
params = price=43.2
EOF
out=$("$B/raas" testbed check "$T/good.ini") || fail "the good file is refused: $out"
echo "good: $out"
echo "$out" | grep -q "1 hosts, 2 tenants, 3 events, 20 s" || fail "check says: $out"

# --help-config comes from the same table as the loading: every key (48), ranges included.
help=$("$B/raas" testbed --help-config) || fail "--help-config failed"
[ "$(echo "$help" | grep -c '^\[')" = 48 ] || fail "--help-config lists $(echo "$help" | grep -c '^\[') keys"
echo "$help" | grep -qx '\[testbed\] net = 213  (1..254)' || fail "--help-config: no net range"
echo "$help" | grep -qx '\[market\] round = 500ms  (10ms..1h)' || fail "--help-config: no round range"
echo "$help" | grep -qx '\[tenant\.\*\] app = (required)' || fail "--help-config: no tenant app"

# case LINE_PATTERN REPLACEMENT KEY WHY [SKIP]: the good file with the line matching
# LINE_PATTERN replaced; the error names that line (SKIP lines further: a section's error is
# at its first key), KEY and WHY.
n=0
case_() {
	pat=$1 repl=$2 key=$3 why=$4 skip=${5:-0}
	line=$(grep -n -m1 -- "$pat" "$T/good.ini" | cut -d: -f1)
	[ -n "$line" ] || fail "no line matches $pat"
	sed "${line}s|.*|$repl|" "$T/good.ini" >"$T/bad.ini"
	line=$((line + skip))
	set +e
	"$B/raas" testbed up "$T/bad.ini" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" = 78 ] || fail "'$repl': exit $rc, not 78: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "'$repl': not one line: $(cat "$T/err")"
	want="$T/bad.ini:$line: $key: "
	case $(cat "$T/err") in
	"$want"*"$why"*) ;;
	*) fail "'$repl': wanted '$want...$why...', got: $(cat "$T/err")" ;;
	esac
	[ ! -e "$T/state" ] || fail "'$repl': a state folder was made"
	! ip netns list 2>/dev/null | grep -q "tb-$NAME" || fail "'$repl': a namespace exists"
	! ls /dev/shm 2>/dev/null | grep -q "nom.tb-$NAME" || fail "'$repl': a board exists"
	! pgrep -f "tb-$NAME" >/dev/null || fail "'$repl': a process of it runs"
	echo "  $(cat "$T/err")"
	n=$((n + 1))
}
case_ '^name =' 'name = Big-Name' testbed.name 'a-z 0-9'
case_ '^duration' 'duration = 20' testbed.duration 'unit'
case_ '^round' 'rounds = 500ms' market.rounds 'round'
# [testbed] and [market] are bound by table (tb_config.c): its ranges give these texts.
case_ '^duration' 'net = 0' testbed.net '0 is outside 1..254'
case_ '^duration' 'duration = 25h' testbed.duration '25h is outside 1s..1d'
case_ '^round' 'round = 5ms' market.round '5ms is outside 10ms..1h'
case_ '^model' 'model = auctionx' resource.bandwidth.model 'no pricing model'
case_ '^params' 'params = price=abc' resource.bandwidth.params 'price'
case_ '^\[resource' '[resource.gpus]' resource.gpus.model 'bandwidth, cores and memory' 1
case_ '^bandwidth_mbit' 'bandwidth_mbit = -5' host.h1.bandwidth_mbit 'not 0-100000'
case_ '^host = h1' 'host = h9' tenant.alice.host 'no [host.h9]'
case_ '^app = memcached' 'app = redis' tenant.alice.app 'not memcached, nhttpd or netpipe'
case_ '^utility' 'utility = linear' tenant.alice.utility 'not penalty, refund or bonus'
case_ '^phases' 'phases = 10s:16, 10:1' tenant.alice.phases 'duration'
case_ '^load = wrk' 'load = NPtcp' tenant.bob.load 'does not drive nhttpd'
case_ '^delay_us' 'delay_us = 5000' tenant.bob.delay_us 'not 0-1000'
case_ '^strategy = static' 'strategy = adaptve' tenant.bob.strategy 'not adaptive'
case_ '^at = 15s' 'at = 25s' event.cut.at 'not inside the run'
case_ '^action' 'action = explode' event.cut.action 'not host-fail'
case_ '^\[tenant.bob' '[tenant.h1]' tenant.h1.app "a host's name" 2
# Cores sold and bid for, supply and price events.
case_ '^cores = 2' 'cores = 2000' host.h1.cores 'not 0-1024'
case_ '^cores = 1' 'cores = 3' tenant.alice.cores 'not 0-2'
case_ '^cores_price' 'cores_price = free' tenant.alice.cores_price 'not a positive amount'
case_ '^cores_price' 'cores_min = 1' tenant.alice.cores 'needs cores_price' -1
case_ '^\[resource.cores' '[resource.memory]' host.h1.cores 'no [resource.cores]' 6
case_ '^supply = 100' 'supply = -1' event.less.supply 'not 0-100000'
case_ '^supply = 100' 'model = fixed' event.less.model 'a supply event takes no model'
case_ '^resource = bandwidth' 'resource = gpus' event.less.resource 'no [resource.gpus]'
case_ '^params = price=43.2' 'params = price=abc' event.dear.params 'price'
case_ '^params = price=43.2' 'host = h1' event.dear.host 'a price event takes no host'
case_ '^action = price' 'action = raise' event.dear.action 'not host-fail, supply or price'
case_ '^params = price=43.2' 'model = auctionx' event.dear.model 'no pricing model'
# instance = vm (test_testbed_vm boots one)
case_ '^utility' 'instance = vmm' tenant.alice.instance 'not process or vm'
case_ '^utility' 'vm_type = xen' tenant.alice.vm_type 'not auto, kvm or qemu'
case_ '^utility' 'instance = vm\njoin = 5s' tenant.alice.join 'joins at 0s' 1
# the profile's rows and nhttpd's file (testbeds/nom-thesis.ini uses both)
case_ '^utility' 'profile_app = memcached kernel' tenant.alice.profile_app 'not 1-31 of'
case_ '^utility' 'http_path = /etc/passwd' tenant.alice.http_path 'not /f16k or /index.html'
case_ '^utility' 'http_path = /index.html' tenant.alice.http_path 'only nhttpd driven by nom-loadgen'
[ "$n" = 38 ] || fail "ran $n cases"
echo "ok: $n bad files refused with their line, nothing started"
