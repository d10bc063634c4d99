#!/bin/sh
# test_sim_sweep_slurm.sh: a study swept as a Slurm job array equals the same study swept
# through GNU parallel.
#
# Starts a real single-node Slurm of its own (Debian's slurm-wlm: slurmctld and slurmd, with
# munged for authentication), on free ports, with its configuration, state, spool, logs and
# munge key in /tmp/sim-slurm-PID, and stops it on exit. Then the 12-run study of
# study_lib.sh goes through `raas-sim sweep --slurm --wait` (an sbatch --array of 12 tasks)
# and through `raas-sim sweep --local`; both are merged and the two study files must be equal
# table by table, and hold 12 runs of distinct results. Skips (77) only when not root (slurmd
# and munged need it); a missing package or a daemon that does not start is a failure.
set -u
SIM="${RAAS_BIN:?}/raas-sim"
SRC="${RAAS_SOURCE_DIR:?}"
if [ "$(id -u)" != 0 ]; then
	echo "test_sim_sweep_slurm: skipped: slurmd and munged need root"
	exit 77
fi
for b in slurmctld slurmd munged sbatch sinfo scontrol parallel sqlite3 ss od; do
	command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || {
		echo "FAIL: $b is missing (scripts/install-deps installs slurm-wlm, munge, parallel)"
		exit 1
	}
done
PATH="$PATH:/usr/sbin"
T=/tmp/sim-slurm-$$
mkdir -p "$T/state" "$T/spool" "$T/logs"
chmod 700 "$T"
export SLURM_CONF="$T/slurm.conf"

stop() {
	scontrol shutdown >/dev/null 2>&1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		alive=""
		for p in slurmctld slurmd; do
			[ -s "$T/$p.pid" ] && kill -0 "$(cat "$T/$p.pid")" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.5
	done
	for p in slurmctld slurmd; do
		[ -s "$T/$p.pid" ] && kill "$(cat "$T/$p.pid")" 2>/dev/null
	done
	[ -S "$T/munge.sock" ] && munged -s --socket="$T/munge.sock" >/dev/null 2>&1
	rm -rf "$T"
}
trap stop EXIT INT TERM
die() {
	echo "FAIL: $*"
	for l in munged slurmctld slurmd; do
		[ -f "$T/$l.log" ] && { echo "--- $l.log"; tail -15 "$T/$l.log"; }
	done
	exit 1
}

# A free TCP port on loopback (none listening on it), in the dynamic range.
free_port() {
	while :; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		[ -z "$(ss -Htln "sport = :$p")" ] && [ "$p" != "${1:-}" ] && { echo "$p"; return; }
	done
}

dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$T/munge.key"
munged --key-file="$T/munge.key" --socket="$T/munge.sock" --pid-file="$T/munged.pid" \
	--log-file="$T/munged.log" --seed-file="$T/munged.seed" --force ||
	die "munged did not start"
H=$(hostname -s)
P1=$(free_port)
P2=$(free_port "$P1")
cat >"$SLURM_CONF" <<EOC
ClusterName=raas$$
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=$P1
SlurmdPort=$P2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$H NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=raas Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOC
slurmctld -f "$SLURM_CONF" || die "slurmctld did not start"
slurmd -f "$SLURM_CONF" || die "slurmd did not start"
# Wait (deadline 60 s) for the node to be idle.
i=0
until sinfo -h -o '%t' 2>/dev/null | grep -q '^idle'; do
	i=$((i + 1))
	[ $i -gt 120 ] && die "the node did not become idle: $(sinfo 2>&1)"
	sleep 0.5
done

. "$SRC/sim/tests/study_lib.sh"
write_study "$T" 1-3
"$SIM" sweep "$T/study.ini" --slurm --wait --out "$T/slurm" >"$T/out" 2>"$T/err" ||
	die "sweep --slurm: $(cat "$T/err" "$T/out")"
grep -q "Slurm job [0-9]*, 12 array tasks" "$T/out" || die "sweep --slurm said: $(cat "$T/out")"
grep -q -- "--array=0-11" "$T/slurm/sweep.sbatch" || die "not a 12-task array: $(cat "$T/slurm/sweep.sbatch")"
job=$(cat "$T/slurm/slurm-job.txt")
tasks=$(grep -c "_job_complete: JobId=${job}_[0-9]*(.*) WEXITSTATUS 0" "$T/slurmctld.log")
[ "$tasks" = 12 ] || die "slurmctld completed $tasks array tasks of job $job, not 12"
"$SIM" sweep "$T/study.ini" --local --out "$T/local" >/dev/null 2>"$T/err" ||
	die "sweep --local: $(cat "$T/err")"
"$SIM" merge "$T/slurm" >/dev/null && "$SIM" merge "$T/local" >/dev/null || die "merge"
dump_study "$T/slurm/study.sqlite" >"$T/a.txt"
dump_study "$T/local/study.sqlite" >"$T/b.txt"
cmp -s "$T/a.txt" "$T/b.txt" || die "the Slurm and local studies differ: $(diff "$T/a.txt" "$T/b.txt" | head -20)"
n=$(sqlite3 "$T/slurm/study.sqlite" 'SELECT count(*) FROM study_runs')
d=$(sqlite3 "$T/slurm/study.sqlite" "SELECT count(DISTINCT exact) FROM study_metrics WHERE name = 'revenue'")
[ "$n" = 12 ] && [ "$d" -ge 10 ] || die "$n runs, $d distinct revenues"
echo "test_sim_sweep_slurm: ok (job $job: 12 array tasks; merged study equal to the local sweep's, $(wc -l <"$T/a.txt") rows)"
