# SPDX-License-Identifier: MIT
# Sourced by the test scripts: run_ctest BUILD_DIR LABEL runs ctest, prints
# its output, and fails on a failed or skipped test. It runs ctest_jobs tests
# at once (default: jobs, the number of cores).
run_ctest() {
	log="$1/ctest.log"
	echo "== ctest ($2)"
	set +e
	ctest --test-dir "$1" --output-on-failure -j"${ctest_jobs:-${jobs:-2}}" --timeout 600 >"$log" 2>&1
	st=$?
	set -e
	cat "$log"
	if [ "$st" -ne 0 ]; then
		echo "test: ctest ($2) failed" >&2
		exit 1
	fi
	if grep -Eq '\*\*\*(Skipped|Not Run)|Disabled' "$log"; then
		echo "test: ctest ($2) skipped a test; a skipped test is a failure here" >&2
		exit 1
	fi
}
