#!/usr/bin/env python3
"""A tiny Alertmanager webhook receiver for the end-to-end test.

Listens on 127.0.0.1:PORT and appends one JSON line per notification to FILE:
{"path": "/backupdrill/page", "payload": <Alertmanager's webhook body>}.
Stops by itself after MAX_SECONDS (a bound, should the test forget it).
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, out_file, max_seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock, open(out_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": self.path, "payload": json.loads(body)}) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Timer(max_seconds, server.shutdown).start()
server.serve_forever()
