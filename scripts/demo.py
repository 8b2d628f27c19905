#!/usr/bin/env python3
"""make demo: an election for 古桥社区 and its year-end review, on the simulated clock.

Starts huayingd on a simulated clock in a temporary folder, runs the election cycle to its end
(acknowledging reminders as the people they went to, one of them late so it escalates), lets
the year-end review start by itself on 12-01, and prints the story from the ledger: what fell
due when, who was reminded, what escalated, who acknowledged. Ends with the ledger check, and
with the escalation's 企业微信 message as the daemon's outbox delivered it, through the shipped
`wecom` notifier (notifiers/wecom), to a WeCom stand-in on 127.0.0.1: 古桥街道's `notify:` in
the org chart names the robot, whose key and URL are in the demo's secrets file.
"""
import http.server, json, os, shutil, signal, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "debug")
UNIT = "guqiao-shequ"
LATE_STEP = "publish-voter-list"   # acknowledged late, by the street, after it escalates


def main():
    site = tempfile.mkdtemp(prefix="huaying-demo-")
    os.chmod(site, 0o755)
    os.makedirs(f"{site}/etc")
    robot = WeComStandIn()
    with open(f"{ROOT}/etc/staff.yaml", encoding="utf-8") as f:
        staff = f.read()
    street = "{ id: guqiao,           name: 古桥街道,     kind: street,    parent: huaying }"
    if street not in staff:
        sys.exit("etc/staff.yaml no longer has the line for 古桥街道 that the demo gives a chat robot")
    with open(f"{site}/etc/staff.yaml", "w", encoding="utf-8") as f:
        f.write(staff.replace(street, "{ id: guqiao, name: 古桥街道, kind: street, parent: huaying, notify: [guqiao-wecom] }"))
    shutil.copytree(f"{ROOT}/etc/calendars", f"{site}/etc/calendars")
    shutil.copytree(f"{ROOT}/workflows", f"{site}/workflows")
    # The plugins folder as make install lays it out: the notifier with its shared module.
    os.makedirs(f"{site}/plugins/wecom")
    for source, mode in [("notifiers/wecom/plugin.yaml", 0o644), ("notifiers/wecom/wecom", 0o755), ("notifiers/huaying_notifier.py", 0o644)]:
        target = f"{site}/plugins/wecom/{os.path.basename(source)}"
        shutil.copy(f"{ROOT}/{source}", target)
        os.chmod(target, mode)
    with open(f"{site}/etc/secrets.yaml", "w") as f:
        f.write(f"robots:\n  guqiao-wecom:\n    plugin: wecom\n    env:\n      HUAYING_WECOM_KEY: demo-key\n"
                f"      HUAYING_WECOM_URL: http://127.0.0.1:{robot.port}\n")
    os.chmod(f"{site}/etc/secrets.yaml", 0o600)
    with open(f"{site}/etc/huaying.yaml", "w") as f:
        f.write("paths:\n  state_dir: ../state\n  socket: ../run/huaying.sock\n  workflows: ../workflows\n"
                "  plugins: ../plugins\n  secrets: secrets.yaml\n"
                "  staff: staff.yaml\n  calendars: calendars\ntime_zone: Asia/Shanghai\nlog_level: warning\n"
                "election:\n  province: 四川省\n  candidate_list_lead_days: 5\n"
                "notifications:\n  digest_window: 0\n"
                "sqlite:\n  synchronous: normal\n")
    socket = f"{site}/run/huaying.sock"
    log = open(f"{site}/huayingd.log", "w")
    daemon = subprocess.Popen([f"{BIN}/huayingd", "--config", f"{site}/etc/huaying.yaml",
                               "--simulated-clock", "2026-11-01T09:00+08:00"], stderr=log, stdout=log)
    try:
        for _ in range(300):
            if os.path.exists(socket) and cli(socket, "status", check=False) is not None:
                break
            time.sleep(0.02)
        escalation = run(socket)
        if escalation:
            show_wecom(robot, *escalation)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        log.close()
        robot.close()
        shutil.rmtree(site, ignore_errors=True)
    if code != 0:
        sys.exit(f"huayingd exited with {code}")


