#!/bin/sh
# make fuzz: each libFuzzer target for SECONDS (default 300), corpus kept in
# build/fuzz/corpus-<target> and seeded from tests/fuzz/corpus/<name>.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-300}
for f in build/fuzz/fuzz_*; do
	name=$(basename "$f")
	mkdir -p "build/fuzz/corpus-$name"
	seed=tests/fuzz/corpus/${name#fuzz_}
	echo "== $name for ${secs}s"
	"$f" -max_total_time="$secs" -print_final_stats=1 "build/fuzz/corpus-$name" \
		$( [ -d "$seed" ] && echo "$seed" ) 2>&1 | grep -E 'Done|stat::number_of_executed_units|ERROR|SUMMARY' || true
done
