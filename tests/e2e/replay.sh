#!/bin/sh
# tests/e2e/replay.sh - `complyctl replay|lint|test` end to end against the
# SHIPPED rules/ and the fixtures of tests/e2e/fixtures (see its README).
# Run from the repository root; $BUILD (default build) holds complyctl.
# Prints "ok NAME" or "FAIL NAME" per check; exits non-zero on any failure.
BUILD=${BUILD:-build}
CTL=$BUILD/complyctl
FX=tests/e2e/fixtures
META=$FX/meta
UNTIL=2026-07-01T00:00:00+09:00
export LC_ALL=C

fails=0
checks=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/replay-e2e.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

ok() { checks=$((checks + 1)); echo "ok $1"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $1"; }
check() {	# check NAME COMMAND...: ok if the command succeeds
	name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}

# Alerts (JSON lines) -> time, obligation, tenant, key, status, law_version (TSV).
tsv() {
	awk '
	function field(s, name,   i, r) {
		i = index(s, "\"" name "\":")
		if (i == 0)
			return "?"
		r = substr(s, i + length(name) + 3)
		if (substr(r, 1, 1) == "\"") {
			r = substr(r, 2)
			return substr(r, 1, index(r, "\"") - 1)
		}
		return substr(r, 1, match(r, /[,}]/) - 1)
	}
	{
		printf "%s\t%s\t%s\t%s\t%s\t%s\n", field($0, "time"),
		    field($0, "obligation"), field($0, "tenant"), field($0, "key"),
		    field($0, "status"), field($0, "law_version")
	}' "$1"
}

# 0 if the alerts of $1 are ordered by time, obligation, tenant, key, status.
ordered() {
	tsv "$1" | cut -f1-5 >"$tmp/order.tsv"
	# every time is +09:00 with whole seconds: text order is time order
	if grep -v '^[0-9-]*T[0-9:]*+09:00	' "$tmp/order.tsv" >/dev/null; then
		echo "  a time is not RFC 3339 +09:00 with whole seconds" >&2
		return 1
	fi
	sort -c -t '	' -k1,1 -k2,2 -k3,3 -k4,4 -k5,5 "$tmp/order.tsv"
}

replay() {	# replay OUT ERR ARGS...: stores stdout, stderr; returns the status
	out=$1
	err=$2
	shift 2
	"$CTL" replay --rules rules --meta "$META" "$@" >"$out" 2>"$err"
}

if [ ! -x "$CTL" ]; then
	echo "FAIL $CTL not built"
	exit 1
fi

# ---- clean input: exit 0, nothing on stderr, ordered output, exact alerts ----

replay "$tmp/until.out" "$tmp/until.err" --until "$UNTIL" \
    $FX/events-1.jsonl $FX/events-2.jsonl
check "clean input exits 0" [ $? -eq 0 ]
check "clean input prints nothing on stderr" [ ! -s "$tmp/until.err" ]
check "output ordered by time, obligation, tenant, key, status" \
    ordered "$tmp/until.out"
tsv "$tmp/until.out" >"$tmp/until.tsv"
if cmp -s "$tmp/until.tsv" $FX/expected-until.tsv; then
	ok "alerts with --until are exactly the expected ones"
else
	fail "alerts with --until are exactly the expected ones"
	diff $FX/expected-until.tsv "$tmp/until.tsv" | sed 's/^/  /'
fi
check "every line is a JSON object with a stable id" \
    awk 'substr($0, 1, 9) != "{\"id\":\"a-" || substr($0, 34, 3) != "\",\"" ||
    substr($0, 10, 24) !~ /^[0-9a-f]+$/ || substr($0, length($0)) != "}" { exit 1 }' \
    "$tmp/until.out"
check "beta-soc's dataset allows marketing: no alert of beta-soc" \
    sh -c "! grep -q '\"tenant\":\"beta-soc\"' '$tmp/until.out'"