def cli(socket, *args, user=None, check=True):
    command = [f"{BIN}/huaying", "--socket", socket] + (["--as", user] if user else []) + list(args) + ["--json"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        if check:
            sys.exit(f"{' '.join(args)}: {result.stderr.strip()}")
        return None
    return json.loads(result.stdout) if result.stdout.strip() else {}


def day(instant):
    return instant.replace("T", " ")[:16]


def run(socket):
    print("华蓥模式 · 演示：古桥社区换届选举与年底述职评议（模拟时钟，从 2026-11-01 09:00 起）\n")
    election = cli(socket, "start", "community-election-cycle", "--param", f"unit={UNIT}",
                   "--param", "election_day=2026-12-20")["id"]
    print(f"▶ 启动换届选举流程 #{election}：古桥社区，选举日 2026-12-20\n")
    acked = set()
    review = None
    for _ in range(75):
        now = cli(socket, "clock", "advance", "1d")["now"]
        if review is None:
            review = next((i["id"] for i in cli(socket, "instances", "--workflow", "community-year-end-review")
                           if i["unit"] == UNIT), None)
        tracked = [election] + ([review] if review else []) + [
            i["id"] for i in cli(socket, "instances", "--workflow", "pre-appointment-talk")]
        # Acknowledge each open reminder the day it arrives, as its first recipient; except the
        # voter list, which the community leaves until it escalates and the street (wanghong) acts.
        for instance in tracked:
            for reminder in cli(socket, "show", str(instance))["reminders"]:
                if reminder["id"] in acked or reminder["state"] != "open":
                    continue
                user = reminder["assignees"][0]
                if reminder["step"] == LATE_STEP:
                    if reminder["level"] == 0:
                        continue
                    user = "wanghong"
                fields = ["--set", "elected_members=赵敏,孙丽"] if reminder["step"] == "announce-results" else []
                cli(socket, "ack", str(reminder["id"]), "--note", "已办理", *fields, user=user)
                acked.add(reminder["id"])
        if all(cli(socket, "show", str(i))["state"] == "completed" for i in tracked) and review:
            break
    print(f"■ 模拟时钟停在 {day(now)}\n")

    print(f"（12-01 述职评议已为全部 {len(cli(socket, 'instances', '--workflow', 'year-end-review')) + len(cli(socket, 'instances', '--workflow', 'community-year-end-review'))} 个村、社区自动启动；下面只讲古桥社区）\n")
    for instance in sorted(tracked):
        detail = cli(socket, "show", str(instance))
        print(f"── #{instance} {detail['title']}（{detail['state']}）")
        for row in cli(socket, "audit", "--instance", str(instance))["rows"]:
            print(f"  {day(row['at'])}  {describe(row)}")
        print()
    verdict = cli(socket, "audit", "--verify")["verification"]
    print(("✔ 台账校验通过：" if verdict["ok"] else "✘ 台账校验失败：") + f"{verdict['rows_checked']} 行哈希链完整"
          + ("" if verdict["ok"] else f"，第 {verdict['first_bad_seq']} 行：{verdict['reason']}"))
    if not verdict["ok"]:
        sys.exit(1)
    late = next((r for r in cli(socket, "show", str(election))["reminders"] if r["step"] == LATE_STEP and r["level"] >= 1), None)
    return (cli(socket, "show", str(election)), late) if late else None


class WeComStandIn:
    """A 企业微信 group robot stand-in on 127.0.0.1: keeps every message posted to it."""

    def __init__(self):
        received = self.received = []

        class Robot(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                body = b'{"errcode":0,"errmsg":"ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Robot)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def show_wecom(robot, detail, reminder):
    """The voter list's escalation as the daemon's outbox posted it to 古桥街道's work group."""
    wanted = f"huaying ack {reminder['id']}"
    deadline = time.time() + 30
    message = None
    while message is None and time.time() < deadline:
        message = next((m for m in list(robot.received)
                        if wanted in m.get("text", {}).get("content", "") and "【督办" in m["text"]["content"]), None)
        time.sleep(0.1)
    print(f"\n── 企业微信通知：守护进程的发件箱经 notifiers/wecom 发往古桥街道工作群（本地测试端点 127.0.0.1:{robot.port}）；"
          f"全程共 {len(robot.received)} 条")
    if message is None:
        sys.exit(f"no escalation of reminder {reminder['id']} reached the WeCom stand-in ({len(robot.received)} messages arrived)")
    text = message["text"]
    for line in text["content"].splitlines():
        print(f"  │ {line}")
    mentions = text.get("mentioned_list", []) + text.get("mentioned_mobile_list", [])
    print(f"  └ @{'、@'.join(mentions)}")


def describe(row):
    f, event, step = row["fields"], row["event"], row["step"] or ""
    if event == "reminder.sent":
        return f"提醒 {step} → {f.get('to', '')}（确认期限 {f.get('ack_by', '-')}）"
    if event == "reminder.repeated":
        return f"再次提醒 {step} → {f.get('to', '')}"
    if event == "reminder.escalated":
        return f"⚠ 升级 {step} 第{f.get('level')}级 → {f.get('to', '')}"
    if event == "reminder.acknowledged":
        return f"✓ {row['actor']} 确认 {step}" + (f"：{f['note']}" if f.get("note") else "")
    if event == "step.recorded":
        return f"记录 {step}：{row['text']}"
    return f"{event} {step} {row['text']}".strip()


if __name__ == "__main__":
    main()
