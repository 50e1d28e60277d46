#!/usr/bin/env bash
# The leaderboard's CI in one script, run by .github/workflows/leaderboard.yml (and by hand, the same way):
#   1. every submission file the branch adds or changes against BASE is validated and re-scored with
#      `harness leaderboard check` (a bad file stops here, with its reason);
#   2. the whole site is re-scored and built with `harness leaderboard build --strict` (any rejected file fails);
#   3. the site is left in SITE_OUT for the forge to publish as static pages (the workflow's deploy step).
#
# Settings (environment): BASE     git ref the branch is compared with           [origin/main]
#                         SITE_OUT where the site is written                      [_site]
#                         TASKS    space-separated tasks to build                  [every task with submissions]
#                         BOOTSTRAP resamples for the CIs                          [1000]
#                         HARNESS  the harness command                             [harness]
set -euo pipefail

BASE="${BASE:-origin/main}"
SITE_OUT="${SITE_OUT:-_site}"
BOOTSTRAP="${BOOTSTRAP:-1000}"
HARNESS="${HARNESS:-harness}"
SUBMISSIONS="leaderboard/submissions"

cd "$(git rev-parse --show-toplevel)"

# 1. the files this branch adds or changes (none on a push to main: everything is rebuilt below)
mapfile -t changed < <(git diff --name-only --diff-filter=AMR "${BASE}...HEAD" -- "${SUBMISSIONS}" 2>/dev/null \
                       | grep -E '\.json$' || true)
status=0
for file in "${changed[@]}"; do
  echo "== checking ${file}"
  if ! $HARNESS leaderboard check "${file}" --bootstrap "${BOOTSTRAP}"; then
    echo "REFUSED ${file}: see the error above" >&2
    status=1
  fi
done
if [[ ${status} -ne 0 ]]; then
  echo "publish: ${#changed[@]} submission file(s) checked, at least one refused; the site is not built" >&2
  exit 1
fi
echo "publish: ${#changed[@]} submission file(s) checked"

# 2. re-score everything and build the site
task_args=()
for t in ${TASKS:-}; do task_args+=(--task "${t}"); done
$HARNESS leaderboard build --submissions "${SUBMISSIONS}" --out "${SITE_OUT}" --bootstrap "${BOOTSTRAP}" \
  --no-cache --strict "${task_args[@]}"

# 3. static pages, ready to publish
touch "${SITE_OUT}/.nojekyll"  # served as plain files (no Jekyll processing of names starting with _)
echo "publish: site built in ${SITE_OUT}/index.html"
