#!/usr/bin/env python3
"""Soak test of the real huayingd on the real clock (`make soak`; minutes, not part of `make test`).

A steady mix of starts, acknowledgements, updates and cancels goes through the real `huaying`
CLI while steps fall due on the real clock (a workflow with minute offsets), and the daemon is
killed with SIGKILL at random moments and started again. Then two failing-machine phases:
the state directory (a small tmpfs) is filled up, then remounted read-only; the daemon must
keep answering, refuse or retry, and recover with nothing lost once the space or the write
access is back. At the end, with the daemon stopped:

- exactly once: one `instance.started` per instance, one `reminder.sent` / `step.recorded`
  per (instance, step) that ran, and every step due more than a grace period ago has run;
- every confirmed start exists, every confirmed cancel is cancelled, and no acknowledged
  reminder was re-opened or changed hands;
- `huaying audit --verify` passes and `PRAGMA integrity_check` is ok;
- the daemon's RSS (/proc/PID/status VmRSS) did not grow during a long run without kills.

Needs root (it mounts a tmpfs). Every loop is bounded in time; daemons are killed and the
tmpfs unmounted on exit, whatever happens. Environment: SOAK_SECONDS (the load phases
together, default 300), SOAK_SEED (replay a run), SOAK_BIN (folder with huayingd and
huaying, default .build/debug). Ends with `N passed, N failed`; exit 1 when a check failed.
"""
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("SOAK_BIN", ROOT / ".build/debug"))
BUDGET = int(os.environ.get("SOAK_SECONDS", "300"))
SEED = int(os.environ.get("SOAK_SEED", str(random.randrange(1, 2**31))))
SHANGHAI = timezone(timedelta(hours=8))
TMPFS_MB = 16
GRACE_SECONDS = 45  # a step due longer ago than this must have run by the end

# Units whose secretary is one person, so that person's inbox holds the unit's reminders.
UNITS = [("guqiao-shequ", "zhaomin"), ("xijie", "linfeng"), ("dongyuan", "hanmei"),
         ("huangjue", "xiaoming"), ("qingshan", "guoliang")]
RECORD_STEPS = ["opened", "acked", "closing"]
REMIND_STEPS = ["notify"]

