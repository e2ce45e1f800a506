#!/usr/bin/env bash
# The project's test command (`npm test`): formatting, lint (with module boundaries), type checks, unit tests,
# then integration tests against real components. Ends with one closing line: "tests: N passed, N failed".
# Under CI=true a test that needs a missing component fails instead of skipping.
set -uo pipefail
cd "$(dirname "$0")/../.."
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false FORCE_COLOR=0
rm -rf tmp/test-results
status=0
step() {
  local title=$1; shift
  echo "==> $title"
  local start=$SECONDS
  if "$@"; then echo "<== $title: ok ($((SECONDS - start)) s)"; else status=1; echo "<== $title: FAILED ($((SECONDS - start)) s)"; fi
}
nx() { npx nx "$@" --outputStyle=static --skip-nx-cache; }

step "format" npx prettier --check . --log-level warn
step "lint" nx run-many -t lint
step "typecheck" nx run-many -t typecheck
step "unit tests" nx run-many -t test
step "integration tests" nx run-many -t integration --parallel=1

node -e '
  const fs = require("fs"), dir = "tmp/test-results";
  const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const t = { passed: 0, failed: 0, skipped: 0 };
  for (const f of files) { const r = JSON.parse(fs.readFileSync(dir + "/" + f)); for (const k in t) t[k] += r[k]; }
  console.log(`tests: ${t.passed} passed, ${t.failed} failed` + (t.skipped ? `, ${t.skipped} skipped` : ""));
'
[ $status -eq 0 ] && echo "npm test: all steps passed" || echo "npm test: some steps FAILED"
exit $status
