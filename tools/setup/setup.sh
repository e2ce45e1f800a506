#!/usr/bin/env bash
# Substrate one-command set-up (`npm run setup`).
#
# Installs everything the project's builds and tests need on a Debian (bookworm) machine, and only
# what is missing, so it is safe to re-run:
#
#   1. Debian packages (apt, only if dpkg-query says they are missing): Redis, etcd, iproute2,
#      nftables, zstd, busybox-static, docker-registry, skopeo, umoci, util-linux. Services that a
#      package install starts by itself are stopped again (only those started by this install).
#   2. runsc (gVisor) 0.0~20240729 from Debian trixie, fetched with a private apt configuration (the
#      system's apt sources are not changed), sha256-verified, cached.
#   3. Go-built tools, each pinned, built from the Go module proxy with CGO_ENABLED=0 -trimpath:
#      kube-apiserver, helm, fake-gcs-server, versitygw (the S3 server). Skipped when Go is absent;
#      a failed build is recorded and does not stop the set-up (it fails the run under CI=true).
#   4. npm packages (`npm ci`), skipped when node_modules already matches package-lock.json. If npm ci
#      refuses a lockfile that lacks other platforms' optional packages, `npm install` with the
#      lockfile kept byte for byte.
#
# Layout (a contract, see docs/setup.md):
#   ${SUBSTRATE_TOOLS_CACHE:-$HOME/.cache/substrate-tools}/<tool>-<version>/   cached binaries (outside
#                                                                   the repo, shared by every clone)
#   <repo>/.tools/bin/<tool>      symlink to the binary (also for Debian-installed tools)
#   <repo>/.tools/tools.json      { "<tool>": { path, version, status, note } } for every component
#
# Options: --no-npm (skip the npm step), --no-go (skip the Go builds), -h|--help.

set -euo pipefail

# ---------------------------------------------------------------------------------------------------
# Pins
# ---------------------------------------------------------------------------------------------------
# Exact Debian version; the sha256 is that of usr/bin/runsc inside the amd64 .deb.
RUNSC_DEB_VERSION='0.0~20240729.0-4+b7'
RUNSC_ARCH='amd64'
RUNSC_SHA256='ce52e04038baa76d6069afae5fc1bee60c153bbf0276f2c3c25506553526f38f'
RUNSC_DEBIAN_SUITE='trixie'

KUBERNETES_VERSION='v1.34.4'
HELM_VERSION='v3.22.0'
FAKE_GCS_SERVER_VERSION='v1.56.1'
VERSITYGW_VERSION='v1.8.0'

# Bump when a build recipe (flags, steps) changes, so cached binaries are rebuilt.
BUILD_RECIPE_REVISION=1

APT_PACKAGES=(
  redis-server redis-tools etcd-server etcd-client iproute2 nftables zstd busybox-static
  docker-registry skopeo umoci util-linux tini
)
# Processes that a package install may start as a system service on default ports.
SERVICE_PROCESS_NAMES=(redis-server etcd docker-registry)
SERVICE_UNITS=(redis-server etcd docker-registry)
SERVICE_DEFAULT_PORTS=(6379 2379 2380 5000)

# ---------------------------------------------------------------------------------------------------
# Paths and state
# ---------------------------------------------------------------------------------------------------
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_CACHE="${SUBSTRATE_TOOLS_CACHE:-$HOME/.cache/substrate-tools}"
TOOLS_DIR="$REPO_ROOT/.tools"
BIN_DIR="$TOOLS_DIR/bin"
TOOLS_JSON="$TOOLS_DIR/tools.json"

RUN_NPM=1
RUN_GO=1
FAILED_COMPONENTS=()
RECORD_ORDER=()
declare -A REC_PATH REC_VERSION REC_STATUS REC_NOTE
SETUP_START=$SECONDS
TMP_DIRS=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

log() { printf '[setup %4ss] %s\n' "$((SECONDS - SETUP_START))" "$*"; }
warn() { printf '[setup %4ss] WARNING: %s\n' "$((SECONDS - SETUP_START))" "$*" >&2; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local d
  for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do rm -rf -- "$d"; done
}
trap cleanup EXIT

