#!/usr/bin/env bash
# The PleoKeys benchmark: one command, about ten minutes. See docs/PERFORMANCE.md.
#
# Builds Release together with the benchmark's hooks (bench/PleoKeys.Bench.Hooks, a hosting startup assembly
# only this script loads), starts the app on 127.0.0.1 with a fresh SQLite database, creates keys through the
# real Create form, and measures each target of issues 5 and 13 against a baseline taken in the same run; last,
# the restart scenario creates BENCH_RESTART_KEYS keys, restarts the server and calls each once. Prints a table,
# writes it to bench/results.md and into docs/PERFORMANCE.md, and exits non-zero when a target fails.
#
#   bench/run.sh                      # everything
#   BENCH_PORT=5152 bench/run.sh      # another port
#   BENCH_SECONDS=5 BENCH_ROUNDS=10   # longer measuring (default: 8 alternating rounds of 3 s per side; BENCH_STEADY_ROUNDS=12)
#   BENCH_RESTART_KEYS=50             # fewer keys in the restart scenario (default 2000; BENCH_RESTART_WORKERS=4
#                                     # sessions create them, at BENCH_RESTART_WORK_FACTOR=4; BENCH_RESTART_WARMUP=200)
#   BENCH_KEEP=1                      # keep the temp folder (database, server log) for a look afterwards
#   BENCH_WRITE=0                     # a smoke run: print the table, write neither bench/results.md nor the docs
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PORT=${BENCH_PORT:-5151}
SECONDS_PER_ROUND=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-8}
STEADY_ROUNDS=${BENCH_STEADY_ROUNDS:-12}
WARMUP=${BENCH_WARMUP:-10}
CREATES=${BENCH_CREATES:-15}
CREATE_WARMUP=${BENCH_CREATE_WARMUP:-100}
RESTART_KEYS=${BENCH_RESTART_KEYS:-2000}
RESTART_WORKERS=${BENCH_RESTART_WORKERS:-4}
RESTART_WORK_FACTOR=${BENCH_RESTART_WORK_FACTOR:-4}
RESTART_WARMUP=${BENCH_RESTART_WARMUP:-200}
CONNECTIONS=32
BASE="http://127.0.0.1:$PORT"
export BENCH_LUA="$ROOT/bench/lua"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '\033[2m[bench %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

# ---- Tools ----
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
  log "installing ${need[*]} with apt-get"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || die "the .NET SDK is required (https://dot.net)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pleokeys-bench.XXXXXX")
chmod 700 "$WORK"
SERVER_PID="" SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- Build and start ----
# The product is built as it ships, together with bench/PleoKeys.Bench.Hooks, the benchmark's hosting startup
# assembly (/bench/anonymous, /bench/stats, Server-Timing). The app loads it only because start_server sets
# ASPNETCORE_HOSTINGSTARTUPASSEMBLIES and points DOTNET_ADDITIONAL_DEPS at its deps file; nothing else does.
APP="$WORK/app"
log "building Release with the benchmark's hooks"
dotnet build bench/PleoKeys.Bench.Hooks -c Release -nologo -v q -o "$APP" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; die "build failed"; }

DB="$WORK/bench.db"
if curl -s -o /dev/null --max-time 2 "$BASE/"; then die "something already listens on $BASE; stop it or set BENCH_PORT"; fi

