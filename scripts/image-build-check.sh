#!/usr/bin/env bash
# Replays the root Dockerfile's build outside Docker (no Docker engine on these machines) and checks what
# would end up in each image.
#
#   scripts/image-build-check.sh [--live] [--keep] [WORKSPACE...]     (default: every services/* workspace and gateway)
#
# For each workspace (services/<name>, gateway) it:
#   1. builds the build context the way Docker would: the repository's files filtered by .dockerignore;
#   2. runs the `deps` stage for real in a scratch directory standing in for /app: every COPY from the
#      context and every RUN line, verbatim, with the stage's ARG/ENV, on this repository's pinned Node 24
#      (the same version as the Dockerfile's NODE_VERSION, checked) and npm;
#   3. assembles the runtime stage's /app: COPY --from=deps and every COPY from the context;
#   4. checks the result: every installed package belongs to the workspace's production dependency
#      closure in package-lock.json (so nothing dev-only or foreign), no tests, the `service` entry link,
#      the migration entry for subgraphs;
#   5. runs the image's ENTRYPOINT + CMD (and the migration entry) from that directory with an empty
#      environment: each must load every module it imports and stop at config validation with exit 78;
#   6. with --live, against the real infrastructure (.infra.env or DATABASE_URL/REDIS_URL/KAFKA_BROKERS):
#      runs the migration entry on a throwaway database (exit 0, twice), starts the process (NODE_ENV
#      development, so the services derive their development keys), waits for /readyz = 200, sends SIGTERM
#      and expects a clean exit 0.
#
# Not proven here (needs a Docker engine): the base image's contents and the runtime stage's RUN, which only
# touches system paths (removes npm, adds the user 10001); the layer cache; the image's size. The processes
# run as this machine's user, not as 10001, and on this machine's glibc rather than the image's Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

live=0 keep=0 workspaces=()
for arg in "$@"; do
  case $arg in
    --live) live=1 ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) workspaces+=("${arg%/}") ;;
  esac
