#!/usr/bin/env python3
"""Runs each libFuzzer harness for a bounded time and prints what it found (`make fuzz`).

Each harness starts from a seed corpus built from the shipped files and the test fixtures
(so the seeds never drift from what the project ships) plus the hand-written seeds in
Fuzz/seeds/. libFuzzer is started again after a crash, a timeout or an out-of-memory, for
the time that is left, so one known bug does not hide the next; every input that broke a
harness is saved under .build-fuzz/findings/HARNESS/ and listed. A hang (over FUZZ_TIMEOUT
seconds for one input) and a memory bomb (over FUZZ_RSS_MB) count as findings.

Environment: FUZZ_SECONDS (per harness, default 60), FUZZ_TIMEOUT (default 5),
FUZZ_RSS_MB (default 2048), FUZZ_ONLY (comma-separated harness names), FUZZ_BIN (the build
directory, default .build-fuzz/debug). Exit status 1 when any harness found something.
"""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/WorkflowModelTests/Fixtures"
WORK = ROOT / ".build-fuzz"
SEEDS = ROOT / "Fuzz/seeds"


def files(*patterns):
    found = []
    for pattern in patterns:
        found += sorted(ROOT.glob(pattern))
    return found


def time_expression_seeds():
    """The `at:`/`deadline:`/`within:` values of the shipped workflows, one seed each."""
    values = set()
    pattern = re.compile(r"^\s*-?\s*(at|deadline|within|every|until|default):\s*(.+?)\s*$")
    for path in files("workflows/*.yaml", "Tests/WorkflowModelTests/Fixtures/**/*.yaml"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = pattern.match(line)
            if match and not match.group(2).startswith(("{", "[", "|", ">")):
                values.add(match.group(2).strip("'\""))
    return sorted(values)


def control_request_seeds():
    """Every request line the protocol's documentation shows, one seed each."""
    lines = set()
    for path in files("docs/*.md"):
        for match in re.finditer(r'\{"version": *\d+, *"command"[^`\n]*\}', path.read_text(encoding="utf-8")):
            lines.add(match.group(0))
    return sorted(lines)


# name, binary, max_len, seed files
HARNESSES = [
    ("workflow-loader", "FuzzWorkflowLoader", 65536,
     files("workflows/*.yaml", "Tests/WorkflowModelTests/Fixtures/valid.yaml", "Tests/WorkflowModelTests/Fixtures/broken/*.yaml")),
    ("time-expression", "FuzzTimeExpression", 256, []),
    ("staff-loader", "FuzzStaffLoader", 16384,
     files("etc/staff.yaml", "Tests/WorkflowModelTests/Fixtures/staff.yaml", "Tests/WorkflowModelTests/Fixtures/broken-staff/*.yaml")),
    ("calendar-loader", "FuzzCalendarLoader", 16384,
     files("etc/calendars/*.yaml", "Tests/WorkflowModelTests/Fixtures/broken-calendars/*.yaml")),
    ("config-loader", "FuzzConfigLoader", 8192,
     files("etc/huaying.yaml", "etc/huaying.installed.yaml")),
    ("control-decoder", "FuzzControlDecoder", 4096, []),
    ("line-framer", "FuzzLineFramer", 1024, []),
]


def build_corpus(name, seeds):
    corpus = WORK / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(seeds):
        shutil.copyfile(path, corpus / f"seed-{path.parent.name}-{path.name}")
    if name == "time-expression":
        for index, text in enumerate(time_expression_seeds()):
            (corpus / f"seed-shipped-{index:03d}").write_text(text, encoding="utf-8")
    if name == "control-decoder":
        for index, text in enumerate(control_request_seeds()):
            (corpus / f"seed-docs-{index:03d}").write_text(text + "\n", encoding="utf-8")
    for path in sorted((SEEDS / name).glob("*")) if (SEEDS / name).is_dir() else []:
        shutil.copyfile(path, corpus / f"seed-hand-{path.name}")
    return corpus


def run(name, binary, max_len, seeds, seconds, timeout, rss):
    """Runs one harness for `seconds` in all. libFuzzer stops at the first crash, timeout or
    out-of-memory; it is then started again on the grown corpus for the time that is left,
    so one finding does not end the search (at most 25 restarts)."""
    corpus = build_corpus(name, seeds)
    findings = WORK / "findings" / name
    findings.mkdir(parents=True, exist_ok=True)
    before = set(findings.iterdir())
    log_path = WORK / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    dictionary = SEEDS / f"{name}.dict"
    if not dictionary.exists() and name.endswith("-loader"):
        dictionary = SEEDS / "yaml.dict"
    print(f"== {name}: {seconds} s, -timeout={timeout} -rss_limit_mb={rss} -max_len={max_len}", flush=True)
    began = time.monotonic()
    executions = 0
    rounds = 0
    reasons = []
    with open(log_path, "w") as log:
        while rounds < 25:
            left = int(seconds - (time.monotonic() - began))
            if left <= 0:
                break
            rounds += 1
            command = [
                str(Path(os.environ.get("FUZZ_BIN", WORK / "debug")) / binary), str(corpus),
                f"-max_total_time={left}", f"-timeout={timeout}", f"-rss_limit_mb={rss}",
                f"-max_len={max_len}", f"-artifact_prefix={findings}/", "-print_final_stats=1",
                # Leaks are not what these harnesses look for, and LeakSanitizer's stop-the-world
                # runs here stalled for minutes with it on; crashes, hangs and memory bombs are.
                "-detect_leaks=0",
            ]
            if dictionary.exists():
                command.append(f"-dict={dictionary}")
            start = log.tell()
            log.write(f"\n### round {rounds}: {' '.join(command)}\n")
            log.flush()
            try:
                # libFuzzer stops by itself after max_total_time; this bound covers a stuck child.
                completed = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                           timeout=left + 4 * timeout + 120)
                code = completed.returncode
            except subprocess.TimeoutExpired:
                log.write("\nrun-fuzzers: libFuzzer did not stop in time; killed\n")
                code = -1
            log.flush()
            text = log_path.read_text(errors="replace")[start:]
            runs = re.findall(r"stat::number_of_executed_units: (\d+)", text)
            executions += int(runs[-1]) if runs else 0
            if code == 0:
                break
            reasons.append(reason(text))
    elapsed = time.monotonic() - began
    new = sorted(set(findings.iterdir()) - before)
    print(f"   {elapsed:.0f} s, {executions} executions ({executions / max(elapsed, 1):.0f}/s), "
          f"{len(list(corpus.iterdir()))} corpus inputs, {rounds} round(s), {len(new)} finding(s)", flush=True)
    for path in new:
        print(f"   finding: {path.relative_to(ROOT)} ({path.stat().st_size} bytes)", flush=True)
    for text, count in sorted({r: reasons.count(r) for r in reasons}.items()):
        print(f"   reason ({count}x): {text}", flush=True)
    return len(new) or len(reasons)