# Starts the app on $BASE with the benchmark's database and secrets folder, extra settings as NAME=value
# arguments; waits until the hooks answer.
start_server() {
  log "starting the app on $BASE (database $DB${*:+; $*})"
  (
    cd src/PleoKeys.Web
    # "Benchmark" is a production-like environment (exception page, HSTS, HTTPS redirection registered) with
    # the demo data seeded; the per-key limit is raised so the limiter counts without refusing the load.
    exec env ASPNETCORE_ENVIRONMENT=Benchmark ASPNETCORE_URLS="$BASE" \
      ASPNETCORE_HOSTINGSTARTUPASSEMBLIES=PleoKeys.Bench.Hooks DOTNET_ADDITIONAL_DEPS="$APP/PleoKeys.Bench.Hooks.deps.json" \
      ConnectionStrings__Sqlite="Data Source=$DB" \
      PleoKeys__SecretsPath="$WORK/secrets" \
      PleoKeys__SeedDemoData=true \
      PleoKeys__RequestsPerMinute=1000000000 \
      PleoKeys__KeyCreationsPerMinutePerUser=1000000000 \
      PleoKeys__MaxActiveKeysPerCompany=1000000000 \
      Logging__LogLevel__Default=Warning \
      "$@" \
      dotnet "$APP/PleoKeys.Web.dll"
  ) >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    curl -sf "$BASE/bench/stats" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$WORK/server.log"; die "the app did not start"; }
    sleep 0.2
  done
  if ! curl -sf "$BASE/bench/stats" >/dev/null; then
    curl -s -o /dev/null --max-time 2 "$BASE/" && die "the app answers but /bench/stats does not: the hooks were not loaded"
    die "the app did not answer on $BASE"
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$WORK/server.log"; die "the app exited"; }
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

start_server

# Resident memory, sampled all through the run with the scenario running at the time; the kernel's
# high-water mark is read at the end.
phase() { echo "$1" >"$WORK/phase"; }
phase start
(
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    kb=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)
    [ -n "$kb" ] && echo "$kb $(cat "$WORK/phase" 2>/dev/null)"
    sleep 0.5
  done
) >"$WORK/rss.txt" &
SAMPLER_PID=$!