# ---- --until: the clock advances; without it the clock stops at the last event ----

replay "$tmp/plain.out" "$tmp/plain.err" $FX/events-1.jsonl $FX/events-2.jsonl
check "no --until exits 0" [ $? -eq 0 ]
check "--until lets the payment deadline fire" \
    grep -q '^2026-06-29T00:00:00+09:00	SUBCON-PAY-BY-DUE	acme-soc	C-E2E-1	violation' \
    "$tmp/until.tsv"
tsv "$tmp/plain.out" >"$tmp/plain.tsv"
check "no --until: the payment deadline does not fire" \
    sh -c "! grep -q 'SUBCON-PAY-BY-DUE' '$tmp/plain.tsv'"
# the last event is at 2026-06-10T10:00:00+09:00: nothing later fires
check "no --until: no alert after the last event" \
    awk -F '	' '$1 > "2026-06-10T10:00:00+09:00" { exit 1 }' "$tmp/plain.tsv"
check "no --until: the alerts up to the last event are all there" \
    sh -c "awk -F '	' '\$1 <= \"2026-06-10T10:00:00+09:00\"' \
    $FX/expected-until.tsv | cmp -s - '$tmp/plain.tsv'"
replay "$tmp/at.out" "$tmp/at.err" --until 2026-06-29T00:00:00+09:00 \
    $FX/events-1.jsonl $FX/events-2.jsonl
check "--until exactly at the due instant is inclusive" \
    grep -q '"obligation":"SUBCON-PAY-BY-DUE".*"status":"violation"' "$tmp/at.out"
replay "$tmp/date.out" "$tmp/date.err" --until 2026-06-28 \
    $FX/events-1.jsonl $FX/events-2.jsonl
check "--until as a date is the end of that day: the due day's violation fires" \
    grep -q '"obligation":"SUBCON-PAY-BY-DUE".*"status":"violation"' "$tmp/date.out"
replay "$tmp/before.out" "$tmp/before.err" --until 2026-06-28T23:59:59+09:00 \
    $FX/events-1.jsonl $FX/events-2.jsonl
check "--until one second before the due instant does not fire it" \
    sh -c "! grep -q '\"obligation\":\"SUBCON-PAY-BY-DUE\",.*\"status\":\"violation\"' '$tmp/before.out'"

# ---- inputs that can be read only once: a pipe, a FIFO; a directory is an error ----

cat $FX/events-1.jsonl $FX/events-2.jsonl |
    "$CTL" replay --rules rules --meta "$META" --until "$UNTIL" /dev/stdin \
    >"$tmp/pipe.out" 2>"$tmp/pipe.err"
check "events on a pipe (/dev/stdin) give the same alerts as the files" \
    cmp -s "$tmp/pipe.out" "$tmp/until.out"
mkfifo "$tmp/fifo"
(cat $FX/events-1.jsonl $FX/events-2.jsonl >"$tmp/fifo" &)
timeout 30 "$CTL" replay --rules rules --meta "$META" --until "$UNTIL" "$tmp/fifo" \
    >"$tmp/fifo.out" 2>"$tmp/fifo.err"
check "events from a FIFO: read once, same alerts, no hang" \
    cmp -s "$tmp/fifo.out" "$tmp/until.out"
replay "$tmp/dir.out" "$tmp/dir.err" --until "$UNTIL" $FX/events-1.jsonl $FX/events-2.jsonl "$tmp"
check "a directory among the files is an error (exit 1, named), the rest still runs" \
    sh -c "[ $? -eq 1 ] && grep -q 'Is a directory' '$tmp/dir.err' && cmp -s '$tmp/dir.out' '$tmp/until.out'"

# ---- input order: out of time order, or files in the wrong order ----

cat $FX/events-1.jsonl $FX/events-2.jsonl |
    awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' \
    >"$tmp/reversed.jsonl"
