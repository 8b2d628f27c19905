"""What Huaying's reference notifiers (wecom, dingtalk) share: reading the one request, the
message a person can act on, the per-robot token bucket, the POST, and the one result.

Python 3 standard library only. The same file sits in notifiers/wecom and notifiers/dingtalk
(a plugin folder holds everything it runs); a test checks the two copies are identical.
The protocol is docs/plugins.md; the notifier request fields are its "Notifiers" section.
"""

import datetime
import fcntl
import hashlib
import json
import math
import os
import socket
import sys
import time
import urllib.error
import urllib.request

PROTOCOL = 1
# A request larger than this is refused (one reminder is a few KiB; a digest of 500 is < 1 MiB).
MAX_REQUEST_BYTES = 4 * 1024 * 1024
# Both services: at most 20 messages per robot per minute.
BUCKET_CAPACITY = 20
BUCKET_WINDOW_SECONDS = 60.0
# One HTTP attempt; the manifest's timeout (30 s) bounds the whole run.
HTTP_TIMEOUT_SECONDS = 15
# A network error or HTTP 5xx: try again after this long (same idempotency key).
TRANSIENT_RETRY_SECONDS = 30
WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


class Outcome(Exception):
    """Ends the run with one result object."""

    def __init__(self, result):
        super().__init__(result.get("reason", result.get("status")))
        self.result = result


def completed(output):
    return Outcome({"status": "completed", "output": output})


def retry(after_seconds, reason):
    return Outcome({"status": "retry", "after_seconds": max(1, int(math.ceil(after_seconds))), "reason": reason})


def failed(reason):
    return Outcome({"status": "failed", "reason": reason})


def run(send):
    """Reads the request from stdin, calls `send(request)` (which raises an Outcome), and
    prints exactly one result. Any other exception is a failure with its text, never a trace
    on stdout."""
    try:
        request = read_request(sys.stdin.buffer)
        send(request)
        result = {"status": "failed", "reason": "the notifier ended without a result (a bug in the plugin)"}
    except Outcome as outcome:
        result = outcome.result
    except Exception as error:  # a bug must still produce one valid result
        result = {"status": "failed", "reason": "notifier error: %s: %s" % (type(error).__name__, error)}
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def read_request(stream):
    data = stream.read(MAX_REQUEST_BYTES + 1)
    if len(data) > MAX_REQUEST_BYTES:
        raise failed("the request is larger than %d bytes" % MAX_REQUEST_BYTES)
    try:
        request = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise failed("the request on stdin is not one JSON object: %s" % error)
    if not isinstance(request, dict):
        raise failed("the request on stdin is not a JSON object")
    if request.get("protocol") != PROTOCOL:
        raise failed("unsupported protocol %r; this notifier speaks protocol %d" % (request.get("protocol"), PROTOCOL))
    if not isinstance(request.get("idempotency_key"), str) or not request["idempotency_key"]:
        raise failed("the request has no idempotency_key")
    items = notifications(request)
    if not items:
        raise failed("the request has neither a 'reminder' nor a non-empty 'reminders' list")
    return request


def notifications(request):
    """The reminders a request carries, each as {instance, step, reminder}: one for a single
    reminder, several for a digest (`reminders: [...]`)."""
    if isinstance(request.get("reminders"), list):
        items = []
        for index, item in enumerate(request["reminders"]):
            if not isinstance(item, dict) or not isinstance(item.get("reminder"), dict):
                raise failed("reminders[%d] must be an object with 'instance', 'step' and 'reminder'" % index)
            items.append({"instance": _object(item.get("instance")), "step": _object(item.get("step")),
                          "reminder": item["reminder"]})
        return items
    if isinstance(request.get("reminder"), dict):
        return [{"instance": _object(request.get("instance")), "step": _object(request.get("step")),
                 "reminder": request["reminder"]}]
    return []


def is_digest(request):
    return isinstance(request.get("reminders"), list)


