#!/usr/bin/env python3
"""`make bench`: the W1 "durable reminders" and W2 "county year" benchmarks of huayingd.

Talks to the daemon only through its control socket (JSON lines) and reads results from the
ledger table of the state database (read-only). Prints one JSON line per run on stdout,
progress on stderr. Standard library only. See bench/README.md for the runs and the settings.
"""

import atexit
import datetime as dt
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value.replace("_", "")) if value.strip() else default


def env_list(name, default):
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    return [int(part.replace("_", "")) for part in value.split(",") if part.strip()]


QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SETTINGS = {
    "daemon": os.environ.get("BENCH_DAEMON", os.path.join(ROOT, ".build/release/huayingd")),
    "runs": os.environ.get("BENCH_RUNS", "probe,start,catchup,crash,live,startup,w2").split(","),
    "catchup_n": env_list("BENCH_CATCHUP_N", [1000] if QUICK else [10000, 100000]),
    "live_n": env_list("BENCH_LIVE_N", [1000] if QUICK else [10000, 100000]),
    "crash_n": env_int("BENCH_CRASH_N", 2000 if QUICK else 100000),
    "startup_n": env_int("BENCH_STARTUP_N", 5000 if QUICK else 1000000),
    "start_rounds": env_int("BENCH_START_ROUNDS", 2 if QUICK else 16),
    "start_connections": env_int("BENCH_START_CONNECTIONS", 8),
    "w2_days": env_int("BENCH_W2_DAYS", 31 if QUICK else 365),
    "w2_villages": env_int("BENCH_W2_VILLAGES", 300),
    "w2_townships": env_int("BENCH_W2_TOWNSHIPS", 20),
    "w2_start": os.environ.get("BENCH_W2_START", "2025-12-31T17:00+08:00"),
    # Seconds W2 may spend advancing the clock; when spent, the year-end figures are taken
    # on the state reached (`days_done` says how far).
    "w2_budget": env_int("BENCH_W2_BUDGET", 240 if QUICK else 3600),
    "keep": os.environ.get("BENCH_KEEP", "") not in ("", "0"),
    # A folder: every daemon is sampled by `perf record -g -p PID` into NAME-PID.perf there
    # (read with `perf report -i FILE`); the figures are the daemon's own, perf runs beside it.
    "perf": os.environ.get("BENCH_PERF"),
    # Every wait is bounded: no phase may take longer than this many seconds.
    "phase_timeout": env_int("BENCH_PHASE_TIMEOUT", 120 if QUICK else 900),
}

RUNNING = []          # daemons to kill on any exit
PRECISION = {"value": None}
SEED_RATE = {"value": 500.0}  # starts/s of the last seeding (synchronous=off); sizes the live margin


def log(message):
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()


def emit(record):
    sys.stdout.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()


class BenchError(Exception):
    pass


# ── The control socket ──────────────────────────────────────────────────────────────────────

class Client:
    """One connection to the control socket: JSON lines, one response per request."""

    def __init__(self, path, timeout=600.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""

    def close(self):
        self.sock.close()

    @staticmethod
    def line(command, arguments=None, act_as=None):
        request = {"version": 1, "command": command, "arguments": arguments or {}}
        if act_as:
            request["act_as"] = act_as
        return (json.dumps(request, ensure_ascii=False) + "\n").encode()

    def read_line(self):
        # Only the newest chunk is searched: a reply of 100+ MB stays linear.
        chunks = [self.buffer]
        while b"\n" not in chunks[-1]:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise BenchError("the daemon closed the control connection")
            chunks.append(chunk)
        line, self.buffer = b"".join(chunks).split(b"\n", 1)
        return line

    def call(self, command, arguments=None, act_as=None):
        """Returns (response object, reply size in bytes, latency in seconds)."""
        began = time.perf_counter()
        self.sock.sendall(self.line(command, arguments, act_as))
        raw = self.read_line()
        latency = time.perf_counter() - began
        return json.loads(raw), len(raw) + 1, latency

    def ok(self, command, arguments=None, act_as=None):
        response, _, _ = self.call(command, arguments, act_as)
        if not response.get("ok"):
            raise BenchError(f"{command} refused: {response.get('error')}")
        return response["result"]


def pipelined(socket_path, lines, connections):
    """Sends `lines` spread over `connections` connections, each writing all of its lines at
    once before reading; returns (responses in order, wall seconds)."""
    shares = [lines[k::connections] for k in range(connections)]
    clients = [Client(socket_path) for _ in shares]
    results = [None] * connections
    errors = []

    def work(k):
        try:
            clients[k].sock.sendall(b"".join(shares[k]))
            results[k] = [json.loads(clients[k].read_line()) for _ in shares[k]]
        except Exception as error:  # reported below, the thread must not die silently
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    for client in clients:
        client.close()
    if errors:
        raise BenchError(f"pipelined requests failed: {errors[0]}")
    ordered = [None] * len(lines)
    for k in range(connections):
        for j, response in enumerate(results[k]):
            ordered[k + j * connections] = response
    return ordered, wall


# ── The daemon ──────────────────────────────────────────────────────────────────────────────

def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid, key="VmRSS"):
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


