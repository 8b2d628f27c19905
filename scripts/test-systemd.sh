#!/usr/bin/env bash
# `make test-systemd`: huayingd under a real systemd. Boots Debian 12 (bookworm) with systemd as
# PID 1 in systemd-nspawn, installs with the real `make install` inside it and drives the service
# with the real systemctl, as README.md's "Run as a service" tells a township's IT person to.
#
# The tree lives in .build-systemd/rootfs and is reused (debootstrap only when it is missing or
# was built with other packages). The container runs with --volatile=overlay: every change of a
# run lands in a tmpfs over the tree and is gone at power-off, so each run starts from a fresh
# Debian and the tree stays reusable.
#
# Needs root (debootstrap, systemd-nspawn) and the binaries of `make release` in .build/release.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed"; exits 1 on any failure.
#
# Knobs (environment): HUAYING_BACKLOG_INSTANCES × HUAYING_BACKLOG_STEPS overdue steps at start
# (default 1000 × 100), HUAYING_WATCHDOG_SEC (WatchdogSec= during the catch-up, default 2).
set -uo pipefail
# The whole script is one { … } block: bash reads it completely before running it, so editing
# the file during a run cannot change the run.
{

cd "$(dirname "$0")/.."
SOURCE=$PWD
WORK=$SOURCE/.build-systemd
ROOT=$WORK/rootfs
SUITE=bookworm
# systemd-sysv: systemd as /sbin/init; dbus: systemctl's bus; make: `make install` runs
# inside; libuv1, libsqlite3-0: what huayingd links besides libc; python3: the shipped
# notifiers (wecom, dingtalk) are Python 3 scripts (README.md: the machine needs these too);
# procps: this test's ps and kill.
TREE_PACKAGES=systemd,systemd-sysv,dbus,procps,make,libuv1,libsqlite3-0,python3
BINARIES=$SOURCE/.build/release
BACKLOG_INSTANCES=${HUAYING_BACKLOG_INSTANCES:-1000}
BACKLOG_STEPS=${HUAYING_BACKLOG_STEPS:-100}
WATCHDOG_SEC=${HUAYING_WATCHDOG_SEC:-2}
UNIT=huayingd.service
DROPINS=/etc/systemd/system/huayingd.service.d

passed=0
failed=0
NSPAWN_PID=
LEADER=
ROBOT_PID=

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+ — $2}"; }
# expect NAME DETAIL COMMAND…: PASS when COMMAND succeeds, else FAIL with DETAIL.
expect() {
    local name=$1 detail=$2
    shift 2
    if "$@"; then pass "$name"; else fail "$name" "$detail"; fi
}
note() { echo "     $*"; }
summary() { echo "$passed passed, $failed failed"; }
die() {
    fail "$1" "${2:-}"
    summary
    exit 1
}

# Poll until COMMAND succeeds, at most SECONDS seconds: wait_for SECONDS COMMAND…
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then return 1; fi
        sleep 0.1
    done
}

# ---------------------------------------------------------------------------------------------
# The host: packages, binaries, tree

if [ "$(id -u)" != 0 ]; then
    die "runs as root" "debootstrap and systemd-nspawn need root: sudo make test-systemd"
fi
missing=()
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
command -v debootstrap >/dev/null || missing+=(debootstrap)
# The checks read JSON and the database with it, and the robot stand-in is a python3 http.server.
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
    echo "installing ${missing[*]} ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
        die "host packages installed" "apt-get install ${missing[*]} failed"
fi

for program in huayingd huaying; do
    [ -x "$BINARIES/$program" ] || die "release binaries built" "no $BINARIES/$program: run make release"
done
# What `make release` promises: the Swift runtime is inside the binary, not a toolchain's file.
runtime_links=$(ldd "$BINARIES/huayingd" "$BINARIES/huaying" 2>&1 | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' || true)
expect "release binaries carry the Swift runtime (no libswiftCore.so or Foundation .so linked)" "$runtime_links" \
    test -z "$runtime_links"

# The mirror the machine already uses (deb822 sources first, then sources.list).
mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
if [ -z "$mirror" ]; then
    mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list 2>/dev/null)