make_tmp_dir() { # make_tmp_dir VAR: creates a temp dir removed at exit, stores its path in VAR
  local d
  d="$(mktemp -d "${TMPDIR:-/tmp}/substrate-setup.XXXXXX")"
  TMP_DIRS+=("$d")
  printf -v "$1" '%s' "$d"
}

# record TOOL VERSION STATUS PATH NOTE: one entry of tools.json and of the summary table.
record() {
  local tool="$1"
  [[ -n "${REC_STATUS[$tool]+x}" ]] || RECORD_ORDER+=("$tool")
  REC_VERSION[$tool]="$2"
  REC_STATUS[$tool]="$3"
  REC_PATH[$tool]="$4"
  REC_NOTE[$tool]="$5"
  if [[ "$3" == failed ]]; then FAILED_COMPONENTS+=("$tool"); fi
}

link_tool() { # link_tool NAME TARGET: <repo>/.tools/bin/NAME -> TARGET
  mkdir -p "$BIN_DIR"
  ln -sfn "$2" "$BIN_DIR/$1"
}

run_as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "root is needed to run: $* (no sudo found)"
  fi
}

# output_of CMD...: stdout+stderr of CMD even if it fails (never `cmd | grep -q` / `| head`: under
# pipefail the writer's SIGPIPE would fail the pipeline).
output_of() { "$@" 2>&1 || true; }
first_line() {
  local out
  out="$(output_of "$@")"
  printf '%s' "${out%%$'\n'*}"
}

duration() { printf '%dm%02ds' "$(($1 / 60))" "$(($1 % 60))"; }

# ---------------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------------
apt_installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == 'install ok installed' ]]; }
apt_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

# PIDs of processes named like one of those services that listen on a service's default port, one
# a line, sorted for comm. (Tests of other clones may run redis-server etc. on other ports: those
# are never touched.)
service_pids() {
  local name listening
  listening="$(ss -Htlnp "( $(printf 'sport = :%s or ' "${SERVICE_DEFAULT_PORTS[@]}") sport = :0 )" 2>/dev/null |
    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true)"
  for name in "${SERVICE_PROCESS_NAMES[@]}"; do pgrep -x "$name" || true; done | sort |
    comm -12 - <(printf '%s\n' "$listening")
}

active_units() { # systemd units of those services that are active, sorted for comm
  [[ -d /run/systemd/system ]] || return 0
  local unit
  for unit in "${SERVICE_UNITS[@]}"; do
    if systemctl is-active --quiet "$unit" 2>/dev/null; then echo "$unit"; fi
  done | sort
}

# stop_new_services BEFORE_PIDS BEFORE_UNITS: a package's postinst may start its service on the
# default port (6379, 2379, 5000). Stop only what was not running before this install.
stop_new_services() {
  local new_units new_pids unit pid comm
  new_units="$(comm -13 <(printf '%s\n' "$2") <(active_units) | sed '/^$/d')"
  for unit in $new_units; do
    run_as_root systemctl stop "$unit" || true
    run_as_root systemctl disable --quiet "$unit" || true
    SERVICE_NOTE+="stopped and disabled systemd unit $unit (started by this install); "
    log "debian packages: stopped and disabled systemd unit $unit (started by the install)"
  done
  new_pids="$(comm -13 <(printf '%s\n' "$1") <(service_pids) | sed '/^$/d')"
  for pid in $new_pids; do
    comm="$(ps -o comm= -p "$pid" 2>/dev/null || true)"
    run_as_root kill "$pid" 2>/dev/null || true
    for _ in {1..50}; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    SERVICE_NOTE+="stopped $comm (pid $pid, started by this install); "
    log "debian packages: stopped service process $comm (pid $pid) started by the install"
  done
  if [[ -z "$new_units$new_pids" ]]; then
    SERVICE_NOTE="no service was started by the install"
    log "debian packages: no service process was started by the install"
  fi
}

ensure_apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    apt_installed "$pkg" || missing+=("$pkg")
  done
  APT_NEWLY_INSTALLED=" ${missing[*]-} "
  SERVICE_NOTE=""
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "debian packages: all ${#APT_PACKAGES[@]} present"
    return
  fi
  log "debian packages: installing ${missing[*]}"
  local before_pids before_units
  before_pids="$(service_pids)"
  before_units="$(active_units)"
  run_as_root apt-get update -qq
  run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  log "debian packages: installed"
  stop_new_services "$before_pids" "$before_units"
}