replay "$tmp/rev.out" "$tmp/rev.err" --until "$UNTIL" "$tmp/reversed.jsonl"
check "reversed input exits 0" [ $? -eq 0 ]
check "reversed input gives the same alerts as sorted input" \
    cmp -s "$tmp/rev.out" "$tmp/until.out"
replay "$tmp/swap.out" "$tmp/swap.err" --until "$UNTIL" \
    $FX/events-2.jsonl $FX/events-1.jsonl
check "files in the wrong order give the same alerts" \
    cmp -s "$tmp/swap.out" "$tmp/until.out"
replay "$tmp/swap2.out" "$tmp/swap2.err" $FX/events-2.jsonl $FX/events-1.jsonl
check "files in the wrong order, no --until: same as sorted" \
    cmp -s "$tmp/swap2.out" "$tmp/plain.out"

# ---- duplicates: a repeated (tenant, id) is processed once ----

replay "$tmp/dup.out" "$tmp/dup.err" --until "$UNTIL" \
    $FX/events-1.jsonl $FX/events-2.jsonl $FX/dup.jsonl
check "repeated ids add no alerts" cmp -s "$tmp/dup.out" "$tmp/until.out"

# ---- malformed lines: FILE:LINE: error: ..., the rest still goes through ----

replay "$tmp/bad.out" "$tmp/bad.err" $FX/bad.jsonl
check "malformed lines make the exit status non-zero" [ $? -ne 0 ]
check "one error line per malformed line, FILE:LINE: error: ..." \
    sh -c "grep -c '' '$tmp/bad.err' | grep -qx 3 &&
    ! grep -v '^$FX/bad.jsonl:[0-9][0-9]*: error: ..*\$' '$tmp/bad.err'"
check "the malformed lines are 2, 3 and 4" \
    sh -c "cut -d: -f2 '$tmp/bad.err' | tr '\n' ' ' | grep -qx '2 3 4 '"
check "line 2 is reported for its time without offset" \
    grep -q "^$FX/bad.jsonl:2: error: .*time" "$tmp/bad.err"
tsv "$tmp/bad.out" | cut -f1,2,5 >"$tmp/bad.tsv"
printf '%s\t%s\t%s\n' \
    2026-05-10T10:00:00+09:00 APPI-USE-WITHIN-PURPOSE violation \
    2026-05-13T10:00:00+09:00 APPI-USE-WITHIN-PURPOSE violation \
    >"$tmp/bad.want"
check "the good lines around them still raise their alerts" \
    cmp -s "$tmp/bad.tsv" "$tmp/bad.want"
check "nothing but alerts on stdout" \
    awk '!/^\{"id":"a-/ { exit 1 }' "$tmp/bad.out"
replay "$tmp/mix.out" "$tmp/mix.err" $FX/events-1.jsonl $FX/bad.jsonl
check "a bad file among good ones: non-zero, errors name the bad file" \
    sh -c "[ $? -ne 0 ] && grep -c '' '$tmp/mix.err' | grep -qx 3 &&
    ! grep -v '^$FX/bad.jsonl:' '$tmp/mix.err'"

# ---- stable output: two runs are byte-identical ----

replay "$tmp/again.out" "$tmp/again.err" --until "$UNTIL" \
    $FX/events-1.jsonl $FX/events-2.jsonl
check "replaying twice gives byte-identical output" \
    cmp -s "$tmp/again.out" "$tmp/until.out"
check "alert ids are unique" \
    sh -c "sed 's/^{\"id\":\"\\([^\"]*\\)\".*/\\1/' '$tmp/until.out' | sort | uniq -d | grep -q . && exit 1 || exit 0"

# ---- a time-ordered replay split over threads by tenant: the same bytes ----