# ---- Helpers ----
# Runs wrk and prints its BENCH line (see lua/common.lua).
run_wrk() { # threads connections seconds script url [env...]
  local t=$1 c=$2 d=$3 script=$4 url=$5
  shift 5
  env "$@" wrk -t"$t" -c"$c" -d"${d}s" --timeout 10s -s "$BENCH_LUA/$script" "$url" | grep '^BENCH' || echo "BENCH requests=0 seconds=1 rps=0"
}
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
bcrypt_verifies() { curl -sf "$BASE/bench/stats" | sed -n 's/.*"bCryptVerifies":\([0-9]*\).*/\1/p'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=" ? v >= t : op == "<" ? v < t : v == t); print (ok ? "PASS" : "FAIL") }'; }

JAR="$WORK/cookies.txt"
token() { sed -n 's/.*name="__RequestVerificationToken" type="hidden" value="\([^"]*\)".*/\1/p' | head -1; }

sign_in() {
  local t
  t=$(curl -sf -c "$JAR" -b "$JAR" "$BASE/Account/Login" | token)
  curl -sf -o /dev/null -c "$JAR" -b "$JAR" \
    --data-urlencode "Input.Email=admin@nordiccoffee.example" --data-urlencode "Input.Password=Pleo-Demo-2026!" \
    --data-urlencode "__RequestVerificationToken=$t" "$BASE/Account/Login"
}

# Creates a key through the real Create form and one-time reveal. Keeps the key in $WORK/NAME.key (never
# printed) and prints the Server-Timing of the create POST: "total_ms bcrypt_ms hashes".
create_key() { # file-name display-name
  local file=$1 name=$2 form t ticket headers timing reveal
  form=$(curl -sf -c "$JAR" -b "$JAR" "$BASE/Settings/ApiKeys/Create")
  t=$(token <<<"$form")
  ticket=$(grep -o 'name="FormTicket" value="[^"]*"' <<<"$form" | sed 's/.*value="//; s/"$//')
  headers=$(curl -s -o /dev/null -D - -c "$JAR" -b "$JAR" \
    --data-urlencode "Input.Name=$name" --data-urlencode "Input.Expiration=90" --data-urlencode "Input.AccessLevel=Company" \
    --data-urlencode "Input.Scopes=export-jobs:read" --data-urlencode "Input.Scopes=accounts:read" \
    --data-urlencode "FormTicket=$ticket" --data-urlencode "__RequestVerificationToken=$t" "$BASE/Settings/ApiKeys/Create")
  reveal=$(grep -i '^location: /Settings/ApiKeys/Reveal/' <<<"$headers" | sed 's/^[Ll]ocation: //' | tr -d '\r')
  [ -n "$reveal" ] || die "creating key '$name' did not redirect to the reveal"
  (umask 077; curl -sf -c "$JAR" -b "$JAR" "$BASE$reveal" \
    | grep -o 'id="new-key"[^>]*value="pleo_[A-Za-z0-9_]*"' | grep -o 'pleo_[A-Za-z0-9_]*' >"$WORK/$file.key")
  [ "$(wc -c <"$WORK/$file.key")" -eq 62 ] || die "the reveal did not show key '$name'"
  (umask 077; printf 'Authorization: Basic %s\n' "$(printf '%s:' "$(cat "$WORK/$file.key")" | base64 -w0)" >"$WORK/$file.headers")
  timing=$(grep -i '^server-timing:' <<<"$headers" | tr -d '\r')
  printf '%s %s %s\n' "$(sed -n 's/.*total;dur=\([0-9.]*\).*/\1/p' <<<"$timing")" \
    "$(sed -n 's/.*bcrypt;dur=\([0-9.]*\).*/\1/p' <<<"$timing")" "$(sed -n 's/.*desc="\([0-9]*\) hash.*/\1/p' <<<"$timing")"
}

# Alternates two wrk runs, A B, B A, A B, ..., so that load from elsewhere on a shared machine hits both
# sides alike; each round gives a ratio A/B. Prints "median_rps_a median_rps_b median_ratio non2xx_a
# non2xx_b requests_a requests_b": medians over rounds, so one disturbed round cannot decide the result.
alternate() { # script_a env_a url_a script_b env_b url_b threads connections
  local sa=$1 ea=$2 ua=$3 sb=$4 eb=$5 ub=$6 t=$7 c=$8 r side line
  local -A rps req bad=([a]=0 [b]=0)
  req=([a]=0 [b]=0)
  : >"$WORK/rounds.txt"
  for r in $(seq "$ROUNDS"); do
    for side in $( ((r % 2)) && echo "a b" || echo "b a"); do
      if [ "$side" = a ]; then line=$(run_wrk "$t" "$c" "$SECONDS_PER_ROUND" "$sa" "$ua" $ea)
      else line=$(run_wrk "$t" "$c" "$SECONDS_PER_ROUND" "$sb" "$ub" $eb); fi
      rps[$side]=$(field rps "$line")
      req[$side]=$((req[$side] + $(field requests "$line")))
      bad[$side]=$((bad[$side] + $(field non2xx "$line")))
    done
    echo "${rps[a]} ${rps[b]}" >>"$WORK/rounds.txt"
    log "  round $r: $(awk -v a="${rps[a]}" -v b="${rps[b]}" 'BEGIN { printf "%.0f vs %.0f req/s, ratio %.3f", a, b, (b > 0 ? a / b : 0) }')"
  done
  printf '%s %s %s %d %d %d %d\n' "$(median 1 <"$WORK/rounds.txt")" "$(median 2 <"$WORK/rounds.txt")" \
    "$(awk '{ printf "%.4f\n", ($2 > 0 ? $1 / $2 : 0) }' "$WORK/rounds.txt" | median 1)" "${bad[a]}" "${bad[b]}" "${req[a]}" "${req[b]}"
}
median() { awk -v c="$1" '{ print $c }' | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); print (m == int(m) || m > 100 ? sprintf("%.0f", m) : sprintf("%.3f", m)) }'; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); log "$1: $2 vs $3 → $4 (target $5) $6"; }

# ---- Seed: keys through the real form ----
phase seed
log "signing in and creating the benchmark's keys through the Create form"
sign_in
create_key steady "Benchmark steady" >/dev/null
create_key cold "Benchmark cold start" >/dev/null
KEY_PREFIX=$(cut -c1-10 "$WORK/steady.key")
KEY_ID=$(cut -c11-22 "$WORK/steady.key")
STEADY="BENCH_HEADERS=$WORK/steady.headers"