# record_debian_tool TOOL PACKAGE COMMAND
record_debian_tool() {
  local tool="$1" pkg="$2" cmd="$3" path status note=""
  path="$(command -v "$cmd" || true)"
  if [[ -z "$path" && -x "/usr/sbin/$cmd" ]]; then path="/usr/sbin/$cmd"; fi
  if [[ -z "$path" ]]; then
    record "$tool" "$(apt_version "$pkg")" failed "" "debian package $pkg installed but $cmd not found"
    return
  fi
  if [[ "$APT_NEWLY_INSTALLED" == *" $pkg "* ]]; then
    status=installed
    note="debian package $pkg"
    case "$pkg" in redis-server | etcd-server | docker-registry) note+="; ${SERVICE_NOTE}" ;; esac
  else
    status=found
    note="debian package $pkg (already installed)"
  fi
  link_tool "$tool" "$path"
  record "$tool" "$(apt_version "$pkg")" "$status" "$path" "$note"
}

record_debian_tools() {
  record_debian_tool redis-server redis-server redis-server
  record_debian_tool redis-cli redis-tools redis-cli
  record_debian_tool etcd etcd-server etcd
  record_debian_tool etcdctl etcd-client etcdctl
  record_debian_tool docker-registry docker-registry docker-registry
  record_debian_tool skopeo skopeo skopeo
  record_debian_tool umoci umoci umoci
  record_debian_tool zstd zstd zstd
  record_debian_tool busybox busybox-static busybox
  record_debian_tool nft nftables nft
  record_debian_tool ip iproute2 ip
  record_debian_tool unshare util-linux unshare
  record_debian_tool tini tini tini
  record_machine_tool kubectl
}

# record_machine_tool TOOL: a tool the set-up does not install, recorded if the machine has it
record_machine_tool() {
  local path version
  path="$(command -v "$1" || true)"
  if [[ -n "$path" ]]; then
    link_tool "$1" "$path"
    version="$(first_line "$path" version --client)"
    record "$1" "${version##*: }" found "$path" "from the machine image; not installed by the set-up"
  else
    record "$1" "" skipped "" "not on this machine; the set-up does not install it"
  fi
}

# ---------------------------------------------------------------------------------------------------
# 2. runsc from Debian trixie, via a private apt configuration
# ---------------------------------------------------------------------------------------------------

# Prints the URI of the system's main Debian mirror (the entry for this release's own suite), read
# from the system's apt sources in one-line (.list) or deb822 (.sources) format.
system_debian_mirror() {
  local codename f uri
  codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
  [[ -n "$codename" ]] || return 1
  # one-line format: deb [options] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri="$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
      awk -v s="$codename" '$1 == "deb" && $3 == s { print $2; exit }')"
    if [[ -n "$uri" ]]; then
      printf '%s\n' "$uri"
      return 0
    fi
  done
  # deb822 format: stanzas with Types:, URIs:, Suites:
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri="$(sed -e '/^[[:space:]]*#/d' -e 's/#.*//' "$f" | awk -v s="$codename" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit } }
      /^[[:space:]]*$/ { flush(); types = ""; uris = ""; suites = ""; next }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "uris:" { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      END { if (!found) flush() }')"
    if [[ -n "$uri" ]]; then
      printf '%s\n' "$uri"
      return 0
    fi
  done
  return 1
}

runsc_works() { "$1" --version >/dev/null 2>&1; }