for t in 1 2 3 7; do
	COMPLYD_REPLAY_THREADS=$t "$CTL" replay --rules rules --meta conf/samples/meta \
	    conf/samples/events/*.jsonl >"$tmp/threads-$t.out" 2>"$tmp/threads-$t.err"
	echo $? >"$tmp/threads-$t.rc"
	COMPLYD_REPLAY_THREADS=$t "$CTL" replay --rules rules --meta "$META" \
	    --until "$UNTIL" $FX/events-1.jsonl $FX/events-2.jsonl $FX/dup.jsonl \
	    >"$tmp/threads-fx-$t.out" 2>&1
	COMPLYD_REPLAY_THREADS=$t "$CTL" replay --rules rules --meta "$META" \
	    $FX/events-1.jsonl $FX/bad.jsonl >"$tmp/threads-bad-$t.out" \
	    2>"$tmp/threads-bad-$t.err"
done
for t in 2 3 7; do
	check "$t threads: the sample feed's alerts, stderr and status as on one" \
	    sh -c "cmp -s '$tmp/threads-1.out' '$tmp/threads-$t.out' &&
	    cmp -s '$tmp/threads-1.err' '$tmp/threads-$t.err' &&
	    cmp -s '$tmp/threads-1.rc' '$tmp/threads-$t.rc'"
	check "$t threads: fixtures with duplicates and --until as on one" \
	    cmp -s "$tmp/threads-fx-1.out" "$tmp/threads-fx-$t.out"
	check "$t threads: bad lines reported in line order as on one" \
	    sh -c "cmp -s '$tmp/threads-bad-1.out' '$tmp/threads-bad-$t.out' &&
	    cmp -s '$tmp/threads-bad-1.err' '$tmp/threads-bad-$t.err'"
done
check "the sample feed raises alerts (the comparison above is not vacuous)" \
    [ -s "$tmp/threads-1.out" ]

# Many batches (1024 lines each), decoded by the threads that own them: bad
# lines in several batches and files that cannot be read (missing, a
# directory) between good ones are reported in input order, as on one.
# Lines whose tenant only decoding tells (an escape in it, a nested
# "tenant" first, the key itself escaped) go to every thread, and the one
# of their tenant keeps them: an unknown dataset each, so an alert each.
awk 'BEGIN {
	for (i = 1; i <= 20000; i++) {
		t = sprintf("\"time\":\"2026-04-%02dT%02d:%02d:00+09:00\"", 1 + int(i / 1440), int(i % 1440 / 60), i % 60)
		use = "\"type\":\"personal_data.used\",\"purpose\":\"p\""
		if (i % 700 == 0)
			print "{bad json " i
		if (i % 1100 == 0)
			printf "{\"id\":\"x%d\",\"tenant\":\"t1\",\"type\":\"a.b\"}\n", i
		if (i % 900 == 0)
			printf "{\"id\":\"esc%d\",%s,\"tenant\":\"t\\u003%d\",%s,\"dataset\":\"DS-E%d\"}\n", i, t, i % 7, use, i
		if (i % 1300 == 0)
			printf "{\"id\":\"nest%d\",\"m\":{\"tenant\":\"t9\"},%s,\"tenant\":\"t%d\",%s,\"dataset\":\"DS-N%d\"}\n", i, t, i % 7, use, i
		if (i % 1700 == 0)
			printf "{\"id\":\"key%d\",%s,\"ten\\u0061nt\":\"t%d\",%s,\"dataset\":\"DS-K%d\"}\n", i, t, i % 5, use, i
		if (i % 2300 == 0)
			printf "{\"id\":\"num%d\",%s,\"tenant\":7,%s,\"dataset\":\"DS-B%d\"}\n", i, t, use, i
		printf "{\"id\":\"u%d\",%s,\"tenant\":\"t%d\",", i, t, i % 7
		printf "\"type\":\"personal_data.used\",\"dataset\":\"DS-%d\",\"purpose\":\"p%d\"}\n", i % 5, i % 3
		if (i % 1900 == 0)	# a repeat, its tenant escaped: the first wins
			printf "{\"id\":\"u%d\",%s,\"tenant\":\"t\\u003%d\",%s,\"dataset\":\"DS-D%d\"}\n", i, t, i % 7, use, i
	}
}' >"$tmp/many.jsonl"
mkdir "$tmp/adir"
for t in 1 2 3 7; do
	COMPLYD_REPLAY_THREADS=$t "$CTL" replay --rules rules --meta "$META" \
	    "$tmp/many.jsonl" "$tmp/missing.jsonl" "$tmp/adir" $FX/bad.jsonl \
	    >"$tmp/many-$t.out" 2>"$tmp/many-$t.err"
	echo $? >>"$tmp/many-$t.err"
done
check "many batches: bad lines and unreadable files are reported" \
    [ "$(grep -c 'error:' "$tmp/many-1.err")" -gt 10 ]
check "many batches: events told apart only by decoding raise their alerts" \
    sh -c "grep -q '\"key\":\"DS-E900\"' '$tmp/many-1.out' &&
    grep -q '\"key\":\"DS-N1300\"' '$tmp/many-1.out' &&
    grep -q '\"key\":\"DS-K1700\"' '$tmp/many-1.out' &&
    ! grep -q 'DS-D1900' '$tmp/many-1.out' &&
    grep -q 'many.jsonl:[0-9]*: error: .*tenant' '$tmp/many-1.err'"
for t in 2 3 7; do
	check "$t threads: many batches, bad lines and unreadable files as on one" \
	    sh -c "cmp -s '$tmp/many-1.out' '$tmp/many-$t.out' &&
	    cmp -s '$tmp/many-1.err' '$tmp/many-$t.err'"
done

# Files that cannot be read before any event: batches with no lines come
# first, and the threads must still agree where their clocks start.
for t in 1 2 3; do
	COMPLYD_REPLAY_THREADS=$t "$CTL" replay --rules rules --meta conf/samples/meta \
	    "$tmp/missing.jsonl" "$tmp/adir" conf/samples/events/*.jsonl \
	    >"$tmp/first-$t.out" 2>"$tmp/first-$t.err"
	echo $? >>"$tmp/first-$t.err"
done
check "unreadable files first: the sample feed's alerts still come" \
    cmp -s "$tmp/first-1.out" "$tmp/threads-1.out"
for t in 2 3; do
	check "$t threads: unreadable files before any event, as on one" \
	    sh -c "cmp -s '$tmp/first-1.out' '$tmp/first-$t.out' &&
	    cmp -s '$tmp/first-1.err' '$tmp/first-$t.err'"
done

# ---- alerts spilled to a temporary file ----

"$CTL" replay --rules rules --meta conf/samples/meta conf/samples/events/*.jsonl \
    >"$tmp/demo.out" 2>/dev/null
mkdir -p "$tmp/spill"
TMPDIR="$tmp/spill" "$CTL" replay --rules rules --meta conf/samples/meta \
    conf/samples/events/*.jsonl 2>/dev/null | cmp -s - "$tmp/demo.out"
check "replay with TMPDIR set prints the same alerts" [ $? -eq 0 ]
check "the spill file is unlinked at once" [ -z "$(ls -A "$tmp/spill")" ]
# A full disk: the temporary file stops growing after 4 KiB (SIGXFSZ ignored,
# so writes fail), stdout is a pipe. No alert may be lost.
(
	trap '' XFSZ
	ulimit -f 8
	exec "$CTL" replay --rules rules --meta conf/samples/meta \
	    conf/samples/events/*.jsonl 2>"$tmp/full.err"
) | cat >"$tmp/full.out"
check "a spill that hits a full disk keeps every alert" cmp -s "$tmp/full.out" "$tmp/demo.out"
check "and warns once on stderr" [ "$(grep -c 'cannot spill' "$tmp/full.err")" = 1 ]
[ "$(wc -l <"$tmp/demo.out")" -gt 20 ]
check "the sample replay raises its alerts" [ $? -eq 0 ]

# ---- one order id in two facilities: two obligations, two alert ids ----

mkdir -p "$tmp/scope-meta"
cat >"$tmp/scope.jsonl" <<'EOF2'
{"id":"a1","time":"2026-01-05T10:00:00+09:00","tenant":"t1","type":"fire.order_issued","facility":"FA","order":"OR1","deadline":"2026-02-10"}
{"id":"a2","time":"2026-01-05T10:00:00+09:00","tenant":"t1","type":"fire.order_issued","facility":"FB","order":"OR1","deadline":"2026-02-10"}
{"id":"a3","time":"2026-02-01T10:00:00+09:00","tenant":"t1","type":"fire.order_completed","facility":"FA","order":"OR1"}
EOF2
"$CTL" replay --rules rules --meta "$tmp/scope-meta" --until 2026-03-01 \
    "$tmp/scope.jsonl" >"$tmp/scope.out" 2>/dev/null
check "an order id in two facilities: FB's violation, FA closed in time" \
    sh -c "grep '\"status\":\"violation\"' '$tmp/scope.out' | grep -q '\"scope\":\"FB\"' &&
    ! grep -q '\"scope\":\"FA\".*\"violation\"\|\"violation\".*\"scope\":\"FA\"' '$tmp/scope.out'"
check "every alert of the two facilities has its own id" \
    sh -c "[ \$(sed 's/^{\"id\":\"\([^\"]*\)\".*/\1/' '$tmp/scope.out' | sort -u | wc -l) -eq \$(wc -l <'$tmp/scope.out') ] &&
    [ \$(wc -l <'$tmp/scope.out') -ge 4 ]"