# ---- 2. Cold start (first, before any failure budget is spent) ----
phase cold-start
log "cold start: 32 concurrent first requests with a new key"
before=$(bcrypt_verifies)
urls=()
for _ in $(seq 32); do urls+=(-o /dev/null "$BASE/v1/installations/me"); done
codes=$(curl -s -Z --parallel-immediate --parallel-max 32 -H @"$WORK/cold.headers" -w '%{http_code}\n' "${urls[@]}")
after=$(bcrypt_verifies)
ok=$(grep -c '^200$' <<<"$codes" || true)
cold=$((after - before))
# A key made through the form carries its digest from the start (docs/PERFORMANCE.md), so its first calls need no BCrypt at all.
row "2. Cold start: BCrypt verifies for 32 concurrent first requests of a new key ($ok × 200)" "$cold" "32 requests" "$cold per 32" "= 0" "$(verdict "$cold" "=" 0)"

# ---- 1. Steady state ----
phase steady-state
log "steady state: warming up (${WARMUP}s each side)"
run_wrk 2 "$CONNECTIONS" "$WARMUP" plain.lua "$BASE/bench/anonymous" >/dev/null
run_wrk 2 "$CONNECTIONS" "$WARMUP" plain.lua "$BASE/v1/installations/me" "$STEADY" >/dev/null
log "steady state: $STEADY_ROUNDS rounds of ${SECONDS_PER_ROUND}s per side, $CONNECTIONS connections"
read -r auth_rps anon_rps r auth_bad anon_bad auth_n anon_n < <(ROUNDS=$STEADY_ROUNDS alternate \
  plain.lua "$STEADY" "$BASE/v1/installations/me" plain.lua "BENCH_HEADERS=" "$BASE/bench/anonymous" 2 "$CONNECTIONS")
row "1. Steady state: GET /v1/installations/me with a key, req/s ($auth_n requests, $auth_bad not 200)" "$auth_rps" "$anon_rps (anonymous twin)" "$r" "≥ 0.85" \
  "$( [ "$auth_bad$anon_bad" = 00 ] && verdict "$r" ">=" 0.85 || echo FAIL)"

# ---- 3. Garbage ----
phase garbage
log "garbage: malformed keys, bad checksums, unknown key ids"
before=$(bcrypt_verifies)
run_wrk 2 "$CONNECTIONS" 3 garbage.lua "$BASE/v1/installations/me" "BENCH_KEY_PREFIX=$KEY_PREFIX" >/dev/null
read -r garbage_rps anon_rps r garbage_bad anon_bad garbage_n anon_n < <(alternate \
  garbage.lua "BENCH_KEY_PREFIX=$KEY_PREFIX" "$BASE/v1/installations/me" rotate.lua "BENCH_HEADERS=" "$BASE/bench/anonymous" 2 "$CONNECTIONS")
garbage_bcrypt=$(($(bcrypt_verifies) - before))
row "3. Garbage keys rejected, req/s, from one address (over its failure budget after 60, then refused before the pipeline; $garbage_bad of $garbage_n refused; BCrypt verifies: $garbage_bcrypt)" "$garbage_rps" "$anon_rps (anonymous twin)" "$r" "≥ 0.8" \
  "$( [ "$garbage_bcrypt" -eq 0 ] && [ "$garbage_bad" -eq "$garbage_n" ] && [ "$anon_bad" -eq 0 ] && verdict "$r" ">=" 0.8 || echo FAIL)"

# Reported, not a target: the same garbage from 16,384 client addresses (X-Forwarded-For, which the app
# believes from 127.0.0.1), each within its failure budget, so every key goes the whole way through the
# handler and is answered 401, as a botnet spraying keys would be. Each never-seen key id costs one
# indexed lookup (still no BCrypt), which one address over its budget is spared.
SPREAD=8192
phase garbage-spread
log "garbage from $((2 * SPREAD)) client addresses, each within its failure budget (reported, not a target)"
read -r spread_rps spread_anon_rps spread_r spread_bad spread_anon_bad spread_n spread_anon_n < <(ROUNDS=4 alternate \
  garbage.lua "BENCH_KEY_PREFIX=$KEY_PREFIX BENCH_SPREAD=$SPREAD" "$BASE/v1/installations/me" rotate.lua "BENCH_HEADERS= BENCH_SPREAD=$SPREAD" "$BASE/bench/anonymous" 2 "$CONNECTIONS")
