# study_lib.sh: what the study tests share (sourced): a small base scenario and study, and a
# canonical dump of a study file for comparing two of them.

# write_study DIR SEEDS: DIR/base.ini (flat tenants bidding for cores on 3 hosts, bids
# recorded) and DIR/study.ini (mechanism x supply x SEEDS).
write_study() {
	cat >"$1/base.ini" <<'EOS'
[sim]
duration = 2h
round = 10m
[hosts]
count = 3
cores = 8
placement = random
[resource.cores]
model = uniform
params = reserve=$0.01
[output]
record_bids = -1
[class.spot]
kind = flat
resource = cores
quantity = 2
value = pareto:$0.02:2
count = 10
lifetime = exp
lifetime_mean = 40m
arrival_mean = 5m
[class.batch]
kind = flat
resource = cores
quantity = 3
min_quantity = 1
value = uniform:$0.01:$0.06
count = 4
EOS
	cat >"$1/study.ini" <<EOS
; the study of the sweep tests
[study]
name = tiny
scenario = base.ini
seeds = $2
[set]
sim.round = 5m
[axis.mechanism]
uniform = resource.cores.model=uniform; resource.cores.params=reserve=\$0.01
vcg = resource.cores.model=vcg; resource.cores.params=reserve=\$0.01
[axis.supply]
scarce = hosts.cores=4
ample = hosts.cores=12
EOS
}

# dump_study FILE: every table of a study file, rows in insertion order.
dump_study() {
	for t in meta study_runs study_levels study_metrics study_classes study_run_meta \
		study_clearings study_bids; do
		echo "== $t"
		sqlite3 -separator '|' "$1" "SELECT * FROM $t ORDER BY rowid"
	done
}