# A unit separator in the key of a rule without `scope` is part of the key, not a scope.
printf '%s\n' '{"id":"i1","time":"2026-05-01T10:00:00+09:00","tenant":"t1","type":"personal_data.breach_detected","incident":"INC\u001fX","dataset":"DS-A","sensitive":true}' \
    >"$tmp/us.jsonl"
"$CTL" replay --rules rules --meta "$tmp/scope-meta" --until 2026-06-30 "$tmp/us.jsonl" \
    >"$tmp/us.out" 2>/dev/null
check "a key with a unit separator stays whole where the rule has no scope" \
    sh -c "grep -q 'INC.u001fX' '$tmp/us.out' && ! grep -q '\"scope\"' '$tmp/us.out'"

# ---- lint ----

"$CTL" lint rules >"$tmp/lint.out" 2>"$tmp/lint.err"
check "complyctl lint rules exits 0" [ $? -eq 0 ]
mkdir -p "$tmp/copy/conf"
cp -R rules "$tmp/copy/rules"
cp -R conf/holidays "$tmp/copy/conf/holidays"
"$CTL" lint "$tmp/copy/rules" >/dev/null 2>&1
check "lint of an unchanged copy exits 0" [ $? -eq 0 ]
# break the first `severity:` of fire.yaml; the value starts at column 15
line=$(grep -n '^    severity: ' "$tmp/copy/rules/fire.yaml" | head -n 1 | cut -d: -f1)
sed "${line}s/severity: .*/severity: urgent/" "$tmp/copy/rules/fire.yaml" \
    >"$tmp/fire.yaml" && mv "$tmp/fire.yaml" "$tmp/copy/rules/fire.yaml"
