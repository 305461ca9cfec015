#!/bin/bash
# Runs every test layer against one build tree (default build/san) and
# prints a closing "N passed, N failed" over all of them.
#   unit/         cmocka programs        build/<tree>/tests/test_*
#   fuzz smoke    each libFuzzer target for a short bounded run
#   integration/  real processes (python3 harness, tests/integration/*.py)
set -u
cd "$(dirname "$0")/.."
TREE=${1:-build/san}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0; failed=0; failures=()

count_output() { # name log rc
	local p f
	p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$2" | awk '{s+=$4} END {print s+0}')
	f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$2" | awk '{s+=$4} END {print s+0}')
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		read -r p f < <(grep -oE '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1 |
			awk '{print $1, $3}')
		p=${p:-0}; f=${f:-0}
	fi
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi	# ran nothing: a failure
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("$1")
}

mkdir -p build/logs
echo "== unit tests ($TREE)"
for t in "$TREE"/tests/test_*; do
	[ -x "$t" ] || continue
	log=build/logs/$(basename "$t").log
	"$t" >"$log" 2>&1; rc=$?
	tail -n 3 "$log" | sed "s|^|  $(basename "$t"): |"
	[ $rc -eq 0 ] || cat "$log"
	count_output "$(basename "$t")" "$log" $rc
done

echo "== fuzz smoke (bounded runs)"
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	mkdir -p "build/logs/corpus-$name"
	log=build/logs/$name.log
	"$f" -runs=20000 -max_total_time=20 -timeout=10 "build/logs/corpus-$name" \
		$( [ -d "$corpus" ] && echo "$corpus") >"$log" 2>&1; rc=$?
	if [ $rc -eq 0 ]; then
		echo "  $name: $(grep -oE 'Done [0-9]+ runs.*' "$log" | tail -1)"
		echo "1 passed, 0 failed" >>"$log"
	else
		tail -n 30 "$log"; echo "0 passed, 1 failed" >>"$log"
	fi
	count_output "$name" "$log" $rc
done

echo "== integration tests"
for t in tests/integration/test_*.py; do
	[ -f "$t" ] || continue
	log=build/logs/$(basename "$t" .py).log
	BIN_DIR=$TREE python3 "$t" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}
	count_output "$(basename "$t")" "$log" $rc
done

echo
[ ${#failures[@]} -eq 0 ] || echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