class Daemon:
    """A huayingd process of its own state directory, socket and config."""

    def __init__(self, home, config, simulated=None, name="daemon"):
        self.home, self.config, self.simulated, self.name = home, config, simulated, name
        self.state_dir = os.path.join(home, "state")
        self.socket = os.path.join(home, "run", "huaying.sock")
        self.db_path = os.path.join(self.state_dir, "state.db")
        self.process = None
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(os.path.dirname(self.socket), exist_ok=True)

    def start(self, timeout=None):
        """Execs the daemon and waits for the first answered `status`; returns the seconds
        from exec to that answer."""
        began = self.spawn()
        return self.wait_status(began, timeout)

    def spawn(self):
        """Execs the daemon; returns the exec instant (perf_counter)."""
        command = [SETTINGS["daemon"], "--config", self.config, "--state-dir", self.state_dir,
                   "--socket", self.socket]
        if self.simulated:
            command += ["--simulated-clock", self.simulated]
        logfile = open(os.path.join(self.home, f"{self.name}.log"), "ab")
        began = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=logfile, stderr=logfile, stdin=subprocess.DEVNULL)
        logfile.close()
        RUNNING.append(self)
        if SETTINGS["perf"]:
            os.makedirs(SETTINGS["perf"], exist_ok=True)
            output = os.path.join(SETTINGS["perf"], f"{self.name}-{self.process.pid}.perf")
            # perf ends by itself when the daemon exits.
            subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(self.process.pid), "-o", output],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        return began

    def wait_status(self, began, timeout=None):
        """Polls until a `status` is answered; returns the seconds since `began`."""
        deadline = began + (timeout or SETTINGS["phase_timeout"])
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.process.returncode} on start; see {self.home}/{self.name}.log")
            try:
                client = Client(self.socket, timeout=max(1.0, deadline - time.perf_counter()))
                try:
                    response, _, _ = client.call("status")
                finally:
                    client.close()
                if response.get("ok"):
                    return time.perf_counter() - began
            except (FileNotFoundError, ConnectionRefusedError, socket.timeout, BenchError):
                pass
            if time.perf_counter() > deadline:
                raise BenchError(f"{self.name} did not answer status within the phase timeout")
            time.sleep(0.002)

    @property
    def pid(self):
        return self.process.pid

    def client(self):
        return Client(self.socket)

    def cpu(self):
        return proc_cpu_seconds(self.pid)

    def rss(self):
        return proc_rss_mib(self.pid)

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL if it does not exit in time; returns seconds to exit."""
        if not self.process or self.process.poll() is not None:
            return None
        began = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self in RUNNING:
            RUNNING.remove(self)
        return time.perf_counter() - began

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self in RUNNING:
            RUNNING.remove(self)

    def ledger(self):
        """A read-only connection to the state database (WAL: readable while it runs)."""
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        db.execute("PRAGMA busy_timeout = 30000")
        return db

    def state_bytes(self):
        total = 0
        for suffix in ("", "-wal", "-shm"):
            path = self.db_path + suffix
            if os.path.exists(path):
                total += os.path.getsize(path)
        return total


def cleanup():
    for daemon in list(RUNNING):
        daemon.kill()


def on_signal(number, frame):
    cleanup()
    sys.exit(128 + number)


# ── W1: files ───────────────────────────────────────────────────────────────────────────────

W1_WORKFLOW = """\
workflow: bench-reminders
title: 基准：三个定时记录
params:
  unit: { type: unit, title: 单位 }
  t1:   { type: datetime, title: 第一步 }
  t2:   { type: datetime, title: 第二步 }
  t3:   { type: datetime, title: 第三步 }
steps:
  - id: s1
    title: 第一步
    at: t1
    uses: record
    with: { text: 第一步 }
  - id: s2
    title: 第二步
    at: t2
    uses: record
    with: { text: 第二步 }
  - id: s3
    title: 第三步
    at: t3
    uses: record
    with: { text: 第三步 }
"""

W1_TOWNSHIPS, W1_VILLAGES_EACH = 10, 10
STAFF_USER = "nobody"      # an existing Unix user, so a real uid can ask as a staff member
STAFF_TOWNSHIP = "t01"


def w1_org_chart():
    lines = ["roles:", "  civil-affairs: 民政", "  secretary: 书记", "units:",
             "  - { id: bench-city, name: 基准市, kind: city }"]
    staff = ["staff:", f"  - {{ user: {STAFF_USER}, name: 基准民政, roles: {{ {STAFF_TOWNSHIP}: [civil-affairs] }} }}"]
    for t in range(1, W1_TOWNSHIPS + 1):
        lines.append(f"  - {{ id: t{t:02d}, name: 基准{t}镇, kind: township, parent: bench-city }}")
        for v in range(W1_VILLAGES_EACH):
            village = f"t{t:02d}v{v}"
            lines.append(f"  - {{ id: {village}, name: 基准{t}镇{v}村, kind: village, parent: t{t:02d} }}")
            staff.append(f"  - {{ user: s{village}, name: 书记{t}-{v}, roles: {{ {village}: [secretary] }} }}")
    return "\n".join(lines + staff) + "\n"


def w1_units():
    return [f"t{t:02d}v{v}" for t in range(1, W1_TOWNSHIPS + 1) for v in range(W1_VILLAGES_EACH)]


def write_config(home, synchronous, time_zone="UTC", workflows=None, calendars=None, staff=None):
    path = os.path.join(home, f"huaying-{synchronous}.yaml")
    with open(path, "w") as file:
        file.write(f"""\
paths:
  state_dir: {home}/state
  socket: {home}/run/huaying.sock
  workflows: {workflows or home + '/workflows'}
  plugins: {home}/plugins
  staff: {staff or home + '/staff.yaml'}
  calendars: {calendars or os.path.join(ROOT, 'etc/calendars')}
time_zone: {time_zone}
log_level: notice
sqlite:
  synchronous: {synchronous}
