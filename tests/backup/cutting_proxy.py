#!/usr/bin/env python3
"""A hostile network between the drill and S3, for the S3 source's tests.

Usage: cutting_proxy.py UPSTREAM_URL PORT_FILE CUTS [LOG_FILE]

Listens on a free 127.0.0.1 port (written to PORT_FILE once it listens) and
forwards every request to UPSTREAM_URL (an S3 server on loopback). Answers go
back as HTTP/1.0 without Content-Length, the body ending where the connection
closes, as an old proxy or a gateway does. The first CUTS answers to a whole
object GET (no query, no Range) are cut: the connection is closed after
min(256 KiB, half the body) bytes, so the client sees a clean end of a short
body and only a comparison with the listed size can tell. CUTS = -1 cuts every
one. Each cut is logged as "cut <path> <sent> of <total>" to LOG_FILE.
"""
import http.client
import http.server
import os
import sys
import threading
import urllib.parse

UPSTREAM = urllib.parse.urlsplit(sys.argv[1])
PORT_FILE, CUTS = sys.argv[2], int(sys.argv[3])
LOG = sys.argv[4] if len(sys.argv) > 4 else None
lock = threading.Lock()
cuts_left = [CUTS]
SKIPPED = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def take_a_cut():
    with lock:
        if cuts_left[0] == 0:
            return False
        if cuts_left[0] > 0:
            cuts_left[0] -= 1
        return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in SKIPPED}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        payload = answer.read()
        upstream.close()
        whole_object = (self.command == "GET" and "?" not in self.path
                        and "Range" not in self.headers and answer.status == 200)
        send = payload
        if whole_object and len(payload) > 1 and take_a_cut():
            send = payload[:min(256 * 1024, len(payload) // 2)]
            if LOG:
                with lock, open(LOG, "a") as log:
                    log.write(f"cut {self.path} {len(send)} of {len(payload)}\n")
        self.send_response_only(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in SKIPPED:
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(send)
        self.wfile.flush()
        self.close_connection = True

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
# The port file appears only once the server listens.
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
