#!/usr/bin/env python3
"""Plain-HTTP stand-ins in front of one etcd member's JSON gateway, for tests/host/etcd.sh.

  etcd_proxy.py UPSTREAM_PORT CA CERT KEY LOSSY_PORT PASS_PORT FAKE_PORT APPLIED_FILE

On 127.0.0.1:
  LOSSY_PORT  forwards each request to https://127.0.0.1:UPSTREAM_PORT (with the client
              certificate), but the first /v3/kv/txn's answer is thrown away: the
              transaction is applied, the connection closed without a reply (what a
              member that dies after proposing looks like to its client). The answer
              that was dropped is written to APPLIED_FILE.
  PASS_PORT   forwards everything and answers.
  FAKE_PORT   answers every request 200 with "{}": JSON, but not etcd's.
Prints "ready" once all three listen.
"""
import http.client
import http.server
import socket
import ssl
import sys
import threading

UP, CA, CERT, KEY = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
LOSSY, PASS, FAKE = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
APPLIED = sys.argv[8]


class Forward(http.server.BaseHTTPRequestHandler):
    lossy = False
    dropped = False
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ctx = ssl.create_default_context(cafile=CA)
        ctx.load_cert_chain(CERT, KEY)
        up = http.client.HTTPSConnection("127.0.0.1", UP, context=ctx, timeout=10)
        up.request("POST", self.path, body, {"Content-Type": "application/json"})
        r = up.getresponse()
        data = r.read()
        up.close()
        if self.lossy and self.path == "/v3/kv/txn":
            with Forward.lock:
                drop = not Forward.dropped
                Forward.dropped = True
            if drop:
                with open(APPLIED, "wb") as f:
                    f.write(data)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
        self.send_response(r.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Lossy(Forward):
    lossy = True


class Fake(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


servers = [http.server.ThreadingHTTPServer(("127.0.0.1", p), h)
           for p, h in ((LOSSY, Lossy), (PASS, Forward), (FAKE, Fake))]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("ready", flush=True)
servers[0].serve_forever()