fetch_runsc_deb() { # fetch_runsc_deb DEST_DIR: downloads the pinned runsc .deb from trixie into DEST_DIR
  local dest="$1" mirror apt_dir keyring
  mirror="${SUBSTRATE_DEBIAN_MIRROR:-$(system_debian_mirror || true)}"
  [[ -n "$mirror" ]] || die "runsc: could not read the Debian mirror URI from /etc/apt/sources.list{,.d/}; set SUBSTRATE_DEBIAN_MIRROR"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -f "$keyring" ]] || die "runsc: $keyring is missing (install debian-archive-keyring)"
  make_tmp_dir apt_dir
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$RUNSC_DEBIAN_SUITE" >"$apt_dir/sources.list"
  local apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=$apt_dir/sources.list.d"
  )
  # As root apt would hand downloads to the _apt user, who cannot write into our private dirs.
  if [[ $EUID -eq 0 ]]; then apt_opts+=(-o "APT::Sandbox::User=root"); fi
  log "runsc: reading Debian $RUNSC_DEBIAN_SUITE package lists from $mirror (private apt config)"
  apt-get "${apt_opts[@]}" update -qq
  log "runsc: downloading runsc=$RUNSC_DEB_VERSION"
  (cd "$dest" && apt-get "${apt_opts[@]}" download -qq "runsc=$RUNSC_DEB_VERSION") ||
    die "runsc: Debian $RUNSC_DEBIAN_SUITE has no runsc=$RUNSC_DEB_VERSION (apt-cache policy with the private config shows what it has)"
}

ensure_runsc() {
  local dir="$TOOLS_CACHE/runsc-$RUNSC_DEB_VERSION" bin status sha arch
  bin="$dir/runsc"
  arch="$(dpkg --print-architecture)"
  if [[ "$arch" != "$RUNSC_ARCH" ]]; then
    warn "runsc: only $RUNSC_ARCH is pinned, this machine is $arch"
    record runsc "$RUNSC_DEB_VERSION" failed "" "no pinned sha256 for architecture $arch"
    return
  fi
  if [[ -x "$bin" ]] && [[ "$(sha256sum "$bin" | cut -d' ' -f1)" == "$RUNSC_SHA256" ]] && runsc_works "$bin"; then
    status=cached
    log "runsc: cached $bin"
  else
    local work
    make_tmp_dir work
    fetch_runsc_deb "$work"
    dpkg-deb -x "$work"/runsc_*.deb "$work/root"
    sha="$(sha256sum "$work/root/usr/bin/runsc" | cut -d' ' -f1)"
    if [[ "$sha" != "$RUNSC_SHA256" ]]; then
      die "runsc: sha256 mismatch for usr/bin/runsc of runsc_$RUNSC_DEB_VERSION: got $sha, pinned $RUNSC_SHA256"
    fi
    mkdir -p "$dir"
    install -m 0755 "$work/root/usr/bin/runsc" "$bin.tmp"
    mv -f "$bin.tmp" "$bin"
    runsc_works "$bin" || die "runsc: $bin --version failed"
    status=installed
    log "runsc: installed $bin (sha256 verified)"
  fi
  link_tool runsc "$bin"
  record runsc "$RUNSC_DEB_VERSION" "$status" "$bin" \
    "Debian $RUNSC_DEBIAN_SUITE runsc, sha256 $RUNSC_SHA256; $(first_line "$bin" --version)"
}

# ---------------------------------------------------------------------------------------------------
# 3. Go-built tools
# ---------------------------------------------------------------------------------------------------
GO_BIN=""

find_go() {
  GO_BIN="$(command -v go || true)"
  if [[ -z "$GO_BIN" && -x /usr/local/go/bin/go ]]; then GO_BIN=/usr/local/go/bin/go; fi
  [[ -n "$GO_BIN" ]]
}

# verify_go_tool TOOL BINARY: the binary really runs and says the pinned version. Prints what it ran
# and what the binary answered.
verify_go_tool() {
  local tool="$1" bin="$2" out expect
  case "$tool" in
    kube-apiserver) out="$(output_of "$bin" --version)" expect="Kubernetes $KUBERNETES_VERSION" ;;
    helm) out="$(output_of "$bin" version --short)" expect="$HELM_VERSION" ;;
    fake-gcs-server) out="$(output_of "$bin" -help)" expect="-backend" ;;
    versitygw) out="$(output_of "$bin" --version)" expect="Version  : $VERSITYGW_VERSION" ;;
    *) return 1 ;;
  esac
  printf 'check %s: expecting "%s" in:\n%s\n' "$tool" "$expect" "$out"
  [[ "$out" == *"$expect"* ]]
}

# tool_version_line TOOL BINARY: one line the binary says about itself
tool_version_line() {
  case "$1" in
    kube-apiserver) first_line "$2" --version ;;
    helm) first_line "$2" version --short ;;
    fake-gcs-server) echo "fake-gcs-server (module version ${3:-?})" ;;
    versitygw) output_of "$2" --version | tr -s '\n ' '  ' ;;
  esac
}