def _object(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    return value if isinstance(value, str) else ("" if value is None else str(value))


def options(request, default_msgtype):
    """The rendered `with:` block: msgtype (text or markdown) and at_all."""
    given = request.get("with")
    given = given if isinstance(given, dict) else {}
    msgtype = given.get("msgtype", default_msgtype)
    if msgtype not in ("text", "markdown"):
        raise failed("with.msgtype must be 'text' or 'markdown', found %r" % (msgtype,))
    if is_digest(request):
        msgtype = "markdown"  # a digest is always one markdown message
    return {"msgtype": msgtype, "at_all": given.get("at_all") is True}


def clock():
    """Seconds since the epoch. HUAYING_NOTIFIER_NOW (a number) fixes it for tests; the
    daemon never passes it (it is not in the manifest's env)."""
    fixed = os.environ.get("HUAYING_NOTIFIER_NOW")
    if fixed:
        try:
            return float(fixed)
        except ValueError:
            raise failed("HUAYING_NOTIFIER_NOW must be a number of seconds, found %r" % fixed)
    return time.time()


# ----------------------------------------------------------------------------------------
# What a person reads


def when(text):
    """'2026-10-09T17:00' → '2026-10-09（周五）17:00'. The date and time are shown as the
    daemon wrote them (local time); seconds and an offset such as +08:00 are left out."""
    text = _text(text).strip()
    if not text:
        return ""
    date_part, _, time_part = text.replace(" ", "T", 1).partition("T")
    try:
        day = datetime.date.fromisoformat(date_part)
    except ValueError:
        return text
    clock_text = time_part[:5] if len(time_part) >= 5 and time_part[2] == ":" else ""
    return "%s（%s）%s" % (day.isoformat(), WEEKDAYS[day.weekday()], clock_text)


def unit_name(instance):
    unit = _object(instance.get("unit"))
    return _text(unit.get("name")) or _text(unit.get("id")) or "（未知单位）"


def headline(item):
    reminder = item["reminder"]
    level = reminder.get("level") if isinstance(reminder.get("level"), int) else 0
    label = "【提醒】" if level <= 0 else "【督办·第%d级】" % level
    title = _text(item["step"].get("title")) or _text(item["step"].get("id")) or "（未命名步骤）"
    return "%s%s｜%s" % (label, unit_name(item["instance"]), title)


def unacknowledged_line(reminder):
    """'尚未确认：张三（自 2026-10-08（周四）09:00 起）、李四（…）', or '' at level 0."""
    people = reminder.get("unacknowledged")
    if not isinstance(people, list) or not people:
        return ""
    parts = []
    for person in people:
        person = _object(person)
        name = _text(person.get("name")) or _text(person.get("user")) or "?"
        since = when(person.get("since"))
        parts.append("%s（自 %s 起）" % (name, since) if since else name)
    return "尚未确认：" + "、".join(parts)


def detail_lines(item):
    """The lines under the headline: due, statutory deadline, acknowledgement deadline, the
    message, who has not acknowledged, where it comes from, and how to acknowledge."""
    instance, step, reminder = item["instance"], item["step"], item["reminder"]
    lines = []
    if when(step.get("due")):
        lines.append("应办：" + when(step.get("due")))
    # Two different dates, named apart as the CLI names them: the step's statutory deadline and
    # the time by which this reminder must be acknowledged before it escalates.
    if when(step.get("deadline")):
        lines.append("法定期限：" + when(step.get("deadline")))
    if when(reminder.get("ack_by")):
        lines.append("确认期限：" + when(reminder.get("ack_by")))
    message = _text(reminder.get("message")).strip()
    if message:
        lines.append(message)
    missing = unacknowledged_line(reminder)
    if missing:
        lines.append(missing)
    origin = []
    if instance.get("workflow") is not None:
        origin.append("流程 %s" % _text(instance.get("workflow")))
    if instance.get("id") is not None:
        origin.append("事项 #%s" % _text(instance.get("id")))
    if step.get("id") is not None:
        origin.append("步骤 %s" % _text(step.get("id")))
    if origin:
        lines.append("，".join(origin))
    return lines


def ack_command(reminder):
    return "huaying ack %s" % _text(reminder.get("id"))


def recipients(items):
    """Everyone to @mention, once each, in order."""
    seen, people = set(), []
    for item in items:
        for person in item["reminder"].get("recipients") or []:
            if not isinstance(person, dict):
                continue
            key = _text(person.get("user")) or json.dumps(person, sort_keys=True)
            if key not in seen:
                seen.add(key)
                people.append(person)
    return people


def contact(people, field):
    values = []
    for person in people:
        value = _text(person.get(field)).strip()
        if value and value not in values:
            values.append(value)
    return values


def utf8_length(text):
    return len(text.encode("utf-8"))


def truncate(text, limit, note):
    """`text` within `limit` UTF-8 bytes: cut at a character boundary with `note` appended
    when it is longer. Returns (text, truncated)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, False
    budget = max(0, limit - utf8_length(note))
    # Valid UTF-8 cut anywhere: 'ignore' drops only the partial character at the end.
    return data[:budget].decode("utf-8", "ignore") + note, True


def fit(head, body, tail, limit, note):
    """head + body + tail within `limit` UTF-8 bytes. When too long, the body is cut (at a
    character boundary, `note` appended), so the headline and the ack command survive.
    Returns (text, truncated)."""
    whole = head + body + tail
    if utf8_length(whole) <= limit:
        return whole, False
    cut, _ = truncate(body, max(0, limit - utf8_length(head + tail)), note)
    text = head + cut + tail
    if utf8_length(text) > limit:  # the headline alone is too long
        text, _ = truncate(whole, limit, note)
    return text, True


def digest_body(items, limit, render_item, header, more_line):
    """A digest within `limit` bytes: the header, then whole items while they fit (the first
    always), then `more_line(n)` for the n left out. Returns (text, items shown)."""
    text, shown = header, 0
    for index, item in enumerate(items):
        piece = render_item(index, item)
        rest = len(items) - index - 1
        reserve = utf8_length(more_line(rest)) if rest else 0
        if shown and utf8_length(text + piece) + reserve > limit:
            break
        text += piece
        shown += 1
    if shown < len(items):
        text += more_line(len(items) - shown)
    return text, shown


# ----------------------------------------------------------------------------------------
# 20 messages per robot per minute


class TokenBucket:
    """A token bucket per robot in a small JSON file in the working directory (the daemon
    runs plugins with cwd in its state directory). flock keeps concurrent runs honest.

    File: {"robots": {"<robot hash>": {"tokens": 19.0, "at": 1790000000.0, "blocked_until": 0}}}
    """

    def __init__(self, path):
        self.path = path

    def take(self, robot, now):
        """Takes one token; returns 0 when taken, else the seconds until one is there."""
        with self._locked() as state:
            entry = self._refilled(state, robot, now)
            if entry["blocked_until"] > now:
                return entry["blocked_until"] - now
            if entry["tokens"] >= 1:
                entry["tokens"] -= 1
                return 0
            return (1 - entry["tokens"]) * BUCKET_WINDOW_SECONDS / BUCKET_CAPACITY

    def block(self, robot, now, seconds):
        """The service said 'too fast': no token for anyone until `seconds` from now."""
        with self._locked() as state:
            entry = self._refilled(state, robot, now)
            entry["tokens"] = 0.0
            entry["blocked_until"] = max(entry["blocked_until"], now + seconds)

    @staticmethod
    def _refilled(state, robot, now):
        robots = state.setdefault("robots", {})
        entry = robots.get(robot)
        if not isinstance(entry, dict):
            entry = {"tokens": float(BUCKET_CAPACITY), "at": now, "blocked_until": 0.0}
        tokens = float(entry.get("tokens", BUCKET_CAPACITY))
        at = float(entry.get("at", now))
        if now > at:  # a clock that went back refills nothing
            tokens = min(float(BUCKET_CAPACITY), tokens + (now - at) * BUCKET_CAPACITY / BUCKET_WINDOW_SECONDS)
            at = now
        entry = {"tokens": tokens, "at": at, "blocked_until": float(entry.get("blocked_until", 0.0))}
        robots[robot] = entry
        # Forget robots idle for a day: the file stays small.
        for name in [name for name, value in robots.items()
                     if isinstance(value, dict) and now - float(value.get("at", now)) > 86400 and name != robot]:
            del robots[name]
        return entry

    class _Locked:
        def __init__(self, path):
            self.path = path

        def __enter__(self):
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            raw = b""
            while True:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                raw += chunk
            try:
                self.state = json.loads(raw.decode("utf-8")) if raw.strip() else {}
                if not isinstance(self.state, dict):
                    self.state = {}
            except ValueError:
                self.state = {}  # a damaged file starts afresh (full buckets): better than no notices
            return self.state

        def __exit__(self, kind, value, traceback):
            try:
                if kind is None:
                    data = json.dumps(self.state, sort_keys=True).encode("utf-8")
                    os.lseek(self.fd, 0, os.SEEK_SET)
                    os.ftruncate(self.fd, 0)
                    os.write(self.fd, data)
            finally:
                os.close(self.fd)  # closing releases the lock
            return False

    def _locked(self):
        return TokenBucket._Locked(self.path)


def robot_identity(endpoint_parts):
    """A robot's name in the bucket file: a hash of its credential, never the credential."""
    return hashlib.sha256("\n".join(endpoint_parts).encode("utf-8")).hexdigest()[:16]


# ----------------------------------------------------------------------------------------
# HTTP


def post_json(url, body):
    """POSTs a JSON body; returns the decoded JSON reply. Raises `retry` for network errors,
    HTTP 429 and 5xx and replies that are not JSON, `failed` for other HTTP errors."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    shown = redact(url)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            raw = response.read(1024 * 1024)
    except urllib.error.HTTPError as error:
        if error.code == 429:
            raise retry(BUCKET_WINDOW_SECONDS, "HTTP 429 from %s: too many requests" % shown)
        if error.code >= 500:
            raise retry(TRANSIENT_RETRY_SECONDS, "HTTP %d from %s" % (error.code, shown))
        raise failed("HTTP %d from %s: %s" % (error.code, shown, error.reason))
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise retry(TRANSIENT_RETRY_SECONDS, "cannot reach %s: %s" % (shown, reason))
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise retry(TRANSIENT_RETRY_SECONDS, "the reply from %s is not JSON: %r" % (shown, raw[:200]))
    if not isinstance(reply, dict):
        raise retry(TRANSIENT_RETRY_SECONDS, "the reply from %s is not a JSON object" % shown)
    return reply


def redact(url):
    """The URL without its query (which holds the key, token and signature)."""
    return url.split("?", 1)[0]