"$CTL" lint "$tmp/copy/rules" >"$tmp/lint2.out" 2>"$tmp/lint2.err"
check "lint of a broken copy exits 1" [ $? -eq 1 ]
check "lint reports file:line:col of the bad severity" \
    grep -q "^$tmp/copy/rules/fire.yaml:$line:15: error: severity" "$tmp/lint2.err"
check "replay refuses a broken rule set" \
    sh -c "! '$CTL' replay --rules '$tmp/copy/rules' --meta '$META' \
    $FX/events-1.jsonl >'$tmp/broken.out' 2>/dev/null && [ ! -s '$tmp/broken.out' ]"

# ---- test ----

"$CTL" test rules >"$tmp/test.out" 2>&1
check "complyctl test rules prints 'N passed, N failed' last" \
    sh -c "tail -n 1 '$tmp/test.out' | grep -Eqx '[0-9]+ passed, [0-9]+ failed'"

# ---- usage: help exits 0, an unknown option 2 ----
"$CTL" help >/dev/null 2>&1
check "complyctl help exits 0" [ $? -eq 0 ]
"$CTL" replay --help >"$tmp/help.out" 2>&1
check "complyctl replay --help prints its usage and exits 0" \
    sh -c "[ $? -eq 0 ] && grep -q '^usage: complyctl replay --rules DIR' '$tmp/help.out'"