""")
    return path


def w1_home(label):
    home = tempfile.mkdtemp(prefix=f"huaying-bench-{label}-")
    os.chmod(home, 0o755)
    os.makedirs(os.path.join(home, "workflows"))
    os.makedirs(os.path.join(home, "plugins"))
    with open(os.path.join(home, "workflows", "bench-reminders.yaml"), "w") as file:
        file.write(W1_WORKFLOW)
    with open(os.path.join(home, "staff.yaml"), "w") as file:
        file.write(w1_org_chart())
    return home, write_config(home, "full"), write_config(home, "off")


def check_config(config):
    """`huayingd --check-config`: the generated org chart and workflows must be valid, or
    every figure after would measure a daemon without them."""
    result = subprocess.run([SETTINGS["daemon"], "--config", config, "--check-config"],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise BenchError(f"the generated config {config} is refused: {result.stderr.strip()[:2000]}")
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    return len(warnings)


def remove_home(home):
    if not SETTINGS["keep"]:
        shutil.rmtree(home, ignore_errors=True)


def utc(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


def param_time(ms, precision):
    """A `datetime` param (the config's zone is UTC) at the precision the daemon accepts."""
    moment = utc(ms)
    if precision == "millisecond":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    if precision == "second":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    return moment.strftime("%Y-%m-%dT%H:%M")


def rounded(ms, precision):
    unit = {"millisecond": 1, "second": 1000, "minute": 60000}[precision]
    return ms - ms % unit


def start_lines(dues_per_instance, units):
    """`start` request lines, one per instance; dues_per_instance: [(t1, t2, t3)] as params."""
    lines = []
    for k, (t1, t2, t3) in enumerate(dues_per_instance):
        lines.append(Client.line("start", {"workflow": "bench-reminders",
                                           "params": {"unit": units[k % len(units)], "t1": t1, "t2": t2, "t3": t3}}))
    return lines


def seed(daemon, dues, window=2048):
    """Starts one instance per entry of `dues` over the socket (pipelined windows); returns
    the instance ids in order and the rate."""
    units = w1_units()
    ids = []
    began = time.perf_counter()
    deadline = began + SETTINGS["phase_timeout"]
    for offset in range(0, len(dues), window):
        lines = start_lines(dues[offset:offset + window], units)
        responses, _ = pipelined(daemon.socket, lines, SETTINGS["start_connections"])
        for response in responses:
            if not response.get("ok"):
                raise BenchError(f"start refused while seeding: {response.get('error')}")
            ids.append(response["result"]["id"])
        if time.perf_counter() > deadline:
            raise BenchError(f"seeding {len(dues)} instances took longer than the phase timeout")
    wall = time.perf_counter() - began
    if len(dues) >= 1000 and wall:
        SEED_RATE["value"] = len(dues) / wall
    return ids, len(dues) / wall if wall else None


def ledger_head(daemon):
    db = daemon.ledger()
    try:
        return db.execute("SELECT coalesce(max(seq), 0) FROM ledger").fetchone()[0]
    finally:
        db.close()


def recorded_pairs(daemon, after_seq):
    db = daemon.ledger()
    try:
        return db.execute("SELECT instance, step, count(*), min(at), max(at) FROM ledger "
                          "WHERE seq > ? AND event = 'step.recorded' GROUP BY instance, step",
                          (after_seq,)).fetchall()
    finally:
        db.close()


def count_recorded(daemon, after_seq):
    db = daemon.ledger()
    try:
        return db.execute("SELECT count(*) FROM ledger WHERE seq > ? AND event = 'step.recorded'",
                          (after_seq,)).fetchone()[0]
    finally:
        db.close()


def wait_recorded(daemon, after_seq, expected, stop_at_rows=None, timeout=None, stall=120.0):
    """Polls the ledger until `expected` step.recorded rows follow `after_seq` (or, with
    stop_at_rows, until the ledger has that many rows after it). Bounded by `timeout` and by
    `stall` seconds without a new row. Returns (recorded, seconds waited, reason)."""
    began = time.perf_counter()
    deadline = began + (timeout or SETTINGS["phase_timeout"])
    last_head, last_change = None, began
    while True:
        if daemon.process.poll() is not None:
            return count_recorded(daemon, after_seq), time.perf_counter() - began, "daemon exited"
        head = ledger_head(daemon)
        now = time.perf_counter()
        if head != last_head:
            last_head, last_change = head, now
        if stop_at_rows is not None and head - after_seq >= stop_at_rows:
            recorded = count_recorded(daemon, after_seq)
            if recorded >= stop_at_rows:
                return recorded, time.perf_counter() - began, "reached"
        if stop_at_rows is None and head - after_seq >= expected:
            recorded = count_recorded(daemon, after_seq)
            if recorded >= expected:
                return recorded, time.perf_counter() - began, "complete"
        if now > deadline:
            return count_recorded(daemon, after_seq), now - began, "timeout"
        if now - last_change > stall:
            return count_recorded(daemon, after_seq), now - began, "stalled"
        time.sleep(0.02)


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def latency_stats(client, command, arguments=None, act_as=None, repeat=5):
    latencies, size, refused = [], None, None
    for _ in range(repeat):
        response, size, latency = client.call(command, arguments, act_as)
        if not response.get("ok"):
            refused = response.get("error")
            break
        latencies.append(latency * 1000)
    return {"median_ms": round(statistics.median(latencies), 2) if latencies else None,
            "max_ms": round(max(latencies), 2) if latencies else None,
            "reply_bytes": size, "refused": refused}


def as_staff(daemon, command, arguments=None, repeat=5):
    """Asks as the staff member (a real uid from the org chart): a child process switches to
    that user and connects. Only possible when the bench runs as root."""
    if os.getuid() != 0:
        return {"skipped": "the bench does not run as root, so it cannot connect as a staff uid"}
    try:
        entry = pwd.getpwnam(STAFF_USER)
    except KeyError:
        return {"skipped": f"no Unix user {STAFF_USER}"}
    os.chmod(daemon.socket, 0o666)
    os.chmod(os.path.dirname(daemon.socket), 0o755)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(read_end)
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            client = Client(daemon.socket, timeout=SETTINGS["phase_timeout"])
            result = latency_stats(client, command, arguments, repeat=repeat)
            response, _, _ = client.call(command, arguments)
            result["results"] = len(response["result"]) if response.get("ok") else None
            os.write(write_end, json.dumps(result).encode())
        except Exception as error:
            os.write(write_end, json.dumps({"error": str(error)}).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        for chunk in iter(lambda: pipe.read(65536), b""):
            chunks.append(chunk)
    os.waitpid(child, 0)
    return json.loads(b"".join(chunks) or b"{}")


# ── W1 runs ─────────────────────────────────────────────────────────────────────────────────

def run_probe():
    """Which `datetime` precision the daemon accepts (seconds and milliseconds are issue 14
    item 4); every live run uses the finest."""
    home, config, _ = w1_home("probe")
    daemon = Daemon(home, config)
    try:
        check_config(config)
        daemon.start()
        client = daemon.client()
        accepted = {}
        for precision, text in (("minute", "2030-01-01T09:00"), ("second", "2030-01-01T09:00:05"),
                                ("millisecond", "2030-01-01T09:00:05.250")):
            response, _, _ = client.call("start", {"workflow": "bench-reminders",
                                                   "params": {"unit": w1_units()[0], "t1": text, "t2": text, "t3": text}})
            accepted[precision] = bool(response.get("ok"))
            if not response.get("ok"):
                accepted[precision + "_refusal"] = response.get("error", {}).get("code")
        status = client.ok("status")
        client.close()
        finest = "millisecond" if accepted["millisecond"] else "second" if accepted["second"] else "minute"
        PRECISION["value"] = finest
        emit({"run": "probe", "datetime_precision": finest, "accepted": accepted,
              "daemon_version": status.get("daemon_version"), "protocol_version": status.get("protocol_version")})
    finally:
        daemon.stop()
        remove_home(home)


def far_dues(count):
    t = "2030-01-01T09:00"
    return [(t, t, t)] * count


def run_start_throughput():
    home, config, _ = w1_home("start")
    daemon = Daemon(home, config)
    try:
        daemon.start()
        units = w1_units()
        rounds, connections = SETTINGS["start_rounds"], SETTINGS["start_connections"]
        walls, refused = [], 0
        cpu_before = daemon.cpu()
        for _ in range(rounds):
            responses, wall = pipelined(daemon.socket, start_lines(far_dues(256), units), connections)
            refused += sum(1 for response in responses if not response.get("ok"))
            walls.append(wall)
        cpu = daemon.cpu() - cpu_before
        total = 256 * rounds
        emit({"run": "w1.start", "synchronous": "full", "requests": total, "pipelined": 256,
              "connections": connections, "refused": refused,
              "starts_per_s": round(total / sum(walls)),
              "best_round_per_s": round(256 / min(walls)), "worst_round_per_s": round(256 / max(walls)),
              "cpu_us_per_start": round(cpu / total * 1e6, 1)})
    finally:
        daemon.stop()
        remove_home(home)


def seed_overdue(label, count):
    """A state with `count` instances whose three steps all fell due an hour ago: seeded on a
    simulated clock two hours back with synchronous=off (seeding is not what is measured)."""
    home, config_full, config_off = w1_home(label)
    now_ms = int(time.time() * 1000)
    sim_start = now_ms - 2 * 3600 * 1000
    seeder = Daemon(home, config_off, simulated=utc(sim_start).strftime("%Y-%m-%dT%H:%M+00:00"), name="seed")
    seeder.start()
    base = rounded(sim_start + 3600 * 1000, "minute")
    dues = [(param_time(base, "minute"), param_time(base + 60000, "minute"), param_time(base + 120000, "minute"))] * count
    ids, rate = seed(seeder, dues)
    seeder.stop()
    head = ledger_head(seeder)
    return home, config_full, ids, head, rate


def run_catchup(n):
    home, config, ids, head, seed_rate = seed_overdue(f"catchup-{n}", n)
    daemon = Daemon(home, config)
    try:
        exec_at = daemon.spawn()
        # A client asking `status` from the moment the socket exists, during the backlog.
        answered = {}
        prober = threading.Thread(target=lambda: answered.update(s=daemon.wait_status(exec_at)), daemon=True)
        prober.start()
        recorded, waited, reason = wait_recorded(daemon, head, 3 * n)
        done_epoch_ms = time.time() * 1000
        prober.join(SETTINGS["phase_timeout"])
        startup = answered.get("s")
        wall = time.perf_counter() - exec_at
        cpu = daemon.cpu()
        pairs = recorded_pairs(daemon, head)
        # A batch's rows all carry the instant it began, so the rate runs from the first
        # step.recorded row's `at` until the poll that saw the last one (≤ 20 ms + a query late).
        first = min((row[3] for row in pairs), default=None)
        span = (done_epoch_ms - first) / 1000 if first is not None and reason == "complete" else None
        record = {"run": "w1.catchup", "n": n, "steps": 3 * n, "synchronous": "full", "recorded": recorded,
                  "end": reason, "duplicated": sum(1 for row in pairs if row[2] > 1),
                  "steps_per_s": round(3 * n / span) if span else None,
                  "steps_per_s_wall": round(recorded / wall) if wall and recorded else None,
                  "wall_s_from_exec": round(wall, 3), "first_status_s_during_backlog": round(startup, 3) if startup is not None else None,
                  "cpu_ms_per_step": round(cpu / max(1, recorded) * 1000, 4),
                  "rss_mib_after": daemon.rss(), "rss_peak_mib": proc_rss_mib(daemon.pid, "VmHWM"),
                  "seed_starts_per_s": round(seed_rate) if seed_rate else None,
                  "state_bytes": daemon.state_bytes()}
        client = daemon.client()
        record["status"] = latency_stats(client, "status")
        record["instances_admin"] = latency_stats(client, "instances", repeat=2)
        client.close()
        record["instances_staff"] = as_staff(daemon, "instances", repeat=3)
        emit(record)
    finally:
        daemon.stop()
        remove_home(home)


def run_crash(n):
    home, config, ids, head, _ = seed_overdue(f"crash-{n}", n)
    daemon = Daemon(home, config)
    try:
        # The ledger has at least as many rows as steps recorded: once it has 1.5n rows after
        # the seeded head, the step.recorded rows are counted on every poll.
        daemon.spawn()
        _, _, reason = wait_recorded(daemon, head, 3 * n, stop_at_rows=3 * n // 2)
        daemon.kill()
        at_kill = count_recorded(daemon, head)
        restarted = Daemon(home, config, name="restart")
        startup = restarted.start()
        recorded, waited, end = wait_recorded(restarted, head, 3 * n)
        pairs = recorded_pairs(restarted, head)
        seen = {(row[0], row[1]): row[2] for row in pairs}
        lost = sum(1 for instance in ids for step in ("s1", "s2", "s3") if (instance, step) not in seen)
        emit({"run": "w1.crash", "n": n, "steps": 3 * n, "kill_reason": reason,
              "recorded_at_kill": at_kill, "killed_at_fraction": round(at_kill / (3 * n), 3),
              "restart_first_status_s": round(startup, 3), "end": end, "recorded": recorded,
              "lost": lost, "duplicated": sum(1 for count in seen.values() if count > 1)})
        restarted.stop()
    finally:
        daemon.kill()
        remove_home(home)


def run_live(n):
    """Spread-out due times on the real clock; lateness = ledger `at` − the step's due."""
    precision = PRECISION["value"] or "minute"
    home, config_full, config_off = w1_home(f"live-{n}")
    offered = n  # steps per second: 10,000/s at N = 10,000, 100,000/s at N = 100,000
    steps = 3 * n
    # Seeding must end before the first due: allow 1.5 × the last seeding's duration for n,
    # plus 5 s.
    margin_ms = int((5 + 1.5 * n / SEED_RATE["value"]) * 1000)
    now_ms = int(time.time() * 1000)
    if precision == "minute":
        # Whole minutes only: every step at one minute boundary after the margin.
        first = rounded(now_ms + margin_ms + 59999, "minute")
        due = [first] * steps
    else:
        first = rounded(now_ms + margin_ms + 999, "second")
        due = [rounded(first + j * 1000 // offered, precision) for j in range(steps)]
    dues = [(param_time(due[k], precision), param_time(due[n + k], precision), param_time(due[2 * n + k], precision))
            for k in range(n)]
    seeder = Daemon(home, config_off, simulated=utc(now_ms).strftime("%Y-%m-%dT%H:%M:%S+00:00"), name="seed")
    daemon = Daemon(home, config_full)
    try:
        seeder.start()
        ids, seed_rate = seed(seeder, dues)
        seeder.stop()
        head = ledger_head(seeder)
        daemon.start()
        rss_waiting = daemon.rss()
        ready_ms = int(time.time() * 1000)
        if ready_ms > first - 1000:
            log(f"live {n}: seeding ended {ready_ms - first} ms after the first due; lateness is not meaningful")
        if first > ready_ms:
            time.sleep((first - ready_ms) / 1000)  # bounded: the margin computed above
        recorded, _, end = wait_recorded(daemon, head, steps)
        db = daemon.ledger()
        rows = db.execute("SELECT instance, step, at FROM ledger WHERE seq > ? AND event = 'step.recorded'", (head,)).fetchall()
        db.close()
        index = {instance: k for k, instance in enumerate(ids)}
        column = {"s1": 0, "s2": 1, "s3": 2}
        lateness = [at - due[column[step] * n + index[instance]] for instance, step, at in rows if instance in index]
        emit({"run": "w1.live", "n": n, "steps": steps, "precision": precision,
              "offered_steps_per_s": offered if precision != "minute" else None,
              "recorded": recorded, "end": end,
              "seeded_before_first_due_ms": first - ready_ms,
              "lateness_ms": {"p50": percentile(lateness, 0.5), "p99": percentile(lateness, 0.99),
                              "max": max(lateness) if lateness else None, "min": min(lateness) if lateness else None},
              "rss_mib_waiting": rss_waiting, "rss_mib_after": daemon.rss(),
              "seed_starts_per_s": round(seed_rate) if seed_rate else None})
    finally:
        seeder.kill()
        daemon.stop()
        remove_home(home)


def drop_caches():
    """Drops the page cache (root only, and only where /proc/sys is writable)."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as file:
            file.write("3\n")
        return True
    except OSError as error:
        log(f"cannot drop the page cache ({error}); start-up is measured warm only")
        return False


def run_startup(n):
    home, config_full, config_off = w1_home(f"startup-{n}")
    try:
        seeder = Daemon(home, config_off, name="seed")
        seeder.start()
        _, seed_rate = seed(seeder, far_dues(n), window=4096)
        seeder.stop()
        record = {"run": "w1.startup", "running_instances": n, "state_bytes": Daemon(home, config_full).state_bytes(),
                  "seed_starts_per_s": round(seed_rate) if seed_rate else None}
        for temperature in ("warm", "cold"):
            if temperature == "cold" and not drop_caches():
                record["cold"] = None
                continue
            daemon = Daemon(home, config_full, name=f"start-{temperature}")
            seconds = daemon.start()
            rss_first = daemon.rss()
            time.sleep(1.0)
            record[temperature] = {"first_status_s": round(seconds, 3), "rss_mib_at_first_status": rss_first,
                                   "rss_mib_after_1s": daemon.rss(), "cpu_s": round(daemon.cpu(), 3)}
            daemon.stop()
        emit(record)
    finally:
        cleanup()
        remove_home(home)


# ── W2: the county year ─────────────────────────────────────────────────────────────────────

def shipped_roles():
    """The `roles:` of etc/staff.yaml (key: title lines), read without a YAML library."""
    roles, inside = {}, False
    with open(os.path.join(ROOT, "etc", "staff.yaml"), encoding="utf-8") as chart:
        for line in chart:
            if line.startswith("roles:"):
                inside = True
            elif inside and line.startswith("  ") and ":" in line:
                key, title = line.strip().split(":", 1)
                roles[key.strip()] = title.strip()
            elif inside and line.strip() and not line.startswith(" "):
                break
    return roles


def w2_org_chart(townships, villages):
    # The shipped chart's roles, so a role a shipped workflow starts to use is held here too.
    roles = shipped_roles()
    lines = ["roles:"] + [f"  {key}: {value}" for key, value in roles.items()]
    lines += ["units:", "  - { id: county-city, name: 基准县级市, kind: city }"]
    staff = ["staff:"]

    def person(user, name, unit, held):
        staff.append(f"  - {{ user: {user}, name: {name}, roles: {{ {unit}: [{', '.join(held)}] }} }}")

    for role in ("civil-affairs", "civil-affairs", "discipline", "organization", "rural-economy", "petitions"):
        person(f"city-{role}-{len(staff)}", f"市{roles[role][:2]}{len(staff)}", "county-city", [role])
    village_ids = []
    for t in range(townships):
        township = f"t{t:02d}"
        lines.append(f"  - {{ id: {township}, name: 第{t + 1}镇, kind: township, parent: county-city }}")
        for role in ("civil-affairs", "civil-affairs", "discipline", "organization", "head",
                     "rural-economy", "petitions", "police", "justice"):
            person(f"{township}-{role}-{len(staff)}", f"镇{len(staff)}", township, [role])
    for v in range(villages):
        township = f"t{v % townships:02d}"
        village = f"v{v:03d}"
        kind = "village" if v % 2 == 0 else "community"
        lines.append(f"  - {{ id: {village}, name: 第{v + 1}{'村' if kind == 'village' else '社区'}, kind: {kind}, parent: {township} }}")
        village_ids.append(village)
        person(f"{village}-sec", f"书记{v}", village, ["secretary", "director"])           # 一肩挑
        person(f"{village}-cm", f"委员{v}", village, ["committee-member", "election-committee"])
        person(f"{village}-ec1", f"选委{v}甲", village, ["election-committee"])
        person(f"{village}-ec2", f"选委{v}乙", village, ["election-committee", "grid-worker"])
        person(f"{village}-sv1", f"监委{v}甲", village, ["supervision-committee"])
        person(f"{village}-sv2", f"监委{v}乙", village, ["supervision-committee"])
    townships_ids = [f"t{t:02d}" for t in range(townships)]
    return "\n".join(lines + staff) + "\n", village_ids, townships_ids


def w2_initial_starts(villages, townships, year):
    """The instances a county starts by hand in a year (the triggers start the others)."""
    base = dt.date(year, 1, 1)
    starts = []
    for k, village in enumerate(villages):
        # Villages and communities alternate (w2_org_chart); each kind has its own workflows.
        community = k % 2 == 1
        # An election year: every village and community elects, spread over April–June.
        election = base + dt.timedelta(days=95 + (k * 7) % 80)
        starts.append(("community-election-cycle" if community else "election-cycle",
                       {"unit": village, "election_day": election.isoformat()}))
        for m in range(2):
            meeting = base + dt.timedelta(days=45 + (k * 11 + m * 150) % 290)
            starts.append(("community-four-deliberations" if community else "four-deliberations-two-disclosures",
                           {"unit": village, "matter": f"议题{k}-{m}", "meeting_day": meeting.isoformat()}))
    for k, township in enumerate(townships):
        starts.append(("social-worker-station", {"unit": township, "start_day": (base + dt.timedelta(days=4)).isoformat()}))
    for k, unit in enumerate(townships + ["county-city"]):
        call = base + dt.timedelta(days=60 + (k * 9) % 200)
        starts.append(("social-org-incubation", {"unit": unit, "call_day": call.isoformat()}))
    return starts


def fate(reminder_id):
    """70 % acknowledged on time, 20 % late, 10 % never (deterministic per reminder)."""
    bucket = zlib.crc32(str(reminder_id).encode()) % 10
    return "on_time" if bucket < 7 else "late" if bucket < 9 else "never"


def parse_local(text, zone_offset):
    """A ledger `ack_by` ("2026-03-02 09:00" local) → epoch ms, or None."""
    if not text:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            moment = dt.datetime.strptime(text[:19] if "." in text else text, pattern)
            return int(moment.replace(tzinfo=zone_offset).timestamp() * 1000)
        except ValueError:
            continue
    return None


def run_w2():
    townships, villages_n, days = SETTINGS["w2_townships"], SETTINGS["w2_villages"], SETTINGS["w2_days"]
    home = tempfile.mkdtemp(prefix="huaying-bench-w2-")
    os.makedirs(os.path.join(home, "plugins"))
    shutil.copytree(os.path.join(ROOT, "workflows"), os.path.join(home, "workflows"))
    chart, villages, township_ids = w2_org_chart(townships, villages_n)
    with open(os.path.join(home, "staff.yaml"), "w") as file:
        file.write(chart)
    config = write_config(home, "full", time_zone="Asia/Shanghai")
    start = dt.datetime.fromisoformat(SETTINGS["w2_start"])
    zone = start.tzinfo
    daemon = Daemon(home, config, simulated=SETTINGS["w2_start"])
    try:
        lint_warnings = check_config(config)
        daemon.start()
        client = daemon.client()
        started, refusals = 0, {}
        for workflow, params in w2_initial_starts(villages, township_ids, (start + dt.timedelta(days=1)).year):
            response, _, _ = client.call("start", {"workflow": workflow, "params": params})
            if response.get("ok"):
                started += 1
            else:
                code = response.get("error", {}).get("code", "?")
                if code not in refusals:
                    log(f"w2: start {workflow} refused: {response.get('error')}")
                refusals[code] = refusals.get(code, 0) + 1
        log(f"w2: {started} instances started by hand, refused {refusals}")
        db = daemon.ledger()
        last_seq = 0
        pending = {}            # reminder id → (ack at ms or None, acting user, step)
        acks = {"on_time": 0, "late": 0, "never": 0, "refused": {}}
        month = None
        months = []
        totals = {"items": 0, "advance_s": 0.0}
        now_ms = int(start.timestamp() * 1000)
        phase_deadline = time.perf_counter() + SETTINGS["w2_budget"]
        days_done, stopped = 0, None

        def new_month(label):
            return {"run": "w2.month", "month": label, "items": 0, "advance_s": 0.0, "max_advance_s": 0.0,
                    "ledger_rows": 0, "acks": 0, "head_before": last_seq}

        def close(entry):
            entry["ledger_rows"] = last_seq - entry.pop("head_before")
            entry["cost_ms_per_item"] = round(entry["advance_s"] * 1000 / entry["items"], 3) if entry["items"] else None
            entry["advance_s"] = round(entry["advance_s"], 3)
            entry["max_advance_s"] = round(entry["max_advance_s"], 3)
            entry["rss_mib"] = daemon.rss()
            emit(entry)
            months.append(entry)

        for day in range(days):
            if time.perf_counter() > phase_deadline:
                # Out of time: the year-end figures are taken on the state reached so far.
                stopped = f"budget of {SETTINGS['w2_budget']} s spent after {day} days"
                log(f"w2: {stopped}")
                break
            days_done = day + 1
            # The month of the day this advance ends in.
            label = dt.datetime.fromtimestamp(now_ms / 1000 + 86400, zone).strftime("%Y-%m")
            if month is None or month["month"] != label:
                if month is not None:
                    close(month)
                month = new_month(label)
            began = time.perf_counter()
            result = client.ok("clock", {"advance": "1d"})
            took = time.perf_counter() - began
            now_ms += 86400 * 1000
            month["items"] += result["steps_run"]
            month["advance_s"] += took
            month["max_advance_s"] = max(month["max_advance_s"], took)
            totals["items"] += result["steps_run"]
            totals["advance_s"] += took
            # An acknowledgement can make the next step due at once (a new reminder at the
            # same instant): read and acknowledge until nothing new is due (bounded).
            for _ in range(20):
                for seq, instance, step, fields in db.execute(
                        "SELECT seq, instance, step, fields FROM ledger WHERE seq > ? AND event = 'reminder.sent' ORDER BY seq",
                        (last_seq,)).fetchall():
                    values = json.loads(fields)
                    reminder = int(values["reminder"])
                    kind = fate(reminder)
                    acks[kind] += 1
                    recipients = [user for user in values.get("to", "").split(",") if user]
                    if kind == "never" or not recipients:
                        continue
                    if kind == "on_time":
                        at = 0  # this pass, the simulated day it was sent
                    else:
                        ack_by = parse_local(values.get("ack_by"), zone)
                        at = (ack_by or now_ms + 6 * 86400 * 1000) + 86400 * 1000
                    pending[reminder] = (at, recipients[0], step)
                last_seq = db.execute("SELECT coalesce(max(seq), 0) FROM ledger").fetchone()[0]
                due_now = sorted(reminder for reminder, entry in pending.items() if entry[0] <= now_ms)
                if not due_now:
                    break
                for reminder in due_now:
                    _, user, step = pending.pop(reminder)
                    arguments = {"id": reminder, "note": "已办理"}
                    if step == "announce-results":
                        arguments["fields"] = {"heads": "张三,李四"}
                    response, _, _ = client.call("ack", arguments, act_as=user)
                    if response.get("ok"):
                        month["acks"] += 1
                    else:
                        code = response.get("error", {}).get("code", "?")
                        acks["refused"][code] = acks["refused"].get(code, 0) + 1
        if month is not None:
            close(month)

        # Year end.
        summary = {"run": "w2.year", "days": days, "days_done": days_done, "stopped": stopped, "villages": villages_n, "townships": townships,
                   "timed_items": totals["items"],
                   "cost_ms_per_item": round(totals["advance_s"] * 1000 / totals["items"], 3) if totals["items"] else None,
                   "reminders_sent": acks["on_time"] + acks["late"] + acks["never"],
                   "fates": {key: acks[key] for key in ("on_time", "late", "never")},
                   "ack_refusals": acks["refused"], "start_refusals": refusals,
                   "lint_warnings": lint_warnings}
        counts = dict(db.execute("SELECT event, count(*) FROM ledger GROUP BY event").fetchall())
        rows = sum(counts.values())
        summary["ledger_rows"] = rows
        summary["events"] = counts
        summary["reminder_repeated_share"] = round(counts.get("reminder.repeated", 0) / rows, 3) if rows else None
        summary["instances"] = db.execute("SELECT count(*) FROM instance").fetchone()[0]
        summary["duplicated_step_rows"] = db.execute(
            "SELECT count(*) FROM (SELECT instance, step FROM ledger WHERE event IN ('step.recorded', 'reminder.sent') "
            "GROUP BY instance, step, event HAVING count(*) > 1)").fetchone()[0]
        db.close()
        summary["state_bytes"] = daemon.state_bytes()
        summary["state_mib_per_county_year"] = round(daemon.state_bytes() / 1048576 * 365 / max(1, days_done), 1)
        summary["rss_mib_before_audit"] = daemon.rss()
        summary["status"] = latency_stats(client, "status")
        summary["instances_admin"] = latency_stats(client, "instances", repeat=3)
        began = time.perf_counter()
        response, size, _ = client.call("audit", {"verify": True})
        summary["audit_verify"] = {"seconds": round(time.perf_counter() - began, 3), "reply_bytes": size,
                                   "verification": (response.get("result") or {}).get("verification"),
                                   "refused": response.get("error")}
        del response
        summary["rss_mib_after_audit"] = daemon.rss()
        summary["rss_peak_mib"] = proc_rss_mib(daemon.pid, "VmHWM")
        began = time.perf_counter()
        result = client.ok("clock", {"advance": "1d"})
        summary["one_advance_1d"] = {"seconds": round(time.perf_counter() - began, 3), "items": result["steps_run"]}
        if months:
            first, last = months[0], months[-1]
            summary["cost_first_month_ms"] = first["cost_ms_per_item"]
            summary["cost_last_month_ms"] = last["cost_ms_per_item"]
        client.close()
        emit(summary)
    finally:
        daemon.stop(timeout=120)
        remove_home(home)


# ── The machine and the closing note ────────────────────────────────────────────────────────

def machine_record():
    def command_output(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None

    cpu_model = None
    try:
        with open("/proc/cpuinfo") as file:
            cpu_model = next((line.split(":", 1)[1].strip() for line in file if line.startswith("model name")), None)
    except OSError:
        pass
    mem_total = None
    try:
        with open("/proc/meminfo") as file:
            mem_total = int(next(line for line in file if line.startswith("MemTotal")).split()[1]) // 1024
    except (OSError, StopIteration):
        pass
    swift = command_output(["swift", "--version"])
    daemon = SETTINGS["daemon"]
    return {"run": "machine", "cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
            "cpu_model": cpu_model, "mem_total_mib": mem_total, "kernel": platform.release(),
            "python": platform.python_version(), "quick": QUICK,
            "build": {"daemon": daemon, "configuration": "release" if "/release/" in daemon else "debug" if "/debug/" in daemon else "unknown",
                      "daemon_mtime": dt.datetime.fromtimestamp(os.path.getmtime(daemon), dt.timezone.utc).isoformat() if os.path.exists(daemon) else None,
                      "git_commit": command_output(["git", "rev-parse", "--short", "HEAD"]),
                      "git_dirty": bool(command_output(["git", "status", "--porcelain", "--untracked-files=no"])),
                      "swift": swift.splitlines()[0] if swift else None},
            "settings": {key: value for key, value in SETTINGS.items() if key != "daemon"}}


GOALS = [  # (run, key path, comparison, goal, description) from issue 14
    ("w1.catchup", ("steps_per_s",), ">=", 100000, "catch-up at N = 100,000", 100000),
    ("w1.start", ("starts_per_s",), ">=", 20000, "start, 256 pipelined", None),
    ("w1.live", ("lateness_ms", "p99"), "<=", 5, "live p99 lateness at N = 10,000", 10000),
    ("w1.live", ("lateness_ms", "p99"), "<=", 50, "live p99 lateness at N = 100,000", 100000),
    ("w1.crash", ("lost",), "<=", 0, "kill-at-50 %: lost", None),
    ("w1.crash", ("duplicated",), "<=", 0, "kill-at-50 %: duplicated", None),
    ("w1.startup", ("cold", "first_status_s"), "<=", 1.0, "start-up with 1,000,000, cold cache", 1000000),
    ("w1.startup", ("warm", "rss_mib_after_1s"), "<=", 150, "RSS with 1,000,000", 1000000),
    ("w1.catchup", ("rss_mib_after",), "<=", 64, "RSS at N = 100,000", 100000),
    ("w1.catchup", ("instances_staff", "median_ms"), "<=", 50, "instances as staff, 100,000 instances", 100000),
    ("w2.year", ("cost_ms_per_item",), "<=", 0.05, "W2 cost per timed item", None),
    ("w2.year", ("audit_verify", "seconds"), "<=", 5, "W2 audit --verify", None),
    ("w2.year", ("rss_mib_after_audit",), "<=", 64, "W2 RSS after audit", None),
    ("w2.year", ("instances_admin", "median_ms"), "<=", 20, "W2 instances as admin (a page)", None),
]


def closing_note(records):
    checks = []
    for run, path, comparison, goal, description, n in GOALS:
        for record in records:
            if record.get("run") != run:
                continue
            if n is not None and record.get("n", record.get("running_instances")) != n:
                continue
            value = record
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            met = None if value is None else (value >= goal if comparison == ">=" else value <= goal)
            checks.append({"target": description, "goal": f"{comparison} {goal}", "measured": value, "met": met})
    return {"run": "summary", "checks": checks,
            "missed": [check["target"] for check in checks if check["met"] is False],
            "load_average_end": [round(x, 2) for x in os.getloadavg()]}


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    atexit.register(cleanup)
    if not os.access(SETTINGS["daemon"], os.X_OK):
        log(f"no daemon at {SETTINGS['daemon']}: build it with `swift build -c release` (or set BENCH_DAEMON)")
        return 2
    records = []
    original_emit = globals()["emit"]

    def collect(record):
        records.append(record)
        original_emit(record)

    globals()["emit"] = collect
    emit(machine_record())
    runs = SETTINGS["runs"]
    plan = []
    if "probe" in runs or "live" in runs:
        plan.append(("probe", run_probe))
    if "start" in runs:
        plan.append(("start", run_start_throughput))
    if "catchup" in runs:
        plan += [(f"catchup {n}", lambda n=n: run_catchup(n)) for n in SETTINGS["catchup_n"]]
    if "crash" in runs:
        plan.append((f"crash {SETTINGS['crash_n']}", lambda: run_crash(SETTINGS["crash_n"])))
    if "live" in runs:
        plan += [(f"live {n}", lambda n=n: run_live(n)) for n in SETTINGS["live_n"]]
    if "startup" in runs:
        plan.append((f"startup {SETTINGS['startup_n']}", lambda: run_startup(SETTINGS["startup_n"])))
    if "w2" in runs:
        plan.append(("w2", run_w2))
    failures = 0
    for name, run in plan:
        log(f"{name} ...")
        began = time.perf_counter()
        try:
            run()
        except Exception as error:
            failures += 1
            emit({"run": name.split()[0], "error": f"{type(error).__name__}: {error}"})
        finally:
            cleanup()
        log(f"{name}: {time.perf_counter() - began:.1f} s")
    emit(closing_note(records))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
