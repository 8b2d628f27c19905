#!/usr/bin/env python3
"""Check Huaying's working-day calendar against independent sources.

1. Every day of each year the shipped calendar lists from a State Council notice (2025, 2026)
   must agree with PyPI `chinesecalendar` (module `chinese_calendar`): holiday, make-up workday,
   weekend or workday. The answers come from the real CLI (`huaying calendar list YEAR --all --json`).
2. The lunar table of Sources/WorkflowModel/Calendar/StatutoryHolidays.swift (春节, 端午, 中秋,
   2025-2099) must agree with two implementations of the Chinese calendar, PyPI `lunar-python`
   and `lunardate`; and the CLI's provisional days off of every uncovered year must be exactly
   the statutory ones (元旦, 除夕-初三, 清明, 05-01/02, 端午, 中秋, 10-01..03).

    pip install chinesecalendar lunar-python lunardate
    swift build && python3 scripts/check-calendar.py --huaying .build/debug/huaying

--print-lunar-table prints the table's entries (to regenerate the Swift source).
Exits 0 when everything agrees, 1 with one line per disagreement otherwise.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.path.join(ROOT, "Sources/WorkflowModel/Calendar/StatutoryHolidays.swift")
FIRST, LAST = 2025, 2099


def lunar_dates(year):
    """(春节, 端午, 中秋) of `year` from both libraries; raises if they disagree."""
    from lunar_python import Lunar
    import lunardate

    result = []
    for month, day in [(1, 1), (5, 5), (8, 15)]:
        solar = Lunar.fromYmd(year, month, day).getSolar()
        a = datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())
        b = lunardate.LunarDate(year, month, day).to_solar_date()
        if a != b:
            raise SystemExit(f"lunar-python and lunardate disagree on {year} lunar {month}-{day}: {a} vs {b}")
        result.append(a)
    return result


def qingming(year):
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())


def statutory_days_off(year):
    spring, dragon, autumn = lunar_dates(year)
    days = {datetime.date(year, 1, 1), qingming(year), datetime.date(year, 5, 1), datetime.date(year, 5, 2), dragon, autumn}
    days |= {spring + datetime.timedelta(days=d) for d in (-1, 0, 1, 2)}
    days |= {datetime.date(year, 10, d) for d in (1, 2, 3)}
    return days


def cli_days(huaying, year):
    out = subprocess.run([huaying, "calendar", "list", str(year), "--all", "--json"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--huaying", default=os.path.join(ROOT, ".build/debug/huaying"))
    parser.add_argument("--print-lunar-table", action="store_true")
    args = parser.parse_args()

    if args.print_lunar_table:
        for year in range(FIRST, LAST + 1):
            print(" ".join(d.strftime("%m-%d") for d in lunar_dates(year)))
        return 0

    import chinese_calendar

    problems = []
    checked = 0

    # 1. Notice years against chinesecalendar.
    for year in (2025, 2026):
        data = cli_days(args.huaying, year)
        if not data["covered"]:
            problems.append(f"{year}: the shipped calendar does not cover it")
            continue
        for day in data["days"]:
            date = datetime.date.fromisoformat(day["date"])
            holiday, _ = chinese_calendar.get_holiday_detail(date)
            weekend = date.weekday() >= 5
            if day["kind"] == "holiday":
                ok = holiday
            elif day["kind"] == "make-up-workday":
                ok = weekend and not holiday
            elif day["kind"] == "weekend":
                ok = weekend and holiday
            else:
                ok = not weekend and not holiday
            checked += 1
            if not ok:
                problems.append(f"{date}: huaying says {day['kind']}, chinesecalendar says {'day off' if holiday else 'workday'}")

    # 2. The Swift lunar table against both lunar libraries.
    source = open(TABLE, encoding="utf-8").read()
    entries = re.findall(r'"(\d\d-\d\d) (\d\d-\d\d) (\d\d-\d\d)"', source)
    if len(entries) != LAST - FIRST + 1:
        problems.append(f"{TABLE}: {len(entries)} entries, expected {LAST - FIRST + 1}")
    for offset, entry in enumerate(entries):
        year = FIRST + offset
        expected = [d.strftime("%m-%d") for d in lunar_dates(year)]
        checked += 1
        if list(entry) != expected:
            problems.append(f"{year}: table has {' '.join(entry)}, the libraries give {' '.join(expected)}")

    # 3. The provisional days off of uncovered years, as the CLI computes them.
    for year in range(2027, LAST + 1):
        data = cli_days(args.huaying, year)
        if data["covered"]:
            continue
        off = {datetime.date.fromisoformat(d["date"]) for d in data["days"] if d["kind"] == "holiday"}
        checked += 1
        if off != statutory_days_off(year):
            problems.append(f"{year}: huaying's days off {sorted(map(str, off))} differ from the statute's {sorted(map(str, statutory_days_off(year)))}")

    for line in problems:
        print(line)
    print(f"{checked - len(problems)} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