# go_build_kube_apiserver OUT_BINARY: a temporary module requiring k8s.io/kubernetes with the
# staging modules replaced by their published v0.X.Y versions (k8s.io/kubernetes's own go.mod maps
# them to ./staging, which `go install ...@version` refuses).
go_build_kube_apiserver() {
  local out="$1" src modfile staging_version gover minor
  src="$(dirname "$out")/src"
  rm -rf "$src"
  mkdir -p "$src"
  staging_version="v0.${KUBERNETES_VERSION#v1.}"
  minor="$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
  modfile="$(cd "$src" && "$GO_BIN" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$modfile" ]] || {
    echo "could not download the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"
    return 1
  }
  gover="$(awk '$1 == "go" { print $2; exit }' "$modfile")"
  {
    echo "module substrate.local/kube-apiserver-build"
    echo
    echo "go $gover"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\2#p' "$modfile" |
      while read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"; done
    echo ")"
  } >"$src/go.mod"
  echo "go.mod of the build module:"
  cat "$src/go.mod"
  local vpkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version ldflags="-s -w"
  local p
  for p in $vpkg $cpkg; do
    ldflags+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  (cd "$src" && GOFLAGS="-mod=mod ${GOFLAGS:-}" CGO_ENABLED=0 \
    "$GO_BIN" build -trimpath -ldflags "$ldflags" -o "$out" k8s.io/kubernetes/cmd/kube-apiserver)
}