"$CTL" lint --bogus >/dev/null 2>&1
check "an unknown option to lint is a usage error (2)" [ $? -eq 2 ]
"$CTL" test --bogus >/dev/null 2>&1
check "an unknown option to test is a usage error (2)" [ $? -eq 2 ]

# ---- a malformed test case fails; a file without a list of cases fails ----
mkdir -p "$tmp/tc/rules/tests"
cp rules/*.yaml "$tmp/tc/rules/" && cp -R conf "$tmp/tc/conf"
printf 'tests:\n  - name: typo\n    evnts: []\n    expect: []\n' >"$tmp/tc/rules/tests/typo.yaml"
"$CTL" test "$tmp/tc/rules" >"$tmp/tc.out" 2>"$tmp/tc.err"
check "a case with a misspelt key fails, it does not pass vacuously" \
    sh -c "[ $? -eq 1 ] && tail -n 1 '$tmp/tc.out' | grep -qx '0 passed, 1 failed' && grep -q \"unknown key 'evnts'\" '$tmp/tc.err'"
printf 'tests: 3\n' >"$tmp/tc/rules/tests/typo.yaml"
"$CTL" test "$tmp/tc/rules" >"$tmp/tc.out" 2>"$tmp/tc.err"
check "a test file whose tests is not a list fails" \
    sh -c "[ $? -eq 1 ] && grep -q 'must be a list of test cases' '$tmp/tc.err'"

# ---- the rules' sha256 names their files and bytes, not where they lie ----
mkdir -p "$tmp/moved/deeper"
cp -R rules conf "$tmp/moved/deeper/"	# the rules name ../conf/holidays
sha_of() { "$CTL" lint "$1" 2>/dev/null | sed -n 's/.*(sha256 \([0-9a-f]*\)).*/\1/p'; }
h1=$(sha_of rules)
check "the rules' sha256 is the same however the path is spelt or wherever they lie" \
    sh -c "[ -n '$h1' ] && [ '$h1' = '$(sha_of ./rules/)' ] && [ '$h1' = '$(sha_of "$(pwd)/rules")' ] && [ '$h1' = '$(sha_of "$tmp/moved/deeper/rules")' ]"
printf '# changed\n' >>"$tmp/moved/deeper/rules/fire.yaml"
check "a changed rule file changes the sha256" \
    sh -c "[ '$h1' != '$(sha_of "$tmp/moved/deeper/rules")' ]"

# ---- with a law list in the directory, a rule's obligation must be in it ----
mkdir -p "$tmp/obl"
cp rules/law-list.yaml rules/fire.yaml "$tmp/obl/"
sed 's/obligation: FIRE-ORDER-REMEDIED/obligation: FIRE-NO-SUCH/' rules/fire.yaml >"$tmp/obl/fire.yaml"
"$CTL" lint "$tmp/obl" >"$tmp/obl.out" 2>"$tmp/obl.err"
check "an obligation not in the law list is an error at its position" \
    sh -c "[ $? -eq 1 ] && grep -q \"fire.yaml:[0-9]*:[0-9]*: error: obligation 'FIRE-NO-SUCH' is not in the law list\" '$tmp/obl.err'"

echo "$((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
