#!/bin/sh
# make fuzz: each libFuzzer target for SECONDS (default 300) or RUNS
# executions (default: no limit), whichever comes first, one after the
# other; the working corpus is build/fuzz/corpus-<target>, seeded from
# tests/fuzz/corpus/<name>. With MERGE=1, what the run found that adds
# coverage is merged (minimised, -merge=1) back into tests/fuzz/corpus/<name>
# to be committed. TARGETS="fuzz_a fuzz_b" picks targets. Prints one line
# per target: executions, seconds, crashes; exits 1 if any target crashed.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-300}
runs=${2:--1}
status=0
mkdir -p build/fuzz/logs
for f in ${TARGETS:-build/fuzz/fuzz_*}; do
	case $f in */*) ;; *) f=build/fuzz/$f ;; esac
	[ -x "$f" ] || continue
	name=$(basename "$f")
	work="build/fuzz/corpus-$name"
	seed=tests/fuzz/corpus/${name#fuzz_}
	log=build/fuzz/logs/$name.log
	mkdir -p "$work" "build/fuzz/crashes-$name"
	start=$(date +%s)
	"$f" -max_total_time="$secs" -runs="$runs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="build/fuzz/crashes-$name/" "$work" \
		$([ -d "$seed" ] && echo "$seed") >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}')
	crashes=$(ls "build/fuzz/crashes-$name" | wc -l)
	echo "$name: ${execs:-?} executions in ${took} s, exit $rc, $crashes crash file(s)"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -5
		status=1
		continue
	fi
	if [ "${MERGE:-0}" = 1 ] && [ -d "$seed" ]; then
		before=$(ls "$seed" | wc -l)
		"$f" -merge=1 "$seed" "$work" >"$log.merge" 2>&1
		echo "  corpus $seed: $before -> $(ls "$seed" | wc -l) inputs"
	fi
done
exit $status