# Budgets are spent evenly over the addresses, so if the first address still gets a 401, none got a 429.
last_status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 10.1.0.0" -u "${KEY_PREFIX}notakey:" "$BASE/v1/installations/me")
garbage_bcrypt=$(($(bcrypt_verifies) - before))
row "3b. Garbage from $((2 * SPREAD)) addresses within their budgets, every key answered 401 by the handler, req/s ($spread_bad of $spread_n refused; still $last_status after it, not 429; BCrypt verifies: $garbage_bcrypt)" \
  "$spread_rps" "$spread_anon_rps (anonymous twin)" "$spread_r" "reported; no BCrypt" \
  "$( [ "$garbage_bcrypt" -eq 0 ] && [ "$last_status" = 401 ] && [ "$spread_bad" -eq "$spread_n" ] && [ "$spread_anon_bad" -eq 0 ] && echo "PASS (no BCrypt, all refused)" || echo FAIL)"

# ---- 4. Attack ----
# The attacker and the valid client both come from 127.0.0.1, so the attacker spends the valid client's
# address budget too: cached valid keys must not depend on it.
phase attack
log "attack: wrong secrets for a real key id while valid traffic runs"
before=$(bcrypt_verifies)
flood_r=0 flood_rejected=0
: >"$WORK/attack-rounds.txt"
for r in $(seq "$ROUNDS"); do
  normal=$(run_wrk 1 16 "$SECONDS_PER_ROUND" plain.lua "$BASE/v1/installations/me" "$STEADY")
  run_wrk 1 16 "$((SECONDS_PER_ROUND + 2))" attack.lua "$BASE/v1/installations/me" "BENCH_KEY_PREFIX=$KEY_PREFIX" "BENCH_KEY_ID=$KEY_ID" >"$WORK/attack.txt" &
  attacker=$!
  sleep 1
  attacked=$(run_wrk 1 16 "$SECONDS_PER_ROUND" plain.lua "$BASE/v1/installations/me" "$STEADY")
  wait "$attacker"
  [ "$(field non2xx "$attacked")" = 0 ] || log "warning: $(field non2xx "$attacked") valid requests were refused during the attack"
  echo "$(field rps "$attacked") $(field rps "$normal")" >>"$WORK/attack-rounds.txt"
  flood=$(cat "$WORK/attack.txt")
  flood_r=$((flood_r + $(field requests "$flood"))); flood_rejected=$((flood_rejected + $(field non2xx "$flood")))
done
attack_bcrypt=$(($(bcrypt_verifies) - before))
attacked_rps=$(median 1 <"$WORK/attack-rounds.txt")
normal_rps=$(median 2 <"$WORK/attack-rounds.txt")
r=$(awk '{ printf "%.4f\n", ($2 > 0 ? $1 / $2 : 0) }' "$WORK/attack-rounds.txt" | median 1)
row "4. Attack: valid req/s while $flood_r wrong secrets ($flood_rejected refused) flood its key id (BCrypt verifies: $attack_bcrypt)" \
  "$attacked_rps" "$normal_rps (no attack)" "$r" "≥ 0.5" "$(verdict "$r" ">=" 0.5)"

# ---- 5. The list page ----
phase list-page
log "list page: inserting 10,000 keys into one company"
# NormalizedName is the case-folded search form (KeyName.Fold); for these ASCII names that is lower().
sqlite3 "$DB" >/dev/null <<'SQL'
.timeout 30000
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000),
rows AS (SELECT i, hex(randomblob(16)) AS h FROM n)
INSERT INTO ApiKeys (Id, KeyId, Environment, Last4, SecretHash, Name, NormalizedName, AccessLevel, CompanyId, OrganisationId,
                     Scopes, CreatedAtUtc, CreatedByUserId, CreatedByName, ExpiresAtUtc)
SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' || substr(h, 17, 4) || '-' || substr(h, 21, 12),
       'bench' || printf('%07d', i), 'Staging', substr(h, 1, 4), '$2a$11$' || h || substr(h, 1, 21),
       name, lower(name), 'Company', c.Id, c.OrganisationId, 'export-jobs:read accounts:read',
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (i * 7) || ' minutes'),
       u.Id, u.DisplayName, strftime('%Y-%m-%d %H:%M:%S', 'now', '+' || (30 + i % 300) || ' days')
