#!/usr/bin/env bash
# The steps of the imds-lint GitHub Action (action.yml), kept in a file so that tests/action.rs can
# run them with GitHub's environment variables set.
#
#   action.sh key       cache key and install root of this action's build (GITHUB_OUTPUT: key, root)
#   action.sh install   cargo install --locked this checkout into IMDS_LINT_ROOT unless a (cached)
#                       build is there; add its bin/ to GITHUB_PATH
#   action.sh run       scan INPUT_PATHS in GITHUB_WORKSPACE: fix (INPUT_FIX), print the report in
#                       INPUT_FORMAT (annotations by default), write INPUT_SARIF_FILE, the outputs
#                       (findings, errors, warnings, sarif-file) and a job summary; exit 1 when
#                       INPUT_FAIL_ON says the findings fail the step (or, with
#                       INPUT_FAIL_ON_SKIPPED, a file was not analysed whole), 2 when imds-lint
#                       could not run
#
# Written for bash 3.2 too (macOS runners): no associative arrays, empty arrays guarded.
set -euo pipefail

bin=${IMDS_LINT:-imds-lint}

fail() {
  echo "::error title=imds-lint action::$*"
  exit 2
}

output() {
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -c1-32
}

# The build depends on the manifest, the lock file and the sources: their hash names the build.
key() {
  local action=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
  local hash
  hash=$(
    cd "$action"
    find Cargo.toml Cargo.lock src grammars -type f 2>/dev/null | LC_ALL=C sort |
      while IFS= read -r file; do
        printf '%s\n' "$file"
        sha256 <"$file"
      done | sha256
  )
  local os=${RUNNER_OS:-$(uname -s)} arch=${RUNNER_ARCH:-$(uname -m)}
  output key "imds-lint-$os-$arch-$hash"
  output root "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/imds-lint/$hash"
}

install() {
  local action=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
  local root=${IMDS_LINT_ROOT:?IMDS_LINT_ROOT is not set (action.sh key gives it)}
  if [[ -x $root/bin/imds-lint ]]; then
    echo "imds-lint: using the cached build in $root ($("$root/bin/imds-lint" --version))"
  else
    command -v cargo >/dev/null 2>&1 ||
      fail "cargo not found: add a Rust toolchain step (for example dtolnay/rust-toolchain@stable) before this action"
    cargo install --locked --path "$action" --root "$root"
  fi
  if [[ -n ${GITHUB_PATH:-} ]]; then
    echo "$root/bin" >>"$GITHUB_PATH"
  fi
}

