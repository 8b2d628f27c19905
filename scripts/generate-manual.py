#!/usr/bin/env python3
"""Man pages for huaying, generated from its commands (`huaying --experimental-dump-help`).

    scripts/generate-manual.py BINARY OUTPUT_DIR [LANGUAGE]

Writes OUTPUT_DIR/huaying.1 and one page per subcommand (huaying-start.1,
huaying-calendar-add.1, ...). LANGUAGE (en or zh, default en) is the locale the binary
speaks while describing itself; `make install` installs both (man1/ and zh_CN/man1/).
"""
import datetime
import json
import os
import subprocess
import sys


def roff(text):
    """Text safe for roff: backslashes doubled, a leading dot or quote escaped."""
    text = (text or "").replace("\\", "\\e")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def option_synopsis(argument):
    names = argument.get("names") or []
    preferred = argument.get("preferredName") or (names[0] if names else None)
    value = argument.get("valueName") or "value"
    if argument["kind"] == "positional":
        text = "<%s>" % value
    else:
        dash = "-" if preferred and preferred["kind"] == "short" else "--"
        text = dash + preferred["name"] if preferred else value
        if argument["kind"] == "option":
            text += " <%s>" % value
    if argument.get("isRepeating"):
        text += " ..."
    return "[%s]" % text if argument.get("isOptional") else text


def page(command, path, date, section="1"):
    name = "-".join(path)
    out = ['.TH "%s" "%s" "%s" "huaying" "Huaying"' % (name.upper(), section, date)]
    out += [".SH NAME", "%s \\- %s" % (name, roff(command.get("abstract", "")))]
    arguments = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)
                 and (a.get("preferredName") or {}).get("name") not in ("help", "version")]
    synopsis = " ".join(path) + " " + " ".join(option_synopsis(a) for a in arguments)
    subcommands = [s for s in command.get("subcommands", []) if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    if subcommands:
        synopsis += " <subcommand>"
    out += [".SH SYNOPSIS", ".nf", roff(synopsis.strip()), ".fi"]
    if command.get("discussion"):
        out += [".SH DESCRIPTION", roff(command["discussion"])]
    if arguments:
        out.append(".SH OPTIONS")
        for argument in arguments:
            out += [".TP", "\\fB%s\\fR" % roff(option_synopsis(argument).strip("[]")), roff(argument.get("abstract", ""))]
            if argument.get("allValues"):
                out.append("Values: " + roff(", ".join(argument["allValues"])))
    if subcommands:
        out.append(".SH SUBCOMMANDS")
        for sub in subcommands:
            out += [".TP", "\\fB%s\\fR" % roff(sub["commandName"]), roff(sub.get("abstract", ""))]
        out += [".SH SEE ALSO", ", ".join("\\fB%s\\fR(%s)" % ("-".join(path + [s["commandName"]]), section) for s in subcommands)]
    return name, "\n".join(out) + "\n"


def pages(command, path, date):
    yield page(command, path, date)
    for sub in command.get("subcommands", []):
        if sub.get("shouldDisplay", True) and sub["commandName"] != "help":
            yield from pages(sub, path + [sub["commandName"]], date)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    binary, output = sys.argv[1], sys.argv[2]
    language = sys.argv[3] if len(sys.argv) == 4 else "en"
    environment = dict(os.environ, LANG="zh_CN.UTF-8" if language == "zh" else "en_US.UTF-8")
    environment.pop("LC_ALL", None)
    environment.pop("LC_MESSAGES", None)
    dump = subprocess.run([binary, "--experimental-dump-help"], check=True, capture_output=True, env=environment)
    root = json.loads(dump.stdout)["command"]
    # The release date is the build's, so a rebuild of the same tree writes the same pages.
    date = datetime.date.fromtimestamp(os.stat(binary).st_mtime).isoformat()
    os.makedirs(output, exist_ok=True)
    count = 0
    for name, text in pages(root, [root["commandName"]], date):
        with open(os.path.join(output, name + ".1"), "w", encoding="utf-8") as file:
            file.write(text)
        count += 1
    print("%d man pages in %s" % (count, output))


if __name__ == "__main__":
    main()
