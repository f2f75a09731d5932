#!/bin/sh
# complyctl under valgrind (memcheck, leak check) on the sample feed and the
# rule library's cases: no invalid access, no leak. Skipped for sanitizer
# builds, which valgrind cannot run.
set -u
BUILD=${BUILD:-build}
case "$BUILD" in *san*) echo "ok valgrind (skipped: sanitizer build)"; exit 0 ;; esac
if ! command -v valgrind >/dev/null 2>&1; then
	echo "FAIL valgrind is not installed"; exit 1
fi
vg() { valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=3 "$@"; }
fails=0
vg "$BUILD/complyctl" replay --rules rules --meta conf/samples/meta \
    conf/samples/events/*.jsonl >/dev/null
if [ $? -eq 3 ]; then echo "FAIL valgrind: replay"; fails=1; else echo "ok valgrind: replay"; fi
vg "$BUILD/complyctl" test rules >/dev/null 2>&1
if [ $? -eq 3 ]; then echo "FAIL valgrind: test rules"; fails=1; else echo "ok valgrind: test rules"; fi
vg "$BUILD/complyctl" lint rules >/dev/null
if [ $? -eq 3 ]; then echo "FAIL valgrind: lint"; fails=1; else echo "ok valgrind: lint"; fi
exit $fails
