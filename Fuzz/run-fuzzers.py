#!/usr/bin/env python3
"""Runs each libFuzzer harness for a bounded time and prints what it found (`make fuzz`).

Each harness starts from a seed corpus built from the shipped files and the test fixtures
(so the seeds never drift from what the project ships) plus the hand-written seeds in
Fuzz/seeds/. libFuzzer runs in fork mode and keeps going after a crash, a timeout or an
out-of-memory, so one known bug does not hide the next; every input that broke a harness is
saved under .build-fuzz/findings/HARNESS/ and listed at the end. A hang (over FUZZ_TIMEOUT
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
    for path in sorted((SEEDS / name).glob("*")) if (SEEDS / name).is_dir() else []:
        shutil.copyfile(path, corpus / f"seed-hand-{path.name}")
    return corpus


def run(name, binary, max_len, seeds, seconds, timeout, rss):
    corpus = build_corpus(name, seeds)
    findings = WORK / "findings" / name
    findings.mkdir(parents=True, exist_ok=True)
    before = set(findings.iterdir())
    log_path = WORK / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(os.environ.get("FUZZ_BIN", WORK / "debug")) / binary), str(corpus),
        f"-max_total_time={seconds}", f"-timeout={timeout}", f"-rss_limit_mb={rss}",
        f"-max_len={max_len}", f"-artifact_prefix={findings}/",
        "-fork=1", "-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1",
        "-print_final_stats=1",
    ]
    dictionary = SEEDS / f"{name}.dict"
    if not dictionary.exists() and name.endswith("-loader"):
        dictionary = SEEDS / "yaml.dict"
    if dictionary.exists():
        command.append(f"-dict={dictionary}")
    print(f"== {name}: {seconds} s, -timeout={timeout} -rss_limit_mb={rss} -max_len={max_len}", flush=True)
    with open(log_path, "w") as log:
        # libFuzzer stops by itself after max_total_time; the outer bound covers a stuck child.
        try:
            subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 4 * timeout + 120)
        except subprocess.TimeoutExpired:
            log.write("\nrun-fuzzers: libFuzzer did not stop in time; killed\n")
    text = log_path.read_text(errors="replace")
    stats = re.findall(r"^#(\d+): cov: (\d+) ft: (\d+) corp: (\d+) exec/s: (\d+) oom/timeout/crash: (\d+)/(\d+)/(\d+) time: (\d+)s", text, re.M)
    new = sorted(set(findings.iterdir()) - before)
    if stats:
        runs, cov, ft, corp, rate, ooms, timeouts, crashes, elapsed = stats[-1]
        print(f"   {elapsed} s, {runs} executions ({rate}/s), coverage {cov}, features {ft}, corpus {corp}; "
              f"crashes {crashes}, timeouts {timeouts}, out-of-memory {ooms}", flush=True)
    else:
        print(f"   no statistics: see {log_path}", flush=True)
        new = new or [log_path]
    for path in new:
        reason = describe(path, text)
        print(f"   finding: {path.relative_to(ROOT)} ({path.stat().st_size} bytes){reason}", flush=True)
    return len(new)


def describe(path, text):
    """The first line that says why, taken from the log around the saved input."""
    kind = path.name.split("-")[0]
    for pattern in (r"ERROR: AddressSanitizer: [^\n]+", r"Fatal error: [^\n]+", r"ERROR: libFuzzer: [^\n]+",
                    r"==\d+== ERROR: libFuzzer: [^\n]+"):
        match = re.search(pattern, text)
        if match:
            return f": {kind}; first reported: {match.group(0)[:200]}"
    return f": {kind}"


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