FROM (SELECT i, h, 'Integration ' || i || ' (' ||
        CASE i % 4 WHEN 0 THEN 'ERP sync' WHEN 1 THEN 'Vendor import' WHEN 2 THEN 'BI export' ELSE 'Payroll' END || ')' AS name
      FROM rows)
CROSS JOIN (SELECT Id, OrganisationId FROM Companies WHERE Name = 'Nordic Coffee ApS') c
CROSS JOIN (SELECT Id, DisplayName FROM AspNetUsers WHERE NormalizedEmail = 'ADMIN@NORDICCOFFEE.EXAMPLE') u;
SQL
keys=$(sqlite3 "$DB" "SELECT count(*) FROM ApiKeys k JOIN Companies c ON c.Id = k.CompanyId WHERE c.Name = 'Nordic Coffee ApS'")
awk -F'\t' 'NF >= 7 { printf "%s%s=%s", (n++ ? "; " : "Cookie: "), $6, $7 } END { print "" }' "$JAR" >"$WORK/session.headers"
chmod 600 "$WORK/session.headers"
# Warm up until the page's code is compiled at full optimisation (tiered JIT), as on a server that has run a while.
run_wrk 1 2 "$WARMUP" plain.lua "$BASE/Settings/ApiKeys" "BENCH_HEADERS=$WORK/session.headers" >/dev/null
run_wrk 1 2 "$WARMUP" plain.lua "$BASE/Settings/ApiKeys?q=vendor" "BENCH_HEADERS=$WORK/session.headers" >/dev/null
list=$(run_wrk 1 1 10 timing.lua "$BASE/Settings/ApiKeys" "BENCH_HEADERS=$WORK/session.headers")
search=$(run_wrk 1 1 10 timing.lua "$BASE/Settings/ApiKeys?q=vendor" "BENCH_HEADERS=$WORK/session.headers")
for name in list search; do
  line=${!name}
  [ "$(field non2xx "$line")" = 0 ] && [ "$(field server_samples "$line")" -gt 0 ] || die "the $name page did not answer 200: $line"
done
p95=$(field server_p95_ms "$list")
row "5a. List page, $keys keys in the company: p95 server time, ms (wrk p95 $(field p95_ms "$list") ms, $(field requests "$list") requests)" \
  "$p95" "50 ms" "$(ratio "$p95" 50)" "< 50 ms" "$(verdict "$p95" "<" 50)"
p95=$(field server_p95_ms "$search")
row "5b. List page searching 'vendor': p95 server time, ms (wrk p95 $(field p95_ms "$search") ms)" \
  "$p95" "50 ms" "$(ratio "$p95" 50)" "< 50 ms" "$(verdict "$p95" "<" 50)"