done
if [[ ${#workspaces[@]} -eq 0 ]]; then
  # Every deployable workspace: the platform's subgraphs, any scaffolded one (npm run new-subgraph), the gateway.
  for dir in services/*/; do [[ -f $dir/package.json ]] && workspaces+=("${dir%/}"); done
  workspaces+=(gateway)
fi

node24="$root/node_modules/.bin/node"
[[ -x $node24 ]] || { echo "image-build-check: $node24 missing; run npm install first" >&2; exit 1; }
command -v npm >/dev/null || { echo "image-build-check: npm not found" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vtv-image-check.XXXXXX")
children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ $keep == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A PATH whose `node` is the repository's Node 24; npm runs on it too.
mkdir -p "$work/bin" "$work/tmp"
ln -s "$node24" "$work/bin/node"
export PATH="$work/bin:$PATH"
started=$(date +%s)

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------
# The Dockerfile parser and the .dockerignore matcher. Only the subset of Dockerfile syntax this repository
# uses is accepted; anything else fails loudly, so the Dockerfile cannot grow a step this replay skips.
cat >"$work/plan.js" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [, , root, out] = process.argv;

// .dockerignore: patterns anchored at the context root, ** across directories, the last match wins, and a
// pattern that matches a directory excludes everything under it.
function toRegex(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') { const end = pattern.indexOf(']', i); re += pattern.slice(i, end + 1); i = end; }
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
const rules = fs
  .readFileSync(path.join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const negate = l.startsWith('!');
    const p = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/$/, '');
    return { negate, re: toRegex(p) };
  });
function ignored(rel) {
  const parts = rel.split('/');
  let out = false;
  for (const { negate, re } of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (re.test(parts.slice(0, n).join('/'))) { out = !negate; break; }
    }
  }
  return out;
}
const context = [];
(function walk(dir) {
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (rel === '.git') continue;
    if (e.isDirectory()) {
      // A directory excluded outright cannot be re-included below unless a negation names something in it.
      if (ignored(rel) && !rules.some((r) => r.negate && r.re.source.startsWith(`^${rel.replace(/[.]/g, '\\.')}/`))) continue;
      walk(rel);
    } else if (!ignored(rel)) context.push(rel);
  }
})('');

// Dockerfile: join continuation lines, split instructions, keep stages in order.
const text = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const lines = [];
let cur = '';
for (const raw of text.split('\n')) {
  if (!cur && (raw.trim().startsWith('#') || !raw.trim())) continue;
  if (raw.trim().startsWith('#')) continue;
  // Docker removes the backslash and the newline; the next line's indentation stays.
  if (raw.endsWith('\\')) { cur += raw.slice(0, -1); continue; }
  lines.push(cur + raw);
  cur = '';
}
const globalArgs = {};
const stages = [];
let stage;
for (const line of lines) {
  const m = /^(\w+)\s+([\s\S]*)$/.exec(line.trim());
  if (!m) throw new Error(`cannot parse Dockerfile line: ${line}`);
  const [, instr, rest] = [m[0], m[1].toUpperCase(), m[2]];
  if (instr === 'ARG' && !stage) {
    const [k, v] = rest.split('=');
    globalArgs[k] = v ?? '';
    continue;
  }
  if (instr === 'FROM') {
    const fm = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest.trim());
    if (!fm) throw new Error(`FROM without a stage name: ${line}`);
    stage = { name: fm[2], base: fm[1], args: [], env: {}, ops: [], workdir: '/', user: '', entrypoint: null, cmd: null };
    stages.push(stage);
    continue;
  }
  if (!stage) throw new Error(`instruction before FROM: ${line}`);
  switch (instr) {
    case 'ARG': stage.args.push(rest.trim().split('=')[0]); break;
    case 'ENV': {
      for (const pair of rest.trim().split(/\s+/)) {
        const [k, ...v] = pair.split('=');
        stage.env[k] = v.join('=');
      }
      break;
    }
    case 'WORKDIR': stage.workdir = rest.trim(); break;
    case 'USER': stage.user = rest.trim(); break;
    case 'EXPOSE': case 'LABEL': break;
    case 'ENTRYPOINT': stage.entrypoint = JSON.parse(rest); break;
    case 'CMD': stage.cmd = JSON.parse(rest); break;
    case 'RUN': {
      // A cache mount holds npm's download cache; replayed here, that is this machine's npm cache.
      let cmd = rest.trim();
      let mount;
      while ((mount = /^--mount=(\S+)\s+/.exec(cmd))) {
        if (!mount[1].startsWith('type=cache,')) throw new Error(`RUN --mount=${mount[1]} is not replayed`);
        cmd = cmd.slice(mount[0].length);
      }
      if (cmd.startsWith('--')) throw new Error(`RUN flag is not replayed: ${cmd.split(' ')[0]}`);
      stage.ops.push({ run: cmd });
      break;
    }
    case 'COPY': {
      const words = rest.trim().split(/\s+/);
      const flags = {};
      while (words[0].startsWith('--')) {
        const [k, v] = words.shift().slice(2).split('=');
        flags[k] = v;
      }
      for (const k of Object.keys(flags)) if (!['from', 'chown'].includes(k)) throw new Error(`COPY --${k} is not replayed`);
      const dest = words.pop();
      stage.ops.push({ copy: words, dest, from: flags.from ?? null });
      break;
    }
    default: throw new Error(`Dockerfile instruction ${instr} is not replayed by image-build-check.sh`);
  }
}
fs.writeFileSync(out, JSON.stringify({ globalArgs, stages, context }, null, 1));
JS
"$node24" "$work/plan.js" "$root" "$work/plan.json"

jq_plan() { "$node24" -e "const p=require('$work/plan.json'); $1"; }
node_version=$(jq_plan "console.log(p.globalArgs.NODE_VERSION)")
[[ $("$node24" --version) == "v$node_version" ]] ||
  fail "Dockerfile NODE_VERSION=$node_version but the repository pins Node $("$node24" --version) (package.json devDependency node)"
echo "Node $node_version (Dockerfile NODE_VERSION = repository's pinned Node), npm $(npm --version)"
jq_plan "p.stages.map(s=>s.name).join(' ')==='deps runtime'||process.exit(1)" ||
  fail "expected exactly the stages 'deps' and 'runtime'"

# Copies one COPY source (file or directory, from the filtered context) to dest, as Docker's COPY does.
copy_from_context() { # <stage dir> <workspace> <dest> <srcs...>
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$node24" -e '
    const fs = require("node:fs"), path = require("node:path");
    const [root, stageDir, ws, dest, ...srcs] = process.argv.slice(1);
    const { context } = require(process.env.PLAN);
    const expand = (s) => s.replaceAll("${WORKSPACE}", ws).replaceAll("$WORKSPACE", ws);
    const d = expand(dest);
    for (const raw of srcs) {
      const src = path.posix.normalize(expand(raw)).replace(/\/$/, "");
      const files = context.filter((f) => f === src || f.startsWith(src + "/"));
      if (!files.length) throw new Error(`COPY ${raw}: nothing in the build context`);
      for (const f of files) {
        const isDir = f !== src;
        let target;
        if (isDir) target = path.join(stageDir, d, path.relative(src, f));
        else target = d.endsWith("/") ? path.join(stageDir, d, path.basename(f)) : path.join(stageDir, d);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(path.join(root, f), target);
      }
    }' "$root" "$1" "$2" "$3" "${@:4}"
}

# Runs one stage's ops in dir $1 for workspace $2.
replay_stage() {
  local name=$1 dir=$2 ws=$3 n i
  n=$(jq_plan "console.log(p.stages.find(s=>s.name==='$name').ops.length)")
  for ((i = 0; i < n; i++)); do
    local op
    op=$(jq_plan "const o=p.stages.find(s=>s.name==='$name').ops[$i]; console.log(JSON.stringify(o))")
    if [[ $op == '{"run"'* ]]; then
      local cmd
      cmd=$(jq_plan "console.log(p.stages.find(s=>s.name==='$name').ops[$i].run)")
      if [[ $name == runtime ]]; then
        echo "    (not replayed: system paths only) RUN ${cmd:0:80} ..."
        continue
      fi
      echo "    RUN ${cmd:0:100}$([[ ${#cmd} -gt 100 ]] && echo ' ...')"
      # The stage's ENV and ARG, as Docker would set them.
      (
        cd "$dir"
        eval "$(jq_plan "const s=p.stages.find(s=>s.name==='$name'); for (const [k,v] of Object.entries(s.env)) console.log('export '+k+'='+JSON.stringify(v))")"
        export WORKSPACE="$ws"
        sh -ec "$cmd"
      ) >"$dir.run.log" 2>&1 || { cat "$dir.run.log" >&2; fail "RUN failed in stage $name for $ws"; }
    else
      local from dest srcs
      from=$(jq_plan "console.log(p.stages.find(s=>s.name==='$name').ops[$i].from ?? '')")
      dest=$(jq_plan "console.log(p.stages.find(s=>s.name==='$name').ops[$i].dest)")
      mapfile -t srcs < <(jq_plan "console.log(p.stages.find(s=>s.name==='$name').ops[$i].copy.join('\n'))")
      if [[ -n $from ]]; then
        [[ $from == deps && ${srcs[*]} == /app && $dest == ./ ]] || fail "unsupported COPY --from=$from ${srcs[*]} $dest"
        echo "    COPY --from=deps /app ./"
        cp -a "$(dirname "$dir")/deps/." "$dir/"
      else
        echo "    COPY ${srcs[*]} $dest"
        PLAN="$work/plan.json" copy_from_context "$dir" "$ws" "$dest" "${srcs[@]}"
      fi
    fi
  done
}

# The image's ENTRYPOINT; CMD (or the chart's args) names the entry file.
mapfile -t entrypoint < <(jq_plan "console.log(p.stages.find(s=>s.name==='runtime').entrypoint.join('\n'))")
jq_plan "const c=p.stages.find(s=>s.name==='runtime').cmd; process.exit(c.join()==='service/src/main.ts'?0:1)" ||
  fail "the runtime stage's CMD is not [\"service/src/main.ts\"]"

# Runs the image's command from the assembled /app with an empty environment plus $@ (KEY=VALUE...),
# as the image would (ENV NODE_ENV=production PORT=4000). Prints the exit code; output goes to $log.
run_image() { # <dir> <log> <timeout-s> <entry> [KEY=VALUE...]
  local dir=$1 log=$2 secs=$3 entry=$4
  shift 4
  (cd "$dir" && env -i PATH="$work/bin:/usr/bin:/bin" TMPDIR="$work/tmp" NODE_ENV=production PORT=4000 "$@" \
    timeout "$secs" "${entrypoint[@]}" "$entry") >"$log" 2>&1 && echo 0 || echo $?
}

# Infrastructure for --live.
if [[ $live == 1 ]]; then
  if [[ -z ${DATABASE_URL:-} && -f .infra.env ]]; then
    # shellcheck disable=SC1091
    source .infra.env
  fi
  : "${DATABASE_URL:?--live needs DATABASE_URL (or .infra.env: npm run infra -- up)}"
  : "${REDIS_URL:?--live needs REDIS_URL}" "${KAFKA_BROKERS:?--live needs KAFKA_BROKERS}"
  live_ns="imgcheck$(date +%s)"
  secret="image-build-check-internal-secret-0123456789abcdef"
  # Topics for a private events namespace (consumers refuse to auto-create) and a database per service.
  "$root/node_modules/.bin/tsx" -e "
    import { KafkaBus, allTopicSpecs } from '@vtv/events';
    import { createLogger } from '@vtv/kit';
    const bus = new KafkaBus({ brokers: '$KAFKA_BROKERS'.split(','), clientId: 'image-check', namespace: '$live_ns', logger: createLogger('image-check', 'warn') });
    bus.ensureTopics(allTopicSpecs()).then(() => bus.close()).catch((e) => { console.error(e); process.exit(1); });
  " || fail "could not create topics for namespace $live_ns"
fi
free_port() { "$node24" -e 'const s=require("net").createServer().listen(0,()=>{console.log(s.address().port);s.close()})'; }
pg_admin() { # <sql>
  (cd "$root" && "$node24" -e '
    const { Client } = require("pg");
    const c = new Client({ connectionString: process.env.DATABASE_URL });
    c.connect().then(() => c.query(process.argv[1])).then(() => c.end()).catch((e) => { console.error(e.message); process.exit(1); });' "$1")
}
with_db() { "$node24" -e 'const u=new URL(process.argv[1]); u.pathname="/"+process.argv[2]; console.log(u.toString())' "$1" "$2"; }

# The production closure of a workspace in the lock: its dependencies (not devDependencies), their
# dependencies and optional and peer dependencies, resolved the way Node resolves them (nearest
# node_modules up the tree, workspace links followed). Everything installed must be in it.
prod_closure() { # <workspace> <out>
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$node24" -e '
    const [rootDir, ws, out] = process.argv.slice(1);
    const pkgs = require(rootDir + "/package-lock.json").packages;
    const seen = new Set();
    const resolve = (from, name) => {
      // node_modules/a/node_modules/b → node_modules/a → the root; packages/kit → the root.
      for (let dir = from; ; ) {
        const candidate = (dir ? dir + "/" : "") + "node_modules/" + name;
        if (pkgs[candidate]) return candidate;
        if (!dir) return null;
        const i = dir.lastIndexOf("/node_modules/");
        dir = i >= 0 ? dir.slice(0, i) : "";
      }
    };
    const visit = (key) => {
      if (seen.has(key)) return;
      seen.add(key);
      const p = pkgs[key];
      if (p.link) return visit(p.resolved);
      const deps = { ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies };
      for (const name of Object.keys(deps)) {
        const hit = resolve(key, name);
        if (hit) visit(hit);
        else if (!(p.optionalDependencies ?? {})[name] && !(p.peerDependenciesMeta ?? {})[name]?.optional)
          throw new Error(`${key}: ${name} not in the lock`);
      }
    };
    visit(ws);
    require("fs").writeFileSync(out, [...seen].filter((k) => k.includes("node_modules/")).sort().join("\n") + "\n");
  ' "$root" "$1" "$2"
}

summary=()
for ws in "${workspaces[@]}"; do
  [[ -f $ws/package.json && -f $ws/src/main.ts ]] || fail "$ws is not a workspace with src/main.ts"
  name=$(basename "$ws")
  t0=$(date +%s)
  step "$ws: stage deps"
  base="$work/$name"
  mkdir -p "$base/deps" "$base/runtime"
  replay_stage deps "$base/deps" "$ws"
  step "$ws: stage runtime"
  replay_stage runtime "$base/runtime" "$ws"
  app="$base/runtime"

  step "$ws: contents"
  [[ -L $app/service && $(readlink "$app/service") == "$ws" ]] || fail "service link missing or wrong"
  [[ -f $app/service/src/main.ts ]] || fail "service/src/main.ts missing"
  if [[ $ws == services/* ]]; then [[ -f $app/service/src/migrate.ts ]] || fail "$ws has no src/migrate.ts"; fi
  [[ -f $app/launcher/node_modules/tsx/dist/loader.mjs ]] || fail "tsx launcher missing"
  # Installed package directories (with their own package.json), relative to the image's /app.
  (cd "$app" && find . -path ./launcher -prune -o -name package.json -path '*node_modules/*' -print |
    sed 's|^\./||; s|/package.json$||' | grep -E 'node_modules/(@[^/]+/)?[^/]+$' | sort -u) >"$base/installed.txt"
  prod_closure "$ws" "$base/closure.txt"
  if grep -vFxf "$base/closure.txt" "$base/installed.txt" >"$base/extra.txt"; then
    head -20 "$base/extra.txt" >&2
    fail "$ws: packages outside its production dependency closure are in the image"
  fi
  tests=$(cd "$app" && find . -path ./node_modules -prune -o -path ./launcher -prune -o \( -name '*.spec.ts' -o -name test -type d \) -print | head -5)
  [[ -z $tests ]] || fail "$ws: tests in the image: $tests"
  for unwanted in .infra.env .embedded .git scripts node_modules/@vtv/testing; do
    [[ ! -e $app/$unwanted ]] || fail "$ws: $unwanted is in the image"
  done
  packages=$(wc -l <"$base/installed.txt")
  size=$(du -sh "$app" | cut -f1)
  echo "    $packages packages, all in the workspace's production closure; /app is $size; no tests"

  step "$ws: entry points load (empty environment: expect exit 78 at config validation)"
  code=$(run_image "$app" "$base/main.log" 60 service/src/main.ts)
  if [[ $code != 78 ]] || ! grep -q 'Invalid configuration' "$base/main.log"; then
    cat "$base/main.log" >&2
    fail "$ws: main.ts exited $code, expected 78 with 'Invalid configuration'"
  fi
  echo "    service/src/main.ts: exit 78, $(grep -c '^  - ' "$base/main.log") variables reported"
  if [[ $ws == services/* ]]; then
    code=$(run_image "$app" "$base/migrate.log" 60 service/src/migrate.ts)
    if [[ $code != 78 ]] || ! grep -q 'DATABASE_URL' "$base/migrate.log"; then
      cat "$base/migrate.log" >&2
      fail "$ws: migrate.ts exited $code, expected 78 naming DATABASE_URL"
    fi
    echo "    service/src/migrate.ts: exit 78 (DATABASE_URL is required)"
  fi

  if [[ $live == 1 ]]; then
    step "$ws: live run against the real infrastructure"
    port=$(free_port)
    # As the chart sets them (the gateway's readiness is its own, not its subgraphs').
    env_live=(INTERNAL_AUTH_SECRET="$secret" HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn SHUTDOWN_GRACE_MS=5000
      REDIS_URL="$REDIS_URL" READINESS_CHECKS_SUBGRAPHS=false)
    if [[ $ws == services/* ]]; then
      db="imgcheck_${name}_$(date +%s)"
      pg_admin "CREATE DATABASE \"$db\""
      url=$(with_db "$DATABASE_URL" "$db")
      for attempt in first second; do
        code=$(run_image "$app" "$base/migrate-live.log" 120 service/src/migrate.ts DATABASE_URL="$url")
        [[ $code == 0 ]] || { cat "$base/migrate-live.log" >&2; fail "$ws: migrate.ts ($attempt run) exited $code"; }
      done
      echo "    migrate.ts: exit 0 on a fresh database, exit 0 again (idempotent)"
      env_live+=(DATABASE_URL="$url" KAFKA_BROKERS="$KAFKA_BROKERS" EVENTS_NAMESPACE="$live_ns")
    fi
    (cd "$app" && exec env -i PATH="$work/bin:/usr/bin:/bin" TMPDIR="$work/tmp" NODE_ENV=development "${env_live[@]}" \
      "${entrypoint[@]}" service/src/main.ts) >"$base/live.log" 2>&1 &
    pid=$!
    children+=("$pid")
    ready=0
    for _ in $(seq 1 120); do
      if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    [[ $ready == 1 ]] || { cat "$base/live.log" >&2; fail "$ws: /readyz never answered 200"; }
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "$ws: /healthz failed"
    kill -TERM "$pid"
    code=0
    wait "$pid" || code=$?
    [[ $code == 0 ]] || { cat "$base/live.log" >&2; fail "$ws: exited $code after SIGTERM"; }
    echo "    started, /readyz 200, /healthz 200, SIGTERM → exit 0"
    if [[ $ws == services/* ]]; then pg_admin "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; fi
  fi
  summary+=("$ws: $packages packages, $size, $(($(date +%s) - t0)) s")
done

if [[ $live == 1 ]]; then
  "$root/node_modules/.bin/tsx" -e "
    import { KafkaBus } from '@vtv/events';
    import { createLogger } from '@vtv/kit';
    const bus = new KafkaBus({ brokers: '$KAFKA_BROKERS'.split(','), clientId: 'image-check', namespace: '$live_ns', logger: createLogger('image-check', 'warn') });
    bus.deleteNamespace().then(() => bus.close()).catch(() => process.exit(0));
  " || true
fi

step "image build check passed in $(($(date +%s) - started)) s"
printf '  %s\n' "${summary[@]}"