# go_install_tool OUT_BINARY PACKAGE@VERSION [LDFLAGS]: `go install` into a temporary GOBIN
go_install_tool() {
  local out="$1" pkg="$2" ldflags="${3:-}" gobin
  gobin="$(dirname "$out")/gobin"
  rm -rf "$gobin"
  mkdir -p "$gobin"
  GOBIN="$gobin" CGO_ENABLED=0 "$GO_BIN" install -trimpath -ldflags "-s -w $ldflags" "$pkg" || return 1
  local built
  local built=("$gobin"/*)
  [[ -f "${built[0]}" ]] || {
    echo "go install produced no binary in $gobin"
    return 1
  }
  mv -f "${built[0]}" "$out"
  rm -rf "$gobin"
}

# go_build_helm OUT_BINARY: like helm's own release build, stamp the version and the Kubernetes
# version that `helm template` assumes by default (1.<minor of helm's k8s.io/client-go>).
go_build_helm() {
  local out="$1" modfile client_go minor flags=""
  modfile="$("$GO_BIN" mod download -json "helm.sh/helm/v3@$HELM_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$modfile")"
  minor="$(cut -d. -f2 <<<"$client_go")"
  if [[ -n "$minor" ]]; then
    local p
    for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      flags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
    done
  fi
  go_install_tool "$out" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean$flags"
}

# build_go_tool TOOL VERSION BUILDER [ARGS...]: cached under $TOOLS_CACHE/TOOL-VERSION/TOOL.
# BUILDER is called as `BUILDER OUT_BINARY ARGS...`; its output goes to build.log there. A cached
# binary is reused when it passes its check and was built by the same recipe (build.recipe).
build_go_tool() {
  local tool="$1" version="$2" builder="$3"
  shift 3
  local dir="$TOOLS_CACHE/$tool-$version"
  local bin="$dir/$tool" log_file="$dir/build.log" recipe
  recipe="$builder $* (recipe $BUILD_RECIPE_REVISION)"
  if [[ -x "$bin" && "$(cat "$dir/build.recipe" 2>/dev/null || true)" == "$recipe" ]] &&
    verify_go_tool "$tool" "$bin" >/dev/null; then
    log "$tool: cached $bin"
    link_tool "$tool" "$bin"
    record "$tool" "$version" cached "$bin" "$(tool_version_line "$tool" "$bin" "$version")"
    return 0
  fi
  if [[ -z "$GO_BIN" ]]; then
    log "go not found: skipping $tool $version"
    record "$tool" "$version" skipped "" "go not found: not built"
    return 0
  fi
  mkdir -p "$dir"
  rm -f "$bin" "$dir/build.recipe"
  log "$tool: building $version with $("$GO_BIN" env GOVERSION) (log: $log_file)"
  local start=$SECONDS elapsed failure=""
  if ! "$builder" "$bin.tmp" "$@" >"$log_file" 2>&1; then
    failure="build failed"
  elif ! { mv -f "$bin.tmp" "$bin" && verify_go_tool "$tool" "$bin"; } >>"$log_file" 2>&1; then
    failure="built, but the check of the binary failed"
  fi
  if [[ -z "$failure" ]]; then
    elapsed=$((SECONDS - start))
    echo "built in ${elapsed}s" >>"$log_file"
    printf '%s\n' "$recipe" >"$dir/build.recipe"
    log "$tool: built in $(duration "$elapsed")"
    link_tool "$tool" "$bin"
    record "$tool" "$version" installed "$bin" \
      "built in ${elapsed}s with $("$GO_BIN" env GOVERSION); $(tool_version_line "$tool" "$bin" "$version")"
  else
    elapsed=$((SECONDS - start))
    echo "FAILED after ${elapsed}s: $failure" >>"$log_file"
    warn "$tool: $failure after $(duration "$elapsed"); last lines of $log_file:"
    tail -n 15 "$log_file" | sed 's/^/    /' >&2
    rm -f "$bin" "$bin.tmp" "$BIN_DIR/$tool"
    record "$tool" "$version" failed "" "$failure after ${elapsed}s (full log: $log_file): $(tail -n 8 "$log_file")"
  fi
}

ensure_go_tools() {
  if [[ $RUN_GO -eq 0 ]]; then
    log "go tools: skipped (--no-go)"
    local t
    for t in kube-apiserver helm fake-gcs-server versitygw; do
      record "$t" "" skipped "" "skipped by --no-go"
    done
    return
  fi
  if find_go; then
    log "go: $("$GO_BIN" version)"
  else
    log "go not found: skipping kube-apiserver, helm, fake-gcs-server and versitygw (tests that need them will skip; under CI=true they fail)"
  fi
  build_go_tool kube-apiserver "$KUBERNETES_VERSION" go_build_kube_apiserver
  build_go_tool helm "$HELM_VERSION" go_build_helm
  build_go_tool fake-gcs-server "$FAKE_GCS_SERVER_VERSION" go_install_tool \
    "github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION"
  build_go_tool versitygw "$VERSITYGW_VERSION" go_install_tool \
    "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" "-X main.Version=$VERSITYGW_VERSION"
  # The S3 server under its role name.
  if [[ -n "${REC_PATH[versitygw]}" ]]; then
    link_tool s3-server "${REC_PATH[versitygw]}"
  fi
  record s3-server "$VERSITYGW_VERSION" "${REC_STATUS[versitygw]}" "${REC_PATH[versitygw]}" "alias of versitygw (S3 API server, posix backend)"
}

# ---------------------------------------------------------------------------------------------------
# 4. npm packages
# ---------------------------------------------------------------------------------------------------
# npm_install_keeping_lock: `npm install` that must leave package-lock.json byte for byte as it was
# (our own change to it, if any, is undone and the set-up fails).
npm_install_keeping_lock() {
  local lock="$REPO_ROOT/package-lock.json" backup
  make_tmp_dir backup
  cp -p "$lock" "$backup/package-lock.json"
  (cd "$REPO_ROOT" && npm install --no-audit --no-fund) || return 1
  if ! cmp -s "$lock" "$backup/package-lock.json"; then
    cp -p "$backup/package-lock.json" "$lock"
    die "npm install wanted to change package-lock.json (restored): update the lockfile deliberately"
  fi
}

ensure_npm_packages() {
  if [[ $RUN_NPM -eq 0 ]]; then
    log "npm packages: skipped (--no-npm)"
    return
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js >= 20.19 first"
  local hash stamp="$REPO_ROOT/node_modules/.substrate-lock-hash"
  hash="$(cat "$REPO_ROOT/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
    log "npm packages: node_modules matches package-lock.json (skipping npm ci)"
    return
  fi
  # Native addons (zstd-napi) compile with node-gyp; point it at the installed Node headers so it
  # never tries to download them (only the package registries are reachable).
  if [[ -z "${npm_config_nodedir:-}" && -f "$(dirname "$(dirname "$(command -v node)")")/include/node/node.h" ]]; then
    export npm_config_nodedir
    npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
  fi
  log "npm packages: npm ci"
  local start=$SECONDS out
  make_tmp_dir out
  if (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) >"$out/npm-ci.log" 2>&1; then
    tail -n 3 "$out/npm-ci.log"
  elif grep -q 'EUSAGE' "$out/npm-ci.log" && grep -q 'Missing: .* from lock file' "$out/npm-ci.log"; then
    # npm ci's strict check wants every optional package of every platform in the lockfile (e.g.
    # @swc/core-darwin-arm64); a lockfile written where the registry did not offer them lacks those
    # entries, while `npm install` accepts it and installs exactly the locked versions.
    warn "npm ci refused package-lock.json ($(grep -c 'Missing: ' "$out/npm-ci.log") other-platform optional packages are not in it); using npm install with the lockfile kept unchanged"
    npm_install_keeping_lock || die "npm install failed"
  else
    cat "$out/npm-ci.log" >&2
    die "npm ci failed"
  fi
  printf '%s\n' "$hash" >"$stamp"
  log "npm packages: installed in $(duration $((SECONDS - start)))"
}

# ---------------------------------------------------------------------------------------------------
# Output: tools.json and the summary table
# ---------------------------------------------------------------------------------------------------
json_string() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  s="$(printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037')"
  printf '"%s"' "$s"
}

write_tools_json() {
  local tool first=1 tmp="$TOOLS_JSON.tmp"
  mkdir -p "$TOOLS_DIR"
  {
    echo "{"
    for tool in "${RECORD_ORDER[@]}"; do
      [[ $first -eq 1 ]] || echo ","
      first=0
      printf '  %s: { "path": %s, "version": %s, "status": %s, "note": %s }' \
        "$(json_string "$tool")" "$(json_string "${REC_PATH[$tool]}")" "$(json_string "${REC_VERSION[$tool]}")" \
        "$(json_string "${REC_STATUS[$tool]}")" "$(json_string "${REC_NOTE[$tool]}")"
    done
    echo
    echo "}"
  } >"$tmp"
  mv -f "$tmp" "$TOOLS_JSON"
}

print_summary() {
  local tool fmt='%-16s | %-22s | %-9s | %s\n'
  echo
  # shellcheck disable=SC2059
  printf "$fmt" component version status path
  printf '%s\n' "-----------------+------------------------+-----------+------------------------------------------"
  for tool in "${RECORD_ORDER[@]}"; do
    # shellcheck disable=SC2059
    printf "$fmt" "$tool" "${REC_VERSION[$tool]}" "${REC_STATUS[$tool]}" "${REC_PATH[$tool]:--}"
  done
  echo
  log "tools: $TOOLS_JSON; add $BIN_DIR to PATH to use them"
}

# ---------------------------------------------------------------------------------------------------
main() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --no-npm) RUN_NPM=0 ;;
      --no-go) RUN_GO=0 ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
  done

  mkdir -p "$TOOLS_CACHE" "$BIN_DIR"
  # One set-up at a time per cache (several clones share it).
  exec 9>"$TOOLS_CACHE/.setup.lock"
  if ! flock -n 9; then
    log "another set-up holds $TOOLS_CACHE/.setup.lock: waiting"
    flock 9
  fi
  log "repo $REPO_ROOT, tools cache $TOOLS_CACHE"

  ensure_apt_packages
  record_debian_tools
  ensure_runsc
  ensure_go_tools
  write_tools_json
  ensure_npm_packages
  # Our own kubectl plugin: `kubectl ate …` finds it on the PATH (.tools/bin).
  link_tool kubectl-ate "$REPO_ROOT/tools/bin/kubectl-ate"
  print_summary

  log "done in $(duration $((SECONDS - SETUP_START)))"
  if [[ ${#FAILED_COMPONENTS[@]} -gt 0 ]]; then
    warn "failed: ${FAILED_COMPONENTS[*]} (see $TOOLS_JSON)"
    if [[ "${CI:-}" == true ]]; then
      die "CI=true: every component must be present"
    fi
  fi
}

main "$@"