def reason(text):
    """The line that says why a round stopped, and the first frame of our code under it."""
    why = "stopped without a finding (see the log)"
    for pattern in (r"ERROR: AddressSanitizer: [^\n]+", r"Fatal error: [^\n]+", r"ERROR: libFuzzer: [^\n]+",
                    r"==\d+== ERROR: libFuzzer: [^\n]+", r"ALARM: working on the last Unit for \d+ seconds"):
        match = re.search(pattern, text)
        if match:
            why = match.group(0)[:160]
            break
    frame = re.search(r"#\d+ 0x[0-9a-f]+ in (\S*(?:WorkflowModel|ControlProtocol|Yams)\S*)", text)
    return why + (f" in {frame.group(1)[:120]}" if frame else "")


def main():
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    timeout = int(os.environ.get("FUZZ_TIMEOUT", "5"))
    rss = int(os.environ.get("FUZZ_RSS_MB", "2048"))
    only = {name for name in os.environ.get("FUZZ_ONLY", "").split(",") if name}
    total = 0
    failed = []
    for name, binary, max_len, seeds in HARNESSES:
        if only and name not in only:
            continue
        count = run(name, binary, max_len, seeds, seconds, timeout, rss)
        total += count
        if count:
            failed.append(name)
    ran = len([h for h in HARNESSES if not only or h[0] in only])
    print(f"fuzz: {ran - len(failed)} passed, {len(failed)} failed" + (f" ({', '.join(failed)}); {total} findings under .build-fuzz/findings" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