WORKFLOW = """\
workflow: soak
title: 耐久测试
params:
  unit: { type: unit, title: 社区, kinds: [village, community] }
  when: { type: datetime, title: 提醒时间 }
calendar: cn-mainland
steps:
  - id: opened
    title: 记录：开始
    at: start + 1 minute
    uses: record
    with: { text: "{{unit.name}}耐久测试开始" }
  - id: notify
    title: 提醒确认
    at: when
    uses: remind
    with:
      to: secretary@unit
      message: "{{unit.name}}：请确认耐久测试提醒。"
    ack:
      within: 2 minutes
      repeat: 1 minute
  - id: acked
    title: 记录：已确认
    after: notify
    uses: record
    with: { text: "确认人{{steps.notify.acked_by}}" }
  - id: closing
    title: 记录：结束
    at: start + 3 minutes
    uses: record
    with: { text: "耐久测试结束" }
"""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok    {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"  FAIL  {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok


class Site:
    """A temporary site: config, staff, calendars and the soak workflow; state on a tmpfs."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="hy-soak-", dir="/tmp"))
        (self.root / "etc").mkdir()
        (self.root / "workflows").mkdir()
        (self.root / "run").mkdir()
        self.state = self.root / "state"
        self.state.mkdir()
        self.mounted = False
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m,mode=0750", "tmpfs", str(self.state)], check=True)
        self.mounted = True
        (self.root / "etc/huaying.yaml").write_text(
            "paths:\n  state_dir: ../state\n  socket: ../run/huaying.sock\n  workflows: ../workflows\n"
            "  plugins: ../plugins\n  staff: staff.yaml\n  calendars: calendars\n"
            "time_zone: Asia/Shanghai\nlog_level: info\n"
            "election:\n  province: 四川省\n  candidate_list_lead_days: 5\n", encoding="utf-8")
        (self.root / "etc/staff.yaml").write_bytes((ROOT / "etc/staff.yaml").read_bytes())
        (self.root / "etc/calendars").mkdir()
        for path in (ROOT / "etc/calendars").glob("*.yaml"):
            (self.root / "etc/calendars" / path.name).write_bytes(path.read_bytes())
        (self.root / "workflows/soak.yaml").write_text(WORKFLOW, encoding="utf-8")
        self.config = self.root / "etc/huaying.yaml"
        self.socket = self.root / "run/huaying.sock"
        self.database = self.state / "state.db"
        self.filler = self.state / "filler"

    def remount(self, mode):
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.state)], check=True)

    def cleanup(self):
        if self.mounted:
            subprocess.run(["mount", "-o", "remount,rw", str(self.state)], stderr=subprocess.DEVNULL)
            if subprocess.run(["umount", str(self.state)]).returncode == 0 or \
                    subprocess.run(["umount", "--lazy", str(self.state)]).returncode == 0:
                self.mounted = False
        if not self.mounted:
            subprocess.run(["rm", "-rf", str(self.root)])


class Daemon:
    """One huayingd process; `kill` is SIGKILL, `stop` is SIGTERM with a bounded wait."""

    def __init__(self, site, number):
        self.site = site
        self.log_path = site.root / f"huayingd-{number}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([str(BIN / "huayingd"), "--config", str(site.config)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"huayingd exited with {self.process.returncode} at start:\n{self.tail()}")
            if cli(site, ["status"]).returncode == 0:
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"huayingd did not answer within 60 s:\n{self.tail()}")

    def alive(self):
        return self.process.poll() is None

    def rss_kb(self):
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return None

    def kill(self):
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()
        return self.process.returncode

    def tail(self, lines=15):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def cli(site, arguments, user=None):
    command = [str(BIN / "huaying"), "--socket", str(site.socket)] + (["--as", user] if user else []) + arguments
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as error:
        return subprocess.CompletedProcess(command, 124, error.stdout or "", "huaying timed out after 30 s")


def local_minute(offset_minutes):
    return (datetime.now(SHANGHAI) + timedelta(minutes=offset_minutes)).strftime("%Y-%m-%dT%H:%M")


class Load:
    """The mix of operations, and what the daemon confirmed (the truth the end checks use)."""

    def __init__(self, site, rng):
        self.site = site
        self.rng = rng
        self.started = {}        # instance id -> unit
        self.cancelled = set()
        self.acked = {}          # reminder id -> (user, acked_at)
        self.unknown_acks = {}   # reminder id -> user (the daemon died during the call)
        self.counts = {}
        self.killed = threading.Event()

    def count(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1

    def outcome(self, name, result):
        """ok / refused / unknown (the daemon was killed or the disk is failing during the call)."""
        if result.returncode == 0:
            self.count(f"{name} ok")
            return "ok"
        if self.killed.is_set():
            self.count(f"{name} unknown")
            return "unknown"
        self.count(f"{name} refused")
        return "refused"

    def step(self):
        choice = self.rng.choices(["start", "ack", "update", "cancel", "status"], weights=[4, 4, 1, 1, 1])[0]
        getattr(self, choice)()

    def start(self):
        unit, _ = self.rng.choice(UNITS)
        result = cli(self.site, ["start", "soak", "--allow-duplicate", "--param", f"unit={unit}",
                                 "--param", f"when={local_minute(self.rng.randint(0, 2))}", "--json"])
        if self.outcome("start", result) == "ok":
            self.started[json.loads(result.stdout)["id"]] = unit

    def ack(self):
        _, user = self.rng.choice(UNITS)
        inbox = cli(self.site, ["inbox", "--json"], user=user)
        if self.outcome("inbox", inbox) != "ok":
            return
        reminders = [r for r in json.loads(inbox.stdout) if r["state"] == "open"]
        if not reminders:
            return
        reminder = self.rng.choice(reminders)
        result = cli(self.site, ["ack", str(reminder["id"]), "--note", "soak", "--json"], user=user)
        verdict = self.outcome("ack", result)
        if verdict == "ok":
            answer = json.loads(result.stdout)
            self.acked[reminder["id"]] = (answer["acked_by"], answer["acked_at"])
        elif verdict == "unknown":
            self.unknown_acks[reminder["id"]] = user

    def running(self):
        candidates = [i for i in self.started if i not in self.cancelled]
        return self.rng.choice(candidates) if candidates else None

    def update(self):
        instance = self.running()
        if instance is not None:
            self.outcome("update", cli(self.site, ["update", str(instance), "--param",
                                                   f"when={local_minute(self.rng.randint(1, 3))}", "--json"]))

    def cancel(self):
        instance = self.running()
        if instance is not None:
            result = cli(self.site, ["cancel", str(instance), "--reason", "soak", "--json"])
            if self.outcome("cancel", result) == "ok":
                self.cancelled.add(instance)

    def status(self):
        self.outcome("status", cli(self.site, ["status"]))

    def settle_unknown_acks(self, database):
        """An ack cut off by a kill either happened or not; the database says which."""
        for reminder, user in list(self.unknown_acks.items()):
            row = database.execute("SELECT state, acked_by, acked_at FROM reminder WHERE id = ?", (reminder,)).fetchone()
            if row and row[0] == "acked" and row[1] == user:
                self.acked[reminder] = (user, None)
            del self.unknown_acks[reminder]


def open_database(site):
    """A read-only connection that is closed after the `with` block (sqlite3's own context
    manager only commits; an open connection keeps the file system busy)."""
    return contextlib.closing(sqlite3.connect(f"file:{site.database}?mode=ro", uri=True, timeout=10))


def acknowledgements_kept(load, database):
    changed = []
    for reminder, (user, _) in load.acked.items():
        row = database.execute("SELECT state, acked_by FROM reminder WHERE id = ?", (reminder,)).fetchone()
        if not row or row[0] != "acked" or row[1] != user:
            changed.append((reminder, user, row))
    return changed


def run_for(load, seconds, daemon=None, samples=None):
    deadline = time.monotonic() + seconds
    next_sample = time.monotonic()
    while time.monotonic() < deadline:
        load.step()
        if samples is not None and daemon is not None and time.monotonic() >= next_sample:
            samples.append(daemon.rss_kb())
            next_sample += 5
        time.sleep(load.rng.uniform(0.0, 0.1))


def fill(path):
    """Writes zeros until the file system is full; returns the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as file:
        try:
            while written < TMPFS_MB * 2 * 1024 * 1024:
                written += file.write(chunk)
        except OSError:
            pass
        try:
            while True:
                written += file.write(b"\0" * 512)
        except OSError:
            pass
    return written


def main():
    rng = random.Random(SEED)
    checks = Checks()
    print(f"soak: seed {SEED} (replay with SOAK_SEED={SEED}), {BUDGET} s of load, binaries in {BIN}", flush=True)
    for program in ("huayingd", "huaying"):
        if not (BIN / program).exists():
            print(f"soak: no {BIN / program}; build first (make soak does)", file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("soak: needs root (it mounts a tmpfs as the state directory)", file=sys.stderr)
        return 2

    site = Site()
    daemons = []

    def cleanup(*_):
        for daemon in daemons:
            if daemon.alive():
                daemon.process.kill()
                daemon.process.wait(timeout=30)
        site.cleanup()

    def on_signal(number, _):
        cleanup()
        sys.exit(128 + number)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lint = subprocess.run([str(BIN / "huaying"), "lint", str(site.root / "workflows/soak.yaml"),
                           "--config", str(site.config)], capture_output=True, text=True)
    if lint.returncode != 0:
        print(f"soak: the soak workflow does not lint:\n{lint.stdout}{lint.stderr}", file=sys.stderr)
        cleanup()
        return 2
    load = Load(site, rng)
    try:
        def launch():
            daemon = Daemon(site, len(daemons) + 1)
            daemons.append(daemon)
            return daemon

        # Phase 1: start / SIGKILL / restart under load.
        kill_seconds = BUDGET * 0.45
        print(f"== kills: {kill_seconds:.0f} s of load, SIGKILL at random moments", flush=True)
        phase_end = time.monotonic() + kill_seconds
        kills = 0
        reopened = []
        while time.monotonic() < phase_end:
            daemon = launch()
            load.killed.clear()
            lifetime = rng.uniform(2, 10)

            def kill_it(daemon=daemon):
                load.killed.set()
                daemon.process.send_signal(signal.SIGKILL)

            timer = threading.Timer(lifetime, kill_it)
            timer.start()
            run_for(load, min(lifetime + 0.5, max(0.5, phase_end - time.monotonic())))
            timer.cancel()
            kill_it()
            daemon.kill()
            kills += 1
            with open_database(site) as database:
                load.settle_unknown_acks(database)
                reopened += acknowledgements_kept(load, database)
        print(f"   {kills} SIGKILLs; {len(load.started)} instances started, {len(load.acked)} reminders acknowledged", flush=True)
        checks.check(not reopened, f"no acknowledged reminder re-opened across {kills} SIGKILLs", str(reopened[:5]))

        # Phase 2: a long run without kills, sampling RSS.
        daemon = launch()
        load.killed.clear()
        steady_seconds = BUDGET * 0.25
        print(f"== steady: {steady_seconds:.0f} s of load without kills, RSS sampled every 5 s", flush=True)
        samples = []
        run_for(load, steady_seconds, daemon, samples)
        samples = [s for s in samples if s]
        if len(samples) >= 6:
            third = len(samples) // 3
            warm = sorted(samples[third:2 * third])[third // 2]
            late = max(samples[2 * third:])
            print(f"   VmRSS kB: {samples}", flush=True)
            checks.check(late <= warm * 1.25 + 8192, f"RSS did not grow (warm {warm} kB, late max {late} kB)",
                         "grew more than 25% + 8 MB")
        else:
            checks.check(False, "RSS sampled", f"only {len(samples)} samples")
        checks.check(daemon.alive(), "daemon alive after the steady run", daemon.tail())

        # Phase 3: the state directory's file system is full.
        full_seconds = BUDGET * 0.15
        print(f"== full disk: {full_seconds:.0f} s with the {TMPFS_MB} MB state tmpfs full", flush=True)
        written = fill(site.filler)
        refused_before = sum(v for k, v in load.counts.items() if k.endswith("refused"))
        run_for(load, full_seconds)
        refused_full = sum(v for k, v in load.counts.items() if k.endswith("refused")) - refused_before
        print(f"   filler {written // 1024} kB; {refused_full} operations refused while full", flush=True)
        checks.check(refused_full > 0, "a write was refused while the disk was full (the phase bit)")
        checks.check(daemon.alive(), "daemon kept running on a full disk", daemon.tail())
        checks.check(cli(site, ["status"]).returncode == 0, "status answers on a full disk")
        site.filler.unlink()
        recovered = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not recovered:
            before = len(load.started)
            load.start()
            recovered = len(load.started) > before
            if not recovered:
                time.sleep(1)
        checks.check(recovered, "starts succeed again after space is freed", daemon.tail())

        # Phase 4: the state directory is read-only. A file system with files open for writing
        # cannot be remounted read-only (EBUSY), so the daemon is killed first and started on
        # the read-only state: it must either refuse to start naming the cause, or run and
        # refuse writes; after the remount read-write a restart recovers with nothing lost.
        ro_seconds = BUDGET * 0.10
        print(f"== read-only: the daemon killed, the state tmpfs remounted read-only, a start tried, {ro_seconds:.0f} s of load", flush=True)
        daemon.kill()
        site.remount("ro")
        try:
            try:
                daemon = launch()
                refused_before = sum(v for k, v in load.counts.items() if k.endswith("refused"))
                run_for(load, ro_seconds)
                refused_ro = sum(v for k, v in load.counts.items() if k.endswith("refused")) - refused_before
                print(f"   the daemon runs on a read-only state directory; {refused_ro} operations refused", flush=True)
                checks.check(daemon.alive(), "daemon kept running on a read-only file system", daemon.tail())
                checks.check(refused_ro > 0, "a daemon running on a read-only file system refuses the writes it cannot store",
                             ", ".join(f"{k} {v}" for k, v in sorted(load.counts.items())))
                daemon.kill()
            except RuntimeError as error:
                message = str(error)
                print(f"   the daemon refused to start: {message.splitlines()[0][:200]}", flush=True)
                checks.check("read-only" in message.lower() or "readonly" in message.lower() or "EROFS" in message,
                             "a daemon refusing to start on a read-only state directory names the cause", message[-600:])
        finally:
            site.remount("rw")
        daemon = launch()
        recovered = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not recovered:
            before = len(load.started)
            load.start()
            recovered = len(load.started) > before
            if not recovered:
                time.sleep(1)
        checks.check(recovered, "starts succeed again after the file system is writable", daemon.tail())

        # Let the steps due during the failing phases catch up, then restart once more: a
        # last recovery from the database alone.
        print(f"== catch-up: {GRACE_SECONDS} s without load, then a SIGKILL and a restart", flush=True)
        time.sleep(GRACE_SECONDS)
        daemon.kill()
        daemon = launch()
        time.sleep(5)
        verify = cli(site, ["audit", "--verify"])
        checks.check(verify.returncode == 0, "huaying audit --verify passes", (verify.stdout + verify.stderr).strip())
        print(f"   {verify.stdout.strip()}", flush=True)
        checks.check(daemon.alive(), "daemon alive at the end", daemon.tail())
        status = daemon.stop()
        checks.check(status == 0, f"SIGTERM stops the daemon cleanly (exit {status})", daemon.tail())

        # The end checks, on the database with the daemon stopped.
        now_ms = int(time.time() * 1000)
        with open_database(site) as database:
            integrity = database.execute("PRAGMA integrity_check").fetchall()
            checks.check(integrity == [("ok",)], "PRAGMA integrity_check is ok", str(integrity[:5]))
            duplicates = database.execute(
                "SELECT instance, step, event, count(*) FROM ledger"
                " WHERE event IN ('instance.started', 'reminder.sent', 'step.recorded', 'reminder.acknowledged')"
                " GROUP BY instance, step, event HAVING count(*) > 1").fetchall()
            checks.check(not duplicates, "exactly once: no instance started, reminder sent, step recorded or "
                         "acknowledgement written twice", str(duplicates[:5]))
            ran = {(i, s) for i, s in database.execute(
                "SELECT instance, step FROM ledger WHERE event IN ('reminder.sent', 'step.recorded')")}
            done = database.execute("SELECT instance, step, state FROM step WHERE state IN ('done', 'waiting')").fetchall()
            without = [(i, s, st) for i, s, st in done if (i, s) not in ran]
            checks.check(not without, f"every step that ran ({len(done)}) has its ledger row", str(without[:5]))
            overdue = database.execute(
                "SELECT s.instance, s.step, s.state, s.due_at FROM step s JOIN instance i ON i.id = s.instance"
                " WHERE i.state = 'running' AND s.state IN ('pending', 'due') AND s.due_at IS NOT NULL AND s.due_at < ?",
                (now_ms - GRACE_SECONDS * 1000,)).fetchall()
            checks.check(not overdue, "every step due more than the grace period ago ran", str(overdue[:5]))
            instances = {row[0]: row[1] for row in database.execute("SELECT id, state FROM instance")}
            lost = [i for i in load.started if i not in instances]
            checks.check(not lost, f"every confirmed start ({len(load.started)}) is in the database", str(lost[:10]))
            started_rows = {row[0] for row in database.execute("SELECT instance FROM ledger WHERE event = 'instance.started'")}
            checks.check(set(instances) <= started_rows, "every instance has its instance.started row")
            uncancelled = [i for i in load.cancelled if instances.get(i) != "cancelled"]
            checks.check(not uncancelled, f"every confirmed cancel ({len(load.cancelled)}) stayed cancelled", str(uncancelled[:10]))
            load.settle_unknown_acks(database)
            changed = acknowledgements_kept(load, database)
            checks.check(not changed, f"every confirmed acknowledgement ({len(load.acked)}) stayed acknowledged by the same person",
                         str(changed[:5]))
            rows = database.execute("SELECT count(*) FROM ledger").fetchone()[0]
            # After a clean stop the anchor outside the database names the ledger's last row.
            last = database.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
            anchor = json.loads((site.state / "ledger-head.json").read_text(encoding="utf-8"))
            anchored = (anchor.get("head", {}).get("seq"), anchor.get("head", {}).get("hash"))
            checks.check(last is not None and anchored == tuple(last), "ledger-head.json names the ledger's last row",
                         f"anchor {anchored}, database {last}")
            completed = sum(1 for state in instances.values() if state == "completed")
        print(f"soak: {kills} SIGKILLs, {len(daemons)} daemon starts, {len(instances)} instances "
              f"({completed} completed, {len(load.cancelled)} cancelled), {rows} ledger rows", flush=True)
        print("soak: operations " + ", ".join(f"{k} {v}" for k, v in sorted(load.counts.items())), flush=True)
    except Exception as error:  # a crash of the soak itself is a failed check, with the daemon's log
        checks.check(False, "soak ran to the end", f"{type(error).__name__}: {error}\n"
                     + (daemons[-1].tail() if daemons else ""))
    finally:
        cleanup()
    print(f"soak: {checks.passed} passed, {len(checks.failed)} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