run() {
  local workspace=${GITHUB_WORKSPACE:?GITHUB_WORKSPACE is not set}
  local format=${INPUT_FORMAT:-github} fix=${INPUT_FIX:-false} fail_on=${INPUT_FAIL_ON:-error}
  local fail_on_skipped=${INPUT_FAIL_ON_SKIPPED:-false} sarif=${INPUT_SARIF_FILE:-}
  local -a paths extra
  read -r -d '' -a paths <<<"${INPUT_PATHS:-.}" || true
  read -r -d '' -a extra <<<"${INPUT_ARGS:-}" || true
  ((${#paths[@]})) || paths=(.)
  case $fail_on in error | warning | never) ;; *) fail "fail-on must be error, warning or never, not '$fail_on'" ;; esac
  case $fix in true | false) ;; *) fail "fix must be true or false, not '$fix'" ;; esac
  case $fail_on_skipped in
    true) extra+=(--fail-on-skipped) ;;
    false) ;;
    *) fail "fail-on-skipped must be true or false, not '$fail_on_skipped'" ;;
  esac
  command -v "$bin" >/dev/null 2>&1 || fail "$bin not found (the install step puts it on PATH)"
  cd "$workspace"

  local status=0
  if [[ $fix == true ]]; then
    # The fix log goes to stderr in the concise format; what is left is reported below.
    "$bin" --fix --format concise ${extra[@]+"${extra[@]}"} -- "${paths[@]}" >/dev/null || status=$?
    ((status < 2)) || fail "imds-lint --fix exited $status"
  fi

  # The report in the chosen format on stdout (annotations in the github format); imds-lint's
  # --fail-on decides the step (severities as the configuration file may override them).
  local failed=false
  status=0
  "$bin" --format "$format" --fail-on "$fail_on" ${extra[@]+"${extra[@]}"} -- "${paths[@]}" || status=$?
  case $status in
    0) ;;
    1) failed=true ;;
    *) fail "imds-lint --format $format exited $status (a usage error, or nothing could be scanned)" ;;
  esac

  # The findings again, for the outputs and the summary: one JSON object per line (each with its
  # "severity"; the escapes of JSON strings keep that key from matching inside a message or path)
  # and one concise line each (path:line:col: CODE message). With --fail-on never, exit status 1
  # only says that a file was not analysed whole (--fail-on-skipped, from the input or the
  # configuration file), which the run above has already reported.
  local json_lines concise
  status=0
  json_lines=$("$bin" --format json-lines --fail-on never ${extra[@]+"${extra[@]}"} -- "${paths[@]}" 2>/dev/null) || status=$?
  ((status < 2)) || fail "imds-lint --format json-lines exited $status"
  concise=$("$bin" --format concise --fail-on never ${extra[@]+"${extra[@]}"} -- "${paths[@]}" 2>/dev/null) || status=$?
  ((status < 2)) || fail "imds-lint --format concise exited $status"
  local errors=0 warnings=0 line
  while IFS= read -r line; do
    case $line in
      *'"severity":"error"'*) errors=$((errors + 1)) ;;
      *'"severity":"warning"'*) warnings=$((warnings + 1)) ;;
    esac
  done <<<"$json_lines"
  local -a rows=()
  local pattern='^(.*):([0-9]+):([0-9]+): (IMDS[0-9]{3}) (.*)$'
  while IFS= read -r line; do
    # Paths as the runner wants them: relative to the workspace, without `./`.
    while [[ $line == ./* ]]; do line=${line#./}; done
    [[ $line =~ $pattern ]] && rows+=("$line")
  done <<<"$concise"

  if [[ -n $sarif ]]; then
    mkdir -p "$(dirname "$sarif")"
    status=0
    "$bin" --format sarif --fail-on never ${extra[@]+"${extra[@]}"} -- "${paths[@]}" >"$sarif" || status=$?
    ((status < 2)) || fail "imds-lint --format sarif exited $status"
    output sarif-file "$sarif"
  fi

  local findings=$((errors + warnings))
  # Whether the findings fail the step; if the step fails otherwise, files were not analysed.
  local by_findings=false
  case $fail_on in
    error) ((errors == 0)) || by_findings=true ;;
    warning) ((findings == 0)) || by_findings=true ;;
  esac
  output findings "$findings"
  output errors "$errors"
  output warnings "$warnings"
  if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
    {
      echo "### imds-lint"
      echo
      if [[ $failed == true && $by_findings == false ]]; then
        echo "Some files in \`${paths[*]}\` were not analysed, or only in part (see the warnings in the log), which fails the step under fail-on-skipped."
        echo
      fi
      if ((findings == 0)); then
        echo "No tokenless instance metadata requests in \`${paths[*]}\`."
      else
        echo "$findings findings ($errors errors, $warnings warnings) in \`${paths[*]}\`; fail-on: $fail_on."
        echo
        echo "| location | rule | message |"
        echo "|---|---|---|"
        local shown=0
        for line in ${rows[@]+"${rows[@]}"}; do
          [[ $line =~ $pattern ]] || continue
          if ((shown == 50)); then
            echo "| … | | $((findings - shown)) more |"
            break
          fi
          local message=${BASH_REMATCH[5]//|/\\|}
          echo "| \`${BASH_REMATCH[1]}:${BASH_REMATCH[2]}:${BASH_REMATCH[3]}\` | ${BASH_REMATCH[4]} | $message |"
          shown=$((shown + 1))
        done
      fi
    } >>"$GITHUB_STEP_SUMMARY"
  fi
  if [[ $failed == true ]]; then
    if [[ $by_findings == false ]]; then
      echo "imds-lint: some files were not analysed, or only in part (see the warnings above); failing because of fail-on-skipped" >&2
    else
      echo "imds-lint: $findings findings ($errors errors, $warnings warnings); failing because fail-on is $fail_on" >&2
    fi
    exit 1
  fi
}

case ${1:-} in
  key) key ;;
  install) install ;;
  run) run ;;
  *)
    echo "usage: action.sh key|install|run" >&2
    exit 2
    ;;
esac
