# shellcheck shell=bash
# Turbine variants for the ablation: sourced by bench/run (--ablation) and bench/instructions.
# Each variant is the same bench-turbine binary, started exactly like Turbine as shipped
# (TURBINE_ENV=prod, secret key, allowed hosts "*"), plus the environment below.

TURBINE_VARIANTS=(turbine-no-metrics turbine-no-sec-headers turbine-no-timeout turbine-bare turbine+trace-span)

declare -A TURBINE_VARIANT_ENV=(
  [turbine-no-metrics]="TURBINE_OBSERVABILITY__METRICS=false"
  [turbine-no-sec-headers]="TURBINE_SECURITY__HEADERS=false"
  [turbine-no-timeout]="TURBINE_HTTP__REQUEST_TIMEOUT=0s"
  [turbine-bare]="TURBINE_OBSERVABILITY__METRICS=false TURBINE_SECURITY__HEADERS=false TURBINE_HTTP__REQUEST_TIMEOUT=0s TURBINE_HTTP__COMPRESSION=false TURBINE_HTTP__SERVER_HEADER=x"
  [turbine+trace-span]="TURBINE_HTTP__TRACE=true"
)

declare -A TURBINE_VARIANT_DESC=(
  [turbine-no-metrics]="metrics off"
  [turbine-no-sec-headers]="security headers off"
  [turbine-no-timeout]="request timeout off"
  [turbine-bare]="metrics, security headers, timeout and compression off; Server: x"
  [turbine+trace-span]="per-request tracing span on (off by default)"
)

is_variant() { [[ -n ${TURBINE_VARIANT_ENV[$1]+set} ]]; }

base_of() { # entry name -> the server it runs (a variant runs turbine)
  if is_variant "$1"; then echo turbine; else echo "$1"; fi
}

# select_variants LIST: comma-separated names, full (turbine-bare) or short (bare, trace-span);
# "all" or empty selects every variant. Sets SELECTED_VARIANTS in the canonical order.
select_variants() {
  local list=$1 w v found
  local -a wanted=()
  SELECTED_VARIANTS=()
  if [[ -z $list || $list == all ]]; then
    SELECTED_VARIANTS=("${TURBINE_VARIANTS[@]}")
    return 0
  fi
  IFS=, read -ra wanted <<<"$list"
  for w in "${wanted[@]}"; do
    found=0
    for v in "${TURBINE_VARIANTS[@]}"; do
      [[ $w == "$v" || "turbine-$w" == "$v" || "turbine+$w" == "$v" ]] && found=1
    done
    ((found)) || { echo "unknown variant '$w' (${TURBINE_VARIANTS[*]})" >&2; return 1; }
  done
  for v in "${TURBINE_VARIANTS[@]}"; do
    for w in "${wanted[@]}"; do
      if [[ $w == "$v" || "turbine-$w" == "$v" || "turbine+$w" == "$v" ]]; then
        SELECTED_VARIANTS+=("$v")
        break
      fi
    done
  done
}

# variant_fields NAME: KEY=VALUE arguments for `report.py event` describing a variant (none for a
# plain server), so every event about it says what it is.
variant_fields() {
  is_variant "$1" || return 0
  local env_json
  # shellcheck disable=SC2086 # the env list is space-separated KEY=VALUE words
  env_json="$(python3 -c 'import json,sys; print(json.dumps(dict(a.split("=", 1) for a in sys.argv[1:])))' \
    ${TURBINE_VARIANT_ENV[$1]})"
  printf '%s\n' "variant_of=turbine" "variant_env=$env_json" "variant_desc=${TURBINE_VARIANT_DESC[$1]}"
}