fi
mirror=${mirror:-http://deb.debian.org/debian}

stamp="$SUITE minbase $TREE_PACKAGES"
if [ -f "$ROOT/.huaying-test-tree" ] && [ "$(cat "$ROOT/.huaying-test-tree")" = "$stamp" ]; then
    echo "reusing the Debian $SUITE tree in ${ROOT#"$SOURCE"/}"
else
    echo "debootstrap $SUITE into ${ROOT#"$SOURCE"/} from $mirror ..."
    rm -rf "$ROOT" "$ROOT.partial"
    mkdir -p "$WORK"
    started=$SECONDS
    if ! debootstrap --variant=minbase --include="$TREE_PACKAGES" "$SUITE" "$ROOT.partial" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
        tail -5 "$WORK/debootstrap.log"
        die "Debian tree built" "debootstrap failed; see ${WORK#"$SOURCE"/}/debootstrap.log"
    fi
    # The container's journal in memory; no getty on a console nobody reads.
    echo "$stamp" >"$ROOT.partial/.huaying-test-tree"
    mv "$ROOT.partial" "$ROOT"
    echo "tree built in $((SECONDS - started)) s"
fi

# ---------------------------------------------------------------------------------------------
# The container

cleanup() {
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        if [ -n "$LEADER" ]; then
            # The container's whole journal, for reading after a failure (the tmpfs goes at power-off).
            timeout 30 nsenter -t "$LEADER" -a -- journalctl --no-pager --output=short-precise >"$WORK/journal.log" 2>&1 || true
            nsenter -t "$LEADER" -a -- systemctl poweroff --no-block >/dev/null 2>&1 || true
        fi
        local deadline=$((SECONDS + 15))
        while kill -0 "$NSPAWN_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
        if kill -0 "$NSPAWN_PID" 2>/dev/null; then
            echo "container did not power off in 15 s; killing systemd-nspawn ($NSPAWN_PID)"
            kill -KILL "$NSPAWN_PID" 2>/dev/null || true
        fi
        wait "$NSPAWN_PID" 2>/dev/null || true
    fi
    if [ -n "$ROBOT_PID" ]; then
        kill "$ROBOT_PID" 2>/dev/null || true
        wait "$ROBOT_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'echo "interrupted"; summary; exit 130' INT TERM

# A 企业微信 group robot stand-in on the host's 127.0.0.1 (the container shares the host
# network), the notifier tests' own: writes its port to DIR/port, appends each POST (path,
# query, body) as one JSON line to DIR/requests.jsonl, answers errcode 0 as WeCom does.
ROBOT=$WORK/robot
rm -rf "$ROBOT" && mkdir -p "$ROBOT"
python3 "$SOURCE/Tests/NotifierTests/Fixtures/robot-server.py" "$ROBOT" </dev/null >"$ROBOT/server.log" 2>&1 &
ROBOT_PID=$!

# The source is bound at the same path, so `make install` finds .build/release as here.
setsid systemd-nspawn --quiet --directory="$ROOT" --volatile=overlay --register=no --keep-unit \
    --console=pipe --machine=huaying-test --bind-ro="$SOURCE" --boot \
    >"$WORK/console.log" 2>&1 </dev/null &
NSPAWN_PID=$!

# The container's systemd: the first process named systemd under systemd-nspawn (its child or,
# with --volatile, its grandchild) once it has exec'd /sbin/init.
find_leader() {
    local level=$NSPAWN_PID next pid depth
    for depth in 1 2 3; do
        next=
        for pid in $level; do
            for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
                if [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ]; then LEADER=$child; return 0; fi
                next="$next $child"
            done
        done
        level=$next
    done
    return 1
}
wait_for 30 find_leader || die "container boots" "no systemd under systemd-nspawn after 30 s: $(tail -5 "$WORK/console.log")"
find_leader

# Run a command inside, as root, with a clean environment and the working directory of the
# container's PID 1 (/). (--wd=/ would be the host's /, which the container cannot see.)
# LC_MESSAGES=en_US.UTF-8: the checks read the CLI's English (the installed config's ui.language
# is zh, which a C locale leaves in force; section 2 checks that too).
ct() {
    nsenter -t "$LEADER" -a --wd -- /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 LC_MESSAGES=en_US.UTF-8 HOME=/root "$@"
}
# The same, killed after SECONDS: ct_within SECONDS COMMAND…
ct_within() {
    local seconds=$1
    shift
    timeout "$seconds" nsenter -t "$LEADER" -a --wd -- /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 HOME=/root "$@"
}
# Run a command inside as USER (with USER's groups).
as_user() {
    local user=$1
    shift
    ct setpriv --reuid="$user" --regid="$user" --init-groups -- /usr/bin/env HOME=/ USER="$user" LOGNAME="$user" "$@"
}
prop() { ct systemctl show --property="$1" --value "$UNIT"; }
cursor() { ct journalctl --lines=0 --show-cursor --quiet | sed -n 's/^-- cursor: //p'; }
journal_since() { ct journalctl --unit="$UNIT" --after-cursor="$1" --output=cat --no-pager "${@:2}"; }
system_up() { ct systemctl is-system-running --wait 2>/dev/null | grep -qE '^(running|degraded)$'; }
is_active() { [ "$(prop ActiveState)" = active ]; }
main_pid() { prop MainPID; }
status_json() { ct huaying status --json; }
# json EXPRESSION: evaluate a Python expression over the JSON on stdin (as `d`).
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)" 2>/dev/null; }

boot_started=$SECONDS
wait_for 60 system_up || die "container boots" "systemd in the container did not reach running in 60 s: $(ct systemctl --failed --no-legend 2>&1 | head -5)"
pass "Debian $SUITE boots with systemd $(ct systemctl --version | awk 'NR == 1 { print $2 }') as PID 1 ($((SECONDS - boot_started)) s)"
failed_units=$(ct systemctl --failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')
[ -z "$failed_units" ] || note "units failed in the container (not ours): $failed_units"

# ---------------------------------------------------------------------------------------------
# make install refuses a binary that needs the toolchain's runtime

dynamic=$WORK/dynamic-runtime
mkdir -p "$dynamic"
if [ ! -x "$dynamic/huayingd" ]; then
    echo 'print("built against the toolchain'"'"'s libswiftCore.so")' >"$dynamic/main.swift"
    nice -n 10 swiftc -O -o "$dynamic/huayingd" "$dynamic/main.swift" >/dev/null 2>&1 && cp "$dynamic/huayingd" "$dynamic/huaying"
fi
if [ -x "$dynamic/huayingd" ]; then
    output=$(ct "$dynamic/huayingd" 2>&1)
    expect "a binary built with the toolchain's runtime linked dynamically fails inside" "$output" \
        grep -q "libswiftCore.so: cannot open shared object file" <<<"$output"
    output=$(ct make --no-print-directory -C "$SOURCE" install BUILT_BINARIES="$dynamic" 2>&1)
    status=$?
    expect "make install refuses it, naming libswiftCore.so and make release" "exit $status: $output" \
        bash -c '[ "$1" != 0 ] && grep -q "libswiftCore.so" <<<"$2" && grep -q "make release" <<<"$2" && [ ! -e /proc/'"$LEADER"'/root/usr/local/bin/huayingd ]' _ "$status" "$output"
else
    fail "a dynamically linked test binary built" "swiftc failed in $dynamic"
fi

# ---------------------------------------------------------------------------------------------
# 1. install, enable --now, readiness, user, directories and modes

output=$(ct make --no-print-directory -C "$SOURCE" install 2>&1)
status=$?
[ "$status" = 0 ] || die "make install inside the container" "exit $status: $output"
pass "make install inside the container"
note "$(tail -1 <<<"$output")"
expect "make install created the huaying user and the admin group huaying-admin" "$(ct getent passwd huaying; ct getent group huaying-admin)" \
    bash -c 'nsenter -t '"$LEADER"' -a -- getent passwd huaying >/dev/null && nsenter -t '"$LEADER"' -a -- getent group huaying-admin >/dev/null'

expect "make install finds python3 for the notifiers (no warning)" "$output" bash -c '! grep -q "python3 not found" <<<"$1"' _ "$output"

# One setting of the test's own before the first start (README.md says so): chat notifications
# go at once whatever the hour and day (no quiet hours, no digest window), so the delivery
# check below neither depends on when the test runs nor waits a minute.
ct sh -c 'printf "\n# make test-systemd: notifications at once, whatever the hour\nnotifications:\n  quiet_hours: \"off\"\n  quiet_on_days_off: false\n  digest_window: 0\n" >> /etc/huaying/huaying.yaml'

c=$(cursor)
started=$(date +%s.%N)
ct_within 60 systemctl enable --now "$UNIT" >/dev/null 2>&1
status=$?
elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
state=$(prop ActiveState)/$(prop SubState)
[ "$status" = 0 ] && [ "$state" = active/running ] ||
    die "systemctl enable --now returns with the service active/running" "exit $status, $state: $(ct journalctl -u "$UNIT" -n 30 --output=cat)"
pass "systemctl enable --now returns (in $elapsed s) with the service active/running"
# Type=notify: systemctl start returns once READY=1 arrived; the daemon sends it only after the
# socket listens, so the socket is there the moment systemctl returns.
expect "the control socket exists when systemctl returns (READY=1 came after it listened)" "no /run/huaying/huaying.sock" \
    ct test -S /run/huaying/huaying.sock
journal=$(journal_since "$c")
expect "the journal has 'huayingd ready' before systemd's 'Started'" "$journal" \
    python3 -c 'import sys; t = sys.argv[1]; r = t.find("huayingd ready"); s = t.find("Started "); sys.exit(0 if 0 <= r < s else 1)' "$journal"
status_text=$(prop StatusText)
systemctl_status=$(ct systemctl status --no-pager "$UNIT" 2>&1)
expect "systemctl status shows the daemon's STATUS text" "StatusText=$status_text" \
    grep -q 'Status: "running; control socket /run/huaying/huaying.sock"' <<<"$systemctl_status"
pid=$(main_pid)
user=$(ct ps -o user= -p "$pid" | tr -d ' ')
group=$(ct ps -o group= -p "$pid" | tr -d ' ')
expect "huayingd (pid $pid) runs as user huaying, group huaying" "$user:$group" test "$user:$group" = huaying:huaying
modes=$(ct stat -c '%n %a %U:%G %F' /var/lib/huaying /run/huaying /run/huaying/huaying.sock)
expect_modes=$'/var/lib/huaying 750 huaying:huaying directory\n/run/huaying 755 huaying:huaying directory\n/run/huaying/huaying.sock 660 huaying:huaying socket'
expect "state dir 0750, runtime dir 0755, socket 0660 group huaying, all owned by huaying" "$modes" test "$modes" = "$expect_modes"
database=$(ct stat -c '%a %U' /var/lib/huaying/state.db)
expect "the database is huaying's and not world-accessible (UMask=0007)" "$database" bash -c '[[ "$1" =~ ^[67][0-7]0\ huaying$ ]]' _ "$database"

# ---------------------------------------------------------------------------------------------
# 2. README.md's next steps (people, a chat robot, a plugin, workflow files), then the CLI
#    inside: root, staff, outsider, admin

# "People": three accounts; the chart names 古桥街道's 企业微信 robot (its communities inherit
# it); the robot's key and URL (the stand-in's) go in the secrets file (0600, the service's
# user); staff and admin join the groups with usermod; then a reload.
STAFF=zhaomin
ADMIN=itadmin
OUTSIDER=visitor
for user in "$STAFF" "$ADMIN" "$OUTSIDER"; do ct useradd --create-home --user-group "$user"; done
ct sed -i 's/^  - { id: guqiao, *name: 古桥街道, *kind: street, *parent: huaying }$/  - { id: guqiao, name: 古桥街道, kind: street, parent: huaying, notify: [guqiao-wecom] }/' /etc/huaying/staff.yaml
ct usermod -aG huaying "$STAFF"
ct usermod -aG huaying,huaying-admin "$ADMIN"
wait_for 10 test -s "$ROBOT/port" || fail "the robot stand-in listens on 127.0.0.1" "$(cat "$ROBOT/server.log")"
ROBOT_KEY=systemd-test-key
ct install -m 0600 -o huaying -g huaying /dev/null /etc/huaying/secrets.yaml
printf 'robots:\n  guqiao-wecom:\n    plugin: wecom\n    env:\n      HUAYING_WECOM_KEY: %s\n      HUAYING_WECOM_URL: http://127.0.0.1:%s\n' \
    "$ROBOT_KEY" "$(cat "$ROBOT/port" 2>/dev/null)" | ct tee /etc/huaying/secrets.yaml >/dev/null
c=$(cursor)
ct_within 30 systemctl reload "$UNIT"
problems=$(journal_since "$c" --priority=warning)
expect "the reload takes the chart's robot and the secrets file (no warning in the journal)" "$problems" \
    bash -c '[ -z "$1" ] && grep -q "notify: \[guqiao-wecom\]" /proc/'"$LEADER"'/root/etc/huaying/staff.yaml' _ "$problems"
whoami=$(as_user "$STAFF" huaying whoami --json 2>&1)
expect "huaying whoami: $STAFF is 赵敏, secretary of guqiao-shequ, not an admin" "$whoami" \
    test "$(json "d['name'] == '赵敏' and not d['admin'] and any(r['role'] == 'secretary' and r['unit'] == 'guqiao-shequ' for r in d['roles'])" <<<"$whoami")" = True
whoami=$(as_user "$ADMIN" huaying whoami --json 2>&1)
expect "huaying whoami: $ADMIN (group huaying-admin) is an admin" "$whoami" test "$(json "d['admin']" <<<"$whoami")" = True

# "Drop a workflow file", with a step plugin of our own beside the shipped notifiers: a /bin/sh
# script (docs/plugins.md) that answers which user and folder it ran in. The files are written
# where an admin would keep them (/root), checked with `huaying lint`, installed 0644, reloaded.
PLUGINS=/usr/local/lib/huaying/plugins
ct install -d -m 0755 "$PLUGINS/sh-probe"
ct tee "$PLUGINS/sh-probe/plugin.yaml" >/dev/null <<'EOF'
name: sh-probe
version: 1.0.0
protocol: 1
executable: probe.sh
kind: step
timeout: 10 seconds
max_attempts: 2
backoff: { initial: 1 second, max: 1 second }
side_effects: none
EOF
ct tee /root/probe.sh >/dev/null <<'EOF'
#!/bin/sh
# A step plugin in /bin/sh: one request on stdin, one result on stdout.
/bin/cat >/dev/null
echo "sh-probe: ran as $(/usr/bin/id -un) in $(pwd)" >&2
printf '{"status": "completed", "output": {"user": "%s", "cwd": "%s"}}\n' "$(/usr/bin/id -un)" "$(pwd)"
EOF
ct install -m 0755 /root/probe.sh "$PLUGINS/sh-probe/probe.sh"
# A reminder to 古桥社区's secretary at start (in the inbox, and to the unit's robot), then a record.
ct tee /root/service-check.yaml >/dev/null <<'EOF'
workflow: service-check
title: 服务自检
params:
  unit: { type: unit, title: 社区, kinds: [village, community] }
steps:
  - id: confirm
    title: 确认服务可用
    uses: remind
    with:
      to: secretary@unit
      message: "{{unit.name}}：请确认华蓥服务可用。"
  - id: confirmed
    title: 记录：已确认
    after: confirm
    uses: record
    with: { text: "服务已确认，确认人{{steps.confirm.acked_by}}" }
EOF
ct tee /root/plugin-check.yaml >/dev/null <<'EOF'
workflow: plugin-check
title: 插件自检
steps:
  - id: probe
    title: 运行外部插件
    uses: sh-probe
  - id: probed
    title: 记录插件结果
    after: probe
    uses: record
    with: { text: "插件以{{steps.probe.output.user}}运行于{{steps.probe.output.cwd}}" }
EOF
output=$(ct huaying lint /root/service-check.yaml /root/plugin-check.yaml 2>&1)
status=$?
expect "huaying lint passes both workflow files (sh-probe's manifest read from the plugins folder)" "exit $status: $output" test "$status" = 0
ct install -m 0644 /root/service-check.yaml /root/plugin-check.yaml /etc/huaying/workflows.d/
ct_within 30 systemctl reload "$UNIT"
workflows=$(ct huaying workflows --json 2>&1)
expect "huaying workflows lists service-check and plugin-check after the reload" "$workflows" \
    test "$(json "sorted(w['id'] for w in d['workflows'] if w['id'] in ('service-check', 'plugin-check'))" <<<"$workflows")" = "['plugin-check', 'service-check']"

output=$(ct huaying status 2>&1)
expect "huaying status works as root and names the running pid" "$output" grep -q "$pid" <<<"$output"
output=$(ct env -u LC_MESSAGES huaying status 2>&1)
expect "the installed CLI speaks Chinese on a C locale (ui.language: zh)" "$output" grep -q "^启动于" <<<"$output"
output=$(as_user "$ADMIN" huaying start service-check --param unit=guqiao-shequ 2>&1)
instance=$(sed -n 's/^started instance \([0-9]*\) of service-check$/\1/p' <<<"$output")
expect "an admin in group huaying-admin starts an instance" "$output" test -n "$instance"
output=$(as_user "$STAFF" huaying start service-check --param unit=guqiao-shequ 2>&1)
status=$?
expect "a staff member may not start one [not_admin]" "exit $status: $output" bash -c '[ "$1" = 4 ] && grep -q "\[not_admin\]" <<<"$2"' _ "$status" "$output"
inbox=$(as_user "$STAFF" huaying inbox --json 2>&1)
reminder=$(json "next((r['id'] for r in d if r['instance'] == $instance and r['step'] == 'confirm'), '')" <<<"$inbox" 2>/dev/null)
expect "staff member $STAFF (group huaying) reads the reminder in their inbox" "$inbox" test -n "$reminder"
output=$(as_user "$STAFF" huaying ack "$reminder" --note "服务正常" 2>&1)
expect "$STAFF acknowledges it" "$output" grep -q "acknowledged reminder $reminder" <<<"$output"
confirmed() { ct huaying show "$instance" --json | json "d['state'] == 'completed'" | grep -q True; }
expect "the step after the acknowledgement runs and the instance completes" "$(ct huaying show "$instance" 2>&1)" wait_for 10 confirmed

# The reminder also went to 古桥街道's robot: through the outbox, the installed wecom notifier
# (python3, run by the daemon inside the unit's sandbox) posted it to the stand-in over TCP.
posted() { grep -q "请确认华蓥服务可用" "$ROBOT/requests.jsonl" 2>/dev/null; }
wait_for 20 posted
post=$(grep -m1 "请确认华蓥服务可用" "$ROBOT/requests.jsonl" 2>/dev/null)
expect "the installed wecom notifier delivered the reminder to the robot (key, text, @mobile, ack command)" \
    "posts: $(cat "$ROBOT/requests.jsonl" 2>/dev/null); journal: $(ct journalctl -u "$UNIT" -p warning --output=cat | tail -5)" \
    test "$(json "d['path'] == '/cgi-bin/webhook/send' and d['query'] == 'key=$ROBOT_KEY' and d['body']['msgtype'] == 'text' and '古桥社区：请确认华蓥服务可用。' in d['body']['text']['content'] and 'huaying ack $reminder' in d['body']['text']['content'] and d['body']['text'].get('mentioned_mobile_list') == ['13800000002']" <<<"$post")" = True
outbox_done() { [ "$(status_json | json "d['counts']['outbox_pending'], d['counts']['plugin_failures']")" = "0 0" ]; }
expect "the outbox has nothing pending and no plugin failure" "$(status_json | json "d['counts']")" wait_for 10 outbox_done

# An exec step plugin (/bin/sh) runs under the unit: as huaying, in the state directory.
output=$(as_user "$ADMIN" huaying start plugin-check 2>&1)
probe_instance=$(sed -n 's/^started instance \([0-9]*\) of plugin-check$/\1/p' <<<"$output")
probed() { ct huaying show "$probe_instance" --json | json "d['state'] == 'completed'" | grep -q True; }
wait_for 20 probed
recorded=$(ct huaying audit --json | json "[r for r in d['rows'] if r['instance'] == ${probe_instance:-0} and r['event'] == 'step.recorded']")
expect "the /bin/sh step plugin completes under the unit, as huaying in /var/lib/huaying, and the next step records it" \
    "$output; $(ct huaying show "${probe_instance:-0}" 2>&1); $recorded" \
    bash -c 'grep -q "插件以huaying运行于/var/lib/huaying" <<<"$1"' _ "$recorded"
output=$(as_user "$OUTSIDER" huaying status 2>&1)
status=$?
expect "a user outside group huaying gets the permission message (exit 3)" "exit $status: $output" \
    bash -c '[ "$1" = 3 ] && grep -q "permission denied on /run/huaying/huaying.sock: ask an admin to add you to the socket.s group" <<<"$2"' _ "$status" "$output"

# ---------------------------------------------------------------------------------------------
# 3. reload: README's "Drop a workflow file" with an edited file and a broken one, systemd
#    waiting for the daemon, journal priorities

version_before=$(ct huaying workflows --json | json "next(w['current_version'] for w in d['workflows'] if w['id'] == 'service-check')" 2>&1)
ct sed -i 's/^title: 服务自检$/title: 服务自检（第二版）/' /root/service-check.yaml
# A broken file beside it: lint refuses it; dropped anyway, its findings are warnings for the
# journal and the rest still loads.
ct tee /root/broken.yaml >/dev/null <<'EOF'
workflow: broken
title: 坏文件
steps:
  - id: one
    uses: record
EOF
output=$(ct huaying lint /root/service-check.yaml 2>&1)
status=$?
expect "huaying lint passes the edited file" "exit $status: $output" test "$status" = 0
output=$(ct huaying lint /root/broken.yaml 2>&1)
status=$?
expect "huaying lint refuses the broken file, at file:line:col (exit 1)" "exit $status: $output" \
    bash -c '[ "$1" = 1 ] && grep -q "broken.yaml:[0-9]*:[0-9]*: error" <<<"$2"' _ "$status" "$output"
c=$(cursor)
ct install -m 0644 /root/service-check.yaml /root/broken.yaml /etc/huaying/workflows.d/
ct_within 30 systemctl reload "$UNIT"
status=$?
state=$(prop ActiveState)
expect "systemctl reload returns with the service active" "exit $status, $state" test "$status" = 0 -a "$state" = active
workflows=$(ct huaying workflows --json)
title=$(json "next(w['title'] for w in d['workflows'] if w['id'] == 'service-check')" <<<"$workflows" 2>&1)
version_after=$(json "next(w['current_version'] for w in d['workflows'] if w['id'] == 'service-check')" <<<"$workflows" 2>&1)
expect "the changed workflow file is in force when systemctl reload returns (new title and version)" "$title $version_before → $version_after" \
    test "$title" = "服务自检（第二版）" -a "$version_before" != "$version_after"
warnings=$(journal_since "$c" --priority=warning)
infos=$(journal_since "$c" --priority=info)
expect "journalctl -p warning shows the broken file with file:line:col" "$warnings" grep -q "/etc/huaying/workflows.d/broken.yaml:[0-9]*:[0-9]*" <<<"$warnings"
expect "journalctl -p warning leaves out notice and info lines" "$warnings" bash -c '! grep -q "workflows reloaded" <<<"$1"' _ "$warnings"
expect "journalctl -p info has the notice line (workflows reloaded)" "$infos" grep -q "workflows reloaded" <<<"$infos"

# systemctl reload waits for the daemon. The daemon is held (SIGSTOP) while a new file goes in
# and the reload is asked: systemd must show the service reloading for as long as the daemon
# has not answered, and its "Reloaded" must come after the daemon's "workflows reloaded" (with
# /bin/kill -HUP as ExecReload=, systemd 252 said "Reloaded" as soon as kill exited).
pid=$(main_pid)
c=$(cursor)
ct kill -STOP "$pid"
printf 'workflow: reload-check\ntitle: 重载自检\nsteps:\n  - { id: one, title: 记录, uses: record, with: { text: 重载 } }\n' |
    ct tee /etc/huaying/workflows.d/reload-check.yaml >/dev/null
ct systemctl reload --no-block "$UNIT"
is_reloading() { [ "$(prop ActiveState)" = reloading ]; }
wait_for 5 is_reloading
sleep 0.5
held=$(prop ActiveState)/$(prop SubState)
ct kill -CONT "$pid"
wait_for 30 is_active
expect "systemd shows the service reloading while the daemon has not reloaded (held 0.5 s), then active" "$held, then $(prop ActiveState)" \
    test "$held" = reloading/reload -a "$(prop ActiveState)" = active
journal=$(journal_since "$c")
expect "the journal: systemd's 'Reloading', the daemon's 'workflows reloaded' with reload-check, then systemd's 'Reloaded'" "$journal" \
    python3 -c 'import sys; t = sys.argv[1]; a, b, c = t.find("Reloading "), t.find("workflows reloaded"), t.find("Reloaded "); sys.exit(0 if 0 <= a < b < c and "reload-check" in t[b:c] else 1)' "$journal"
# SIGHUP by hand (kill -HUP) still reloads, telling systemd RELOADING=1, then READY=1 with STATUS.
ct systemctl kill --signal=HUP "$UNIT"
reloaded_status() { grep -q "^running; reloaded: " <<<"$(prop StatusText)"; }
expect "kill -HUP reloads too: the daemon's STATUS says reloaded" "StatusText=$(prop StatusText)" wait_for 10 reloaded_status
ct rm /etc/huaying/workflows.d/broken.yaml /etc/huaying/workflows.d/reload-check.yaml

# ---------------------------------------------------------------------------------------------
# 5. hardening leaves the daemon what it needs (checked before the heavy part)

pid=$(main_pid)
huaying_uid=$(ct id -u huaying)
huaying_gid=$(ct id -g huaying)
# In the service's own mount namespace (ProtectSystem=, PrivateTmp=, …), as its user and group.
in_service() { ct nsenter -t "$pid" -m -S "$huaying_uid" -G "$huaying_gid" -- "$@" >/dev/null 2>&1; }
expect "the service can list the plugins folder /usr/local/lib/huaying/plugins" "" in_service ls /usr/local/lib/huaying/plugins
expect "the service can read /etc/huaying/secrets.yaml (0600 huaying:huaying)" "" in_service head -c1 /etc/huaying/secrets.yaml
expect "the service can read /etc/huaying and its workflows" "" in_service cat /etc/huaying/huaying.yaml /etc/huaying/workflows.d/service-check.yaml
expect "the service can write its state dir and runtime dir" "" in_service sh -c 'touch /var/lib/huaying/.w /run/huaying/.w && rm /var/lib/huaying/.w /run/huaying/.w'
expect "the service cannot write /etc/huaying or /usr/local (ProtectSystem=strict)" "" in_service sh -c '! touch /etc/huaying/.w 2>/dev/null && ! touch /usr/local/lib/huaying/plugins/.w 2>/dev/null'
denied=$(ct journalctl --unit="$UNIT" --output=cat | grep -iE "permission denied|read-only file system|operation not permitted" || true)
expect "no permission error in the daemon's journal" "$denied" test -z "$denied"
security=$(ct systemd-analyze security --no-pager "$UNIT" 2>&1)
score=$(sed -n 's/.*Overall exposure level for huayingd.service: \([0-9.]*\).*/\1/p' <<<"$security")
# README.md states the exposure level; the unit must not be more exposed than it says.
readme_score=$(grep -o 'systemd-analyze security huayingd` rates it [0-9.]*' README.md | grep -o '[0-9.]*$')
expect "systemd-analyze security huayingd: exposure level $score, at most the ${readme_score:-?} README.md states" "$(tail -3 <<<"$security")" \
    awk -v score="$score" -v stated="$readme_score" 'BEGIN { exit !(score != "" && stated != "" && score + 0 <= stated + 0) }'
note "systemd-analyze security: $(grep 'Overall exposure' <<<"$security")"

# ---------------------------------------------------------------------------------------------
# 6. stop cleanly; SIGKILL then start resumes

ledger_hashes() { ct huaying audit --json | json "'\n'.join(str(r['seq']) + ' ' + r['hash'] for r in d['rows'])"; }
before=$(ledger_hashes)
ct_within 60 systemctl stop "$UNIT"
result="$(prop Result) $(prop ExecMainCode) $(prop ExecMainStatus) $(prop ActiveState)"
expect "systemctl stop: Result=success, exit status 0, inactive" "$result" test "$result" = "success 1 0 inactive"
expect "the control socket is removed" "" bash -c '[ ! -e /proc/'"$LEADER"'/root/run/huaying/huaying.sock ]'
ct_within 60 systemctl start "$UNIT"
expect "start again" "$(prop ActiveState)" is_active
expect "the ledger is as it was" "" test "$(ledger_hashes)" = "$before"

pid=$(main_pid)
restarts=$(prop NRestarts)
c=$(cursor)
ct systemctl kill --signal=KILL "$UNIT"
new_main_pid() { local p; p=$(main_pid); [ "$p" != 0 ] && [ "$p" != "$pid" ] && is_active; }
# Restart=on-failure brings it back after RestartSec=2s; `systemctl start` meanwhile is the
# admin's command and returns once it is up.
wait_for 10 bash -c '[ "$(nsenter -t '"$LEADER"' -a -- systemctl show -p ActiveState --value '"$UNIT"')" != active ]'
ct_within 60 systemctl start "$UNIT"
expect "after systemctl kill -s KILL, start brings it back (new pid $(main_pid))" "$(prop ActiveState)" wait_for 30 new_main_pid
journal=$(journal_since "$c")
expect "the daemon says the previous run did not stop cleanly" "$journal" grep -q "previous run did not stop cleanly" <<<"$journal"
verify=$(ct huaying audit --verify 2>&1)
expect "after SIGKILL: ledger verified, every row still there" "$verify" \
    bash -c 'grep -q "^ledger verified" <<<"$1" && [ "$(head -n "$(wc -l <<<"$3")" <<<"$2")" = "$3" ]' _ "$verify" "$(ledger_hashes)" "$before"
acked=$(ct huaying inbox --as "$STAFF" --all --json | json "[r['acked_by'] for r in d if r['id'] == $reminder]")
expect "after SIGKILL: the acknowledgement is kept" "$acked" test "$acked" = "['$STAFF']"

# ---------------------------------------------------------------------------------------------
# 6b. backup while running, more changes, then restore as docs/operations.md ("Restoring") says

# Under ProtectSystem=strict the daemon (which writes the file) can only write its state and
# runtime directories, so the backup goes into the state directory.
BACKUP=/var/lib/huaying/backup-test.db
output=$(ct huaying backup "$BACKUP" 2>&1)
expect "huaying backup while the service runs writes a verified copy" "$output" \
    bash -c 'grep -q "^backup written: $2" <<<"$1" && grep -q "its ledger verified" <<<"$1"' _ "$output" "$BACKUP"
backup_head=$(ct huaying audit --json | json "d['rows'][-1]['seq']")
# A change the backup lacks: an instance started after it.
output=$(as_user "$ADMIN" huaying start service-check --param unit=guqiao-shequ 2>&1)
lost_instance=$(sed -n 's/^started instance \([0-9]*\) of service-check$/\1/p' <<<"$output")
expect "a change after the backup (instance $lost_instance started)" "$output" test -n "$lost_instance"
ct_within 60 systemctl stop "$UNIT"
# Steps 2 and 3: the current files aside, the backup in place.
ct sh -c 'cd /var/lib/huaying && mv state.db state.db.broken &&
    for f in state.db-wal state.db-shm; do if [ -e "$f" ]; then mv "$f" "$f.broken"; fi; done &&
    install -m 0640 -o huaying -g huaying "$1" state.db' _ "$BACKUP"
c=$(cursor)
ct_within 60 systemctl start "$UNIT" >/dev/null 2>&1
refusal=$(journal_since "$c" | grep -m1 -- "--accept-restore")
expect "without --accept-restore the service refuses the restored database, naming the flag" \
    "$(prop ActiveState) $(journal_since "$c" | tail -3)" bash -c '[ -n "$1" ] && [ "$2" != active ]' _ "$refusal" "$(prop ActiveState)"
# Restart=on-failure would try again in 2 s, in the middle of what follows: stop cancels that.
ct_within 30 systemctl stop "$UNIT"
expect "systemctl stop cancels the retry (inactive or failed, no restart pending)" "$(prop ActiveState)/$(prop SubState)" \
    bash -c '[[ "$1" =~ ^(inactive/dead|failed/failed)$ ]]' _ "$(prop ActiveState)/$(prop SubState)"
# This test has started the service about five times in ten seconds by now: systemd's start
# limit (StartLimitBurst=5) would refuse the next start. A server never gets there.
ct systemctl reset-failed "$UNIT"
# Step 4 under systemd: the runtime directory is gone with the stopped service, so make it as
# the unit would, run the daemon once in the foreground as huaying until "huayingd ready",
# stop it (Ctrl-C: SIGINT), then start the service.
ct install -d -o huaying -g huaying -m 0755 /run/huaying
ct sh -c 'runuser -u huaying -- huayingd --config /etc/huaying/huaying.yaml --accept-restore >/run/restore.log 2>&1 &
    echo $! >/run/restore.pid'
restore_ready() { ct grep -q "huayingd ready" /run/restore.log; }
wait_for 60 restore_ready
restore_log=$(ct cat /run/restore.log)
expect "runuser -u huaying -- huayingd --accept-restore records the restore and gets ready" "$restore_log" \
    bash -c 'grep -q "state restored from an older copy; recorded in the ledger" <<<"$1" && grep -q "huayingd ready" <<<"$1"' _ "$restore_log"
ct sh -c 'for child in $(cat /proc/$(cat /run/restore.pid)/task/*/children); do kill -INT "$child"; done'
restore_ended() { ct sh -c '! kill -0 $(cat /run/restore.pid) 2>/dev/null'; }
expect "Ctrl-C (SIGINT) stops the foreground daemon" "$(ct tail -3 /run/restore.log)" wait_for 30 restore_ended
ct_within 60 systemctl start "$UNIT"
expect "systemctl start after the restore" "$(prop ActiveState) $(journal_since "$c" | tail -3)" is_active
verify=$(ct huaying audit --verify 2>&1)
audit=$(ct huaying audit --json)
restored=$(json "[(r['seq'], r['fields']) for r in d['rows'] if r['event'] == 'state.restored']" <<<"$audit")
restored_next=$(json "[r['seq'] for r in d['rows'] if r['event'] == 'state.restored'] == [${backup_head:-0} + 1]" <<<"$audit")
expect "after the restore: huaying audit --verify passes, and one state.restored row follows the backup's head (row $backup_head)" \
    "$verify; $restored" bash -c 'grep -q "^ledger verified" <<<"$1" && [ "$2" = True ]' _ "$verify" "$restored_next"
output=$(ct huaying show "${lost_instance:-0}" 2>&1)
status=$?
expect "the instance started after the backup is not in the restored state (what the journal must tell)" "exit $status: $output" test "$status" != 0

# ---------------------------------------------------------------------------------------------
# 4. watchdog: a large catch-up backlog at start, a daemon that really hangs in the middle of it

watchdog_dropin() {
    ct mkdir -p "$DROPINS"
    printf '[Service]\nWatchdogSec=%ss\n' "$WATCHDOG_SEC" | ct tee "$DROPINS/60-watchdog.conf" >/dev/null
    ct systemctl daemon-reload
}
no_watchdog_dropin() {
    ct rm -f "$DROPINS/60-watchdog.conf"
    ct systemctl daemon-reload
}
# The ledger and the steps as the database holds them, read from the host while the daemon is
# stopped (a whole-ledger `huaying audit` is one long answer on a big ledger): prints
# "rows drill_instances distinct_steps recorded_rows duplicates missing chain_ok".
DATABASE=/proc/$LEADER/root/var/lib/huaying/state.db
database_counts() {
    # A copy (with its WAL), so nothing here creates files the service's user cannot open.
    rm -rf "$WORK/snapshot" && mkdir -p "$WORK/snapshot"
    cp "$DATABASE" "$WORK/snapshot/state.db" || { echo "? ? ? ? ? ? no-database"; return; }
    if [ -e "$DATABASE-wal" ]; then cp "$DATABASE-wal" "$WORK/snapshot/state.db-wal"; fi
    python3 - "$WORK/snapshot/state.db" "$BACKLOG_STEPS" <<'PY' 2>"$WORK/snapshot/error.txt" || echo "? ? ? ? ? ? $(tail -1 "$WORK/snapshot/error.txt" | tr ' ' '_')"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
steps = int(sys.argv[2])
rows = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
drill = [r[0] for r in db.execute("SELECT id FROM instance WHERE workflow = 'catch-up-drill'")]
recorded = db.execute("""SELECT count(*), count(DISTINCT l.instance || ' ' || l.step) FROM ledger l
    JOIN instance i ON i.id = l.instance WHERE i.workflow = 'catch-up-drill' AND l.event = 'step.recorded'""").fetchone()
done = db.execute("""SELECT count(*) FROM step s JOIN instance i ON i.id = s.instance
    WHERE i.workflow = 'catch-up-drill' AND s.state = 'done'""").fetchone()[0]
chain = all(prev == before for (prev, before) in zip(
    (r[0] for r in db.execute("SELECT prev_hash FROM ledger ORDER BY seq LIMIT -1 OFFSET 1")),
    (r[0] for r in db.execute("SELECT hash FROM ledger ORDER BY seq"))))
print(rows, len(drill), recorded[1], recorded[0], recorded[0] - recorded[1], len(drill) * steps - done, "chain-linked" if chain else "chain-broken")
PY
}

# One workflow of BACKLOG_STEPS record steps, a minute apart after the start.
backlog_workflow() {
    echo "workflow: catch-up-drill"
    echo "title: 补办演练"
    echo "steps:"
    local k
    for ((k = 1; k <= BACKLOG_STEPS; k++)); do
        echo "  - { id: s$k, title: 记录$k, at: start + $k minutes, uses: record, with: { text: 第${k}项 } }"
    done
}
backlog_workflow | ct tee /etc/huaying/workflows.d/catch-up-drill.yaml >/dev/null

# Make COUNT instances whose steps are all overdue the next time the daemon starts on the real
# clock: start them on a simulated clock two days back (a drop-in; synchronous=normal for this
# session only, so a thousand starts do not wait for a thousand fsyncs), then stop. They live
# in a state directory of their own: the service's own state has seen today, and a clock never
# moves backwards over a state (the daemon refuses an earlier --simulated-clock).
BACKLOG_STATE=/var/lib/huaying/backlog
make_backlog() {
    local count=$1 since
    since=$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)
    ct sh -c 'sed "s/^  synchronous: full/  synchronous: normal/" /etc/huaying/huaying.yaml > /etc/huaying/backlog-session.yaml'
    ct mkdir -p "$DROPINS"
    printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/huayingd --config /etc/huaying/backlog-session.yaml --state-dir %s --simulated-clock %s\n' "$BACKLOG_STATE" "$since" |
        ct tee "$DROPINS/50-simulated-clock.conf" >/dev/null
    ct systemctl daemon-reload
    ct_within 60 systemctl restart "$UNIT" || return 1
    # Three clients at a time: each start is a new process, the daemon serves them one by one.
    ct sh -c 'seq '"$count"' | xargs -P 3 -n 50 sh -c '"'"'for i; do huaying start catch-up-drill --allow-duplicate >/dev/null || exit 255; done'"'"' _' || return 1
    ct_within 120 systemctl stop "$UNIT" || return 1
    ct rm "$DROPINS/50-simulated-clock.conf" /etc/huaying/backlog-session.yaml
    # The catch-up runs on the real clock over the backlog's state directory.
    printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/huayingd --config /etc/huaying/huaying.yaml --state-dir %s\n' "$BACKLOG_STATE" |
        ct tee "$DROPINS/50-backlog-state.conf" >/dev/null
    ct systemctl daemon-reload
}
drill_done() { [ "$(ct huaying instances --workflow catch-up-drill --state running --json 2>/dev/null | json 'len(d)')" = 0 ]; }
# Poll `huaying status` while the catch-up runs: the longest answer, in seconds.
longest_status=0
status_polls=0
status_failures=0
watch_status() {
    local t0 t1
    t0=$(date +%s%N)
    ct_within 60 huaying status --json >/dev/null 2>&1 || { status_failures=$((status_failures + 1)); return 1; }
    t1=$(date +%s%N)
    status_polls=$((status_polls + 1))
    if (((t1 - t0) / 1000000 > longest_status)); then longest_status=$(((t1 - t0) / 1000000)); fi
}

backlog=$((BACKLOG_INSTANCES * BACKLOG_STEPS))
started=$SECONDS
if make_backlog "$BACKLOG_INSTANCES"; then
    pass "$BACKLOG_INSTANCES instances × $BACKLOG_STEPS steps made overdue on a simulated clock ($((SECONDS - started)) s)"
else
    fail "backlog made" "$(ct journalctl -u "$UNIT" -n 20 --output=cat)"
fi
watchdog_dropin
restarts=$(prop NRestarts)
c=$(cursor)
started=$SECONDS
ct_within 120 systemctl start "$UNIT"
note "systemctl start returned after $((SECONDS - started)) s"
pid=$(main_pid)
# A daemon that really hangs with work in flight: SIGSTOP once the catch-up has committed its
# first batch. The watchdog gets it killed (SIGABRT) and Restart=on-failure starts it again,
# which resumes from the last commit and catches up the rest.
first_batch() { journal_since "$c" | grep -q "steps caught up"; }
wait_for 60 first_batch
ct kill -STOP "$pid"
hung_at=$SECONDS
restarted() { [ "$(prop NRestarts)" -gt "$restarts" ] && is_active && [ "$(main_pid)" != "$pid" ]; }
expect "a daemon hung (SIGSTOP) in the middle of the catch-up is killed by the watchdog and restarted" \
    "NRestarts=$(prop NRestarts) $(prop ActiveState)" wait_for 60 restarted
note "restarted $((SECONDS - hung_at)) s after SIGSTOP (WatchdogSec=${WATCHDOG_SEC}s, RestartSec=2s)"
journal=$(journal_since "$c")
expect "the journal says the watchdog fired and pid $pid was sent SIGABRT" "$journal" \
    bash -c 'grep -qi "watchdog timeout" <<<"$1" && grep -q "Killing process $2 (huayingd) with signal SIGABRT" <<<"$1"' _ "$journal" "$pid"
# The rest of the catch-up, on the restarted daemon, under the same watchdog.
restarts=$(prop NRestarts)
pid=$(main_pid)
c=$(cursor)
until drill_done || ((SECONDS - started > 600)); do
    watch_status || { sleep 0.5; is_active || [ "$(prop ActiveState)" = activating ] || break; }
    sleep 0.5
done
catch_up_seconds=$((SECONDS - started))
journal=$(journal_since "$c")
expect "the $backlog-step catch-up finishes (in $catch_up_seconds s, the hang and restart included)" "" drill_done
batches_after=$(grep -c "steps caught up" <<<"$journal")
expect "the hang came with work in flight: the restarted daemon caught up the rest ($batches_after batches)" "" test "$batches_after" -gt 0
kills=$(grep -c "Watchdog timeout" <<<"$journal")
expect "the watchdog (WatchdogSec=${WATCHDOG_SEC}s) stays satisfied through the rest of the catch-up: no timeout, no restart, same pid" \
    "$kills watchdog timeouts, NRestarts $restarts → $(prop NRestarts), pid $pid → $(main_pid)" \
    test "$kills" = 0 -a "$(prop NRestarts)" = "$restarts" -a "$(main_pid)" = "$pid"
note "longest 'huaying status' answer during the catch-up: ${longest_status} ms ($status_polls answers, $status_failures polls unanswered or refused); first batch after the restart: '$(grep -o '[0-9]* steps caught up' <<<"$journal" | head -1)'"
no_watchdog_dropin
ct_within 120 systemctl stop "$UNIT"
service_database=$DATABASE
DATABASE=/proc/$LEADER/root$BACKLOG_STATE/state.db
read -r rows instances distinct total duplicates missing chain < <(database_counts)
DATABASE=$service_database
ct rm -f "$DROPINS/50-backlog-state.conf"
ct systemctl daemon-reload
expect "after the hang and the catch-up: each of the $backlog steps done and recorded exactly once, the ledger chain linked" \
    "$rows ledger rows, $instances instances, $distinct distinct steps recorded, $total rows, $duplicates duplicates, $missing not done, $chain" \
    test "$instances" = "$BACKLOG_INSTANCES" -a "$distinct" = "$backlog" -a "$duplicates" = 0 -a "$missing" = 0 -a "$chain" = chain-linked
ct_within 120 systemctl start "$UNIT"

# ---------------------------------------------------------------------------------------------
# 7. upgrade over a running install, then uninstall

ct sed -i 's/^log_level: info /log_level: notice/' /etc/huaying/huaying.yaml
ct sh -c 'printf "\n# 本社区自己的补充\n" >> /etc/huaying/staff.yaml'
sums=$(ct sha256sum /etc/huaying/huaying.yaml /etc/huaying/staff.yaml /etc/huaying/workflows.d/service-check.yaml)
wait_for 60 is_active
counts() { ct huaying status --json 2>/dev/null | json "d['counts']['instances'], d['counts']['ledger_rows']"; }
counts_before=$(counts)
pid=$(main_pid)
c=$(cursor)
output=$(ct make --no-print-directory -C "$SOURCE" install 2>&1)
status=$?
expect "a second make install over the running service" "exit $status: $output" test "$status" = 0
expect "it keeps the edited /etc/huaying files and says so" "$output" \
    bash -c 'grep -q "kept /etc/huaying/huaying.yaml" <<<"$1" && grep -q "kept /etc/huaying/staff.yaml" <<<"$1" && [ "$2" = "$3" ]' _ "$output" "$sums" \
    "$(ct sha256sum /etc/huaying/huaying.yaml /etc/huaying/staff.yaml /etc/huaying/workflows.d/service-check.yaml)"
expect "it restarts the running service and says so (restarted huayingd; new pid $(main_pid))" "$output" \
    bash -c '[ "$1" != "$2" ] && [ "$1" != 0 ] && grep -q "^restarted huayingd" <<<"$3"' _ "$(main_pid)" "$pid" "$output"
journal=$(journal_since "$c")
expect "the old daemon stopped cleanly (no crash noticed by the new one)" "$journal" \
    bash -c 'grep -q "stopped status=0\|stopped.*status.*0" <<<"$1" && ! grep -q "previous run did not stop cleanly" <<<"$1"' _ "$journal"
wait_for 60 is_active
counts_after=$(counts)
expect "the state is kept across the upgrade (instances, ledger rows)" "$counts_before → $counts_after" \
    test -n "$counts_before" -a "$counts_before" = "$counts_after"
expect "the edited log_level is in force (info lines no longer logged)" "$journal" bash -c '! grep -q "huayingd ready" <<<"$1"' _ "$journal"

output=$(ct make --no-print-directory -C "$SOURCE" uninstall 2>&1)
status=$?
enabled=$(ct systemctl is-enabled "$UNIT" 2>&1)
expect "make uninstall stops and disables the service" "exit $status: $output $(prop ActiveState) is-enabled: $enabled" \
    bash -c '[ "$1" = 0 ] && [ "$2" = inactive ] && [ "$3" != enabled ] && [ ! -e /proc/'"$LEADER"'/root/etc/systemd/system/multi-user.target.wants/huayingd.service ]' _ "$status" "$(prop ActiveState)" "$enabled"
expect "make uninstall removes the binaries and the unit" "" ct sh -c '! test -e /usr/local/bin/huayingd && ! test -e /usr/local/bin/huaying && ! test -e /etc/systemd/system/huayingd.service'
expect "make uninstall removes the shipped notifiers and keeps the plugin of our own" "$(ct ls -R "$PLUGINS" 2>&1)" \
    ct sh -c '! test -e "$1/wecom" && ! test -e "$1/dingtalk" && test -x "$1/sh-probe/probe.sh"' _ "$PLUGINS"
# The catch-up's state directory (the drill instances), then the service's own.
DATABASE=/proc/$LEADER/root$BACKLOG_STATE/state.db
read -r rows_left instances_left _ _ _ _ chain_left < <(database_counts)
DATABASE=$service_database
read -r _ _ _ _ _ _ service_chain_left < <(database_counts)
expect "the service's own state left behind is whole: chain linked" "$service_chain_left" test "$service_chain_left" = chain-linked
expect "the state left behind is whole: $rows_left ledger rows, chain linked, $instances_left drill instances" "$chain_left" \
    test "$chain_left" = chain-linked -a "${rows_left//[^0-9]/}0" -ge "${rows//[^0-9]/}0" -a "$instances_left" = "$BACKLOG_INSTANCES"
expect "make uninstall keeps /etc/huaying (with the edits), the state and the huaying user" "" \
    bash -c '[ "$1" = "$2" ] && nsenter -t '"$LEADER"' -a -- test -s /var/lib/huaying/state.db && nsenter -t '"$LEADER"' -a -- getent passwd huaying >/dev/null' _ "$sums" \
    "$(ct sha256sum /etc/huaying/huaying.yaml /etc/huaying/staff.yaml /etc/huaying/workflows.d/service-check.yaml)"

summary
[ "$failed" = 0 ]
exit
}
