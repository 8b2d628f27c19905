#!/usr/bin/env python3
"""A stand-in for the WeCom / DingTalk robot endpoints, on 127.0.0.1, for the notifier tests.

    robot-server.py DIRECTORY

Writes the port it listens on to DIRECTORY/port. Every POST is appended to
DIRECTORY/requests.jsonl as {"path", "query", "body"} (body parsed from JSON). The answer is
DIRECTORY/reply.json when it exists ({"status": 200, "body": {...}}; read on each request, so
a test can change it between runs), else HTTP 200 {"errcode":0,"errmsg":"ok"}. Runs until
it is killed.
"""
import http.server
import json
import os
import sys
import urllib.parse

directory = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        parsed = urllib.parse.urlsplit(self.path)
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        record = {"path": parsed.path, "query": parsed.query, "content_type": self.headers.get("Content-Type"), "body": body}
        with open(os.path.join(directory, "requests.jsonl"), "a", encoding="utf-8") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
        status, answer = 200, {"errcode": 0, "errmsg": "ok"}
        reply_path = os.path.join(directory, "reply.json")
        if os.path.exists(reply_path):
            with open(reply_path, encoding="utf-8") as file:
                reply = json.load(file)
            status, answer = reply.get("status", 200), reply.get("body", answer)
        data = (answer if isinstance(answer, str) else json.dumps(answer)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(directory, "port.tmp"), "w") as file:
    file.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
