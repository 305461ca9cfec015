#!/bin/sh
# make lint: include rules between modules (STYLE.md layers) and banned
# functions. Prints each violation; exits 1 if any.
set -u
cd "$(dirname "$0")/.."
bad=0
fail() { echo "lint: $*"; bad=1; }

# Third-party headers allowed only in their module.
only_in() { # header-regex allowed-dirs...
	pat=$1; shift
	grep -rlE "#include <($pat)" agent collector-stub | while read -r f; do
		ok=0
		for d in "$@"; do case $f in $d*) ok=1 ;; esac; done
		[ $ok -eq 1 ] || echo "$f"
	done
}
for f in $(only_in 'grpc/' agent/telemetry/ collector-stub/); do fail "$f includes <grpc/...> (only agent/telemetry/)"; done
for f in $(only_in 'jansson' agent/api/ agent/cli/ collector-stub/); do fail "$f includes jansson (only agent/api/, agent/cli/)"; done
for f in $(only_in 'curl/' agent/cli/); do fail "$f includes <curl/...> (only agent/cli/)"; done
for f in $(grep -lE '\bgrpc_[a-z_]+\(' agent/telemetry/*.c 2>/dev/null | grep -v 'agent/telemetry/tel_grpc.c'); do
	fail "$f calls grpc_* (all gRPC calls live in agent/telemetry/tel_grpc.c)"
done

# Layers: core → esp → ike → metrics → telemetry → api → main.c.
layer() { case $1 in core) echo 0;; esp) echo 1;; ike) echo 2;; metrics) echo 3;;
	telemetry) echo 4;; api) echo 5;; cli) echo 6;; *) echo 9;; esac; }
for f in $(find agent -mindepth 2 -name '*.[ch]'); do
	mod=$(echo "$f" | cut -d/ -f2)
	ml=$(layer "$mod")
	for inc in $(grep -oE '#include "[a-z]+/' "$f" | sed 's/#include "//; s/\///' | sort -u); do
		[ "$inc" = "$mod" ] && continue
		il=$(layer "$inc")
		if [ "$mod" = cli ]; then
			[ "$inc" = core ] || fail "$f: cli may include only core/ (includes $inc/)"
		elif [ "$il" -ge "$ml" ]; then
			fail "$f: $mod/ must not include $inc/ (upward or sideways)"
		fi
	done
done

# Banned functions.
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets|strncpy|strtok)\s*\(' \
	$(find agent collector-stub tests -name '*.c' -o -name '*.h' | grep -v '^build/') ; then
	fail "banned function above (use snprintf, str_copy, strbuf)"
fi
exit $bad