phase key-creation
log "key creation: $CREATES keys through the form (after $CREATE_WARMUP to warm up), server time beyond the BCrypt hash"
# Tiered compilation optimises a method after 30 calls (the app turns dynamic PGO's second, instrumented
# round off); the create path runs thousands of methods once per key, so warm it well past that.
for i in $(seq "$CREATE_WARMUP"); do create_key warm "Benchmark warm-up $i" >/dev/null; done
: >"$WORK/create.txt"
for i in $(seq "$CREATES"); do create_key "create$i" "Benchmark create $i" >>"$WORK/create.txt"; done
# Each line: total_ms bcrypt_ms hashes. The figure is the median of (total - bcrypt).
overhead=$(awk '{ printf "%.2f\n", $1 - $2 }' "$WORK/create.txt" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
create_bcrypt=$(awk '{ print $2 }' "$WORK/create.txt" | sort -n | awk '{ a[NR] = $1 } END { printf "%.0f", a[int((NR + 1) / 2)] }')
hashes_ok=$(awk '$3 != 1 { bad++ } END { print bad ? "no" : "yes" }' "$WORK/create.txt")
# The disk's part of it: one-row SQLite commits in the same folder, in WAL mode with the default
# synchronous=FULL the app uses, each waiting for fsync.
commit_ms=$( { printf "PRAGMA journal_mode=WAL;\nCREATE TABLE t(x);\n.timer on\n"; for i in $(seq 21); do echo "INSERT INTO t VALUES ($i);"; done; } \
  | sqlite3 "$WORK/fsync.db" 2>/dev/null | sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p' | awk '{ printf "%.2f\n", $1 * 1000 }' | median 1)
row "5c. Create a key through the form: server time beyond its one BCrypt hash, ms (median of $CREATES; one hash each: $hashes_ok; a one-row SQLite commit on this disk: $commit_ms ms)" \
  "$overhead" "$create_bcrypt ms (the BCrypt hash)" "$(ratio "$overhead" "$create_bcrypt")" "< 5 ms" \
  "$( [ "$hashes_ok" = yes ] && verdict "$overhead" "<" 5 || echo FAIL)"

# ---- 6. Memory ----
kill -0 "$SERVER_PID" 2>/dev/null || die "the app exited during the run"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
# What the resident memory is made of at the end: anonymous (GC heap, native), file (mapped assemblies),
# shared (the JIT's code, mapped twice under W^X).
rss_parts=$(awk '/^Rss(Anon|File|Shmem)/ { printf "%s%s %d MB", (n++ ? ", " : ""), substr($1, 4, length($1) - 4), $2 / 1024 }' "/proc/$SERVER_PID/status")
sampled=$(sort -n "$WORK/rss.txt" | tail -1 | cut -d' ' -f1)
peak_phase=$(sort -n "$WORK/rss.txt" | tail -1 | cut -d' ' -f2)
max_kb=$(( hwm > sampled ? hwm : sampled ))
rss_mb=$(awk -v k="$max_kb" 'BEGIN { printf "%.0f", k / 1024 }')
row "6. Memory: peak server RSS over the whole run, MB ($(wc -l <"$WORK/rss.txt") samples, the highest during '$peak_phase'; at the end $rss_parts)" "$rss_mb" "250 MB" "$(ratio "$rss_mb" 250)" "< 250 MB" "$(verdict "$rss_mb" "<" 250)"

# ---- 7. Restart ----
# Issue 13: after a restart, each active key's first call must not pay a BCrypt verify. RESTART_KEYS keys are
# created through the real Create form and reveal, the server is stopped and started again on the same database
# and secrets folder (the digest's server secret lives there), and each key is called once at $CONNECTIONS
# connections. The keys are created on a server started with PleoKeys:BCryptWorkFactor=$RESTART_WORK_FACTOR:
# at the configured factor 2,000 creations cost about 2,000 × 160 ms of BCrypt, minutes of a core spent on
# nothing this scenario measures. A key's BCrypt hash carries its own factor, so a verify after the restart
# would be cheap too and latency alone could hide it: the proof is the count of BCrypt verifies (the hooks'
# counting hasher), which must be 0. The restarted server runs with the configured factor.
stop_sampler() { [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""; }
stop_sampler
phase restart-create
stop_server
start_server PleoKeys__BCryptWorkFactor="$RESTART_WORK_FACTOR"
log "restart: creating $RESTART_KEYS keys through the Create form ($RESTART_WORKERS sessions at once, BCrypt work factor $RESTART_WORK_FACTOR)"
mkdir -m 700 "$WORK/restart"
workers=()
for w in $(seq 0 $((RESTART_WORKERS - 1))); do
  (
    JAR="$WORK/restart/session$w.txt"
    sign_in
    for i in $(seq "$w" "$RESTART_WORKERS" $((RESTART_KEYS - 1))); do
      create_key "restart/$i" "Restart $i" >/dev/null
    done
  ) &
  workers+=($!)
done
for job in "${workers[@]}"; do wait "$job" || die "creating the restart scenario's keys failed"; done
created=$(find "$WORK/restart" -name '*.headers' | wc -l)
[ "$created" -eq "$RESTART_KEYS" ] || die "created $created keys, expected $RESTART_KEYS"

log "restart: stopping the server and starting it again on the same database and secrets folder"
stop_server
start_server
# Warm-up with the benchmark's own steady key (created before the restart) and the anonymous twin, as a
# load balancer's health check would: the figure is then the keys' first calls, not the JIT compiling the
# path on the very first requests. No key of the scenario is called.
warm=() twin=()
for _ in $(seq "$RESTART_WARMUP"); do warm+=(-o /dev/null "$BASE/v1/installations/me"); twin+=(-o /dev/null "$BASE/bench/anonymous"); done
curl -s -Z --parallel-max "$CONNECTIONS" -H @"$WORK/steady.headers" "${warm[@]}" || true
curl -s -Z --parallel-max "$CONNECTIONS" "${twin[@]}" || true
phase restart-calls
# One transfer per key, each with its own Authorization header (a file only the benchmark reads), at most
# $CONNECTIONS at once; curl writes each transfer's status and total time.
for i in $(seq 0 $((RESTART_KEYS - 1))); do
  [ "$i" -eq 0 ] || echo next
  printf 'url = "%s"\nheader = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total}\\n"\nsilent\n' \
    "$BASE/v1/installations/me" "$WORK/restart/$i.headers"
done >"$WORK/restart/calls.curlrc"
before=$(bcrypt_verifies)
curl -s -Z --parallel-immediate --parallel-max "$CONNECTIONS" -K "$WORK/restart/calls.curlrc" >"$WORK/restart/calls.txt" || true
restart_bcrypt=$(($(bcrypt_verifies) - before))
restart_ok=$(grep -c '^200 ' "$WORK/restart/calls.txt" || true)
read -r p50 p95 p99 < <(awk '{ printf "%.3f\n", $2 * 1000 }' "$WORK/restart/calls.txt" | sort -g | awk '
  { v[NR] = $1 }
  function pct(p,  i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i] }
  END { printf "%.1f %.1f %.1f\n", pct(0.50), pct(0.95), pct(0.99) }')
row "7. Restart: $RESTART_KEYS keys created through the form, server restarted on the same database and secrets, each key called once at $CONNECTIONS connections: p99 latency, ms (p50 $p50, p95 $p95; $restart_ok × 200; BCrypt verifies: $restart_bcrypt)" \
  "$p99" "50 ms" "$(ratio "$p99" 50)" "< 50 ms, 0 BCrypt" \
  "$( [ "$restart_bcrypt" -eq 0 ] && [ "$restart_ok" -eq "$RESTART_KEYS" ] && verdict "$p99" "<" 50 || echo FAIL)"

# ---- Report ----
machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r), .NET SDK $(dotnet --version)"
load=$(cut -d' ' -f1-3 /proc/loadavg)
factor=$(sed -n 's/.*"BCryptWorkFactor": *\([0-9]*\).*/\1/p' src/PleoKeys.Web/appsettings.json)
{
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $machine; load average at the end $load."
  echo "BCrypt work factor $factor; wrk with $CONNECTIONS connections (the attack: 16 valid + 16 attacking); $ROUNDS alternating rounds of ${SECONDS_PER_ROUND}s per side ($STEADY_ROUNDS for the steady state, 4 for 3b) after ${WARMUP}s warm-up; figures are medians over rounds, the ratio the median of the rounds' ratios. Restart: keys created at BCrypt work factor $RESTART_WORK_FACTOR, the restarted server warmed with $RESTART_WARMUP calls of the steady key and of the twin, latencies as curl measured them."
  echo
  echo "| scenario | figure | baseline (same run) | ratio | target | result |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} >"$WORK/results.md"

# BENCH_WRITE=0 (a smoke run with short settings) leaves bench/results.md and docs/PERFORMANCE.md alone.
[ "${BENCH_WRITE:-1}" = 0 ] || cp "$WORK/results.md" bench/results.md
doc=docs/PERFORMANCE.md
if [ "${BENCH_WRITE:-1}" != 0 ] && [ -f "$doc" ] && grep -q '<!-- bench:results:start -->' "$doc"; then
  awk -v file="$WORK/results.md" '
    /<!-- bench:results:start -->/ { print; while ((getline line < file) > 0) print line; skip = 1; next }
    /<!-- bench:results:end -->/ { skip = 0 }
    !skip' "$doc" >"$WORK/doc.md" && cp "$WORK/doc.md" "$doc"
fi

echo
cat "$WORK/results.md"
echo
if grep -q '| FAIL |$' "$WORK/results.md"; then
  echo "bench: some targets FAILED"
  exit 1
fi
echo "bench: all targets PASS"
