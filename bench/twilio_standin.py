"""A local stand-in for Twilio's REST API: accepts every message and call with a 201.

    .venv/bin/python bench/twilio_standin.py --port 8765   # then TWILIO_API_BASE_URL=http://127.0.0.1:8765

Answers POST /2010-04-01/Accounts/{sid}/Messages.json and .../Calls.json with JSON shaped like
Twilio's; anything else gets Twilio's 404 shape. It stops on SIGTERM or Ctrl-C, and by itself
after --max-seconds.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ROUTE = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/(Messages|Calls)\.json$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API offers
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms ACK wait
    counts: dict[str, int] = {"Messages": 0, "Calls": 0}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        match = ROUTE.match(self.path)
        if match is None:
            self._answer(404, {"code": 20404, "message": "not found", "status": 404})
            return
        account, kind = match.groups()
        with self.lock:
            self.counts[kind] += 1
        prefix = "SM" if kind == "Messages" else "CA"
        sid = prefix + uuid.uuid4().hex
        body = {
            "sid": sid,
            "account_sid": account,
            "to": form.get("To"),
            "from": form.get("From"),
            "status": "queued" if kind == "Calls" else "accepted",
            "uri": f"/2010-04-01/Accounts/{account}/{kind}/{sid}.json",
            "date_created": "Sun, 29 Nov 2026 05:00:00 +0000",
            "api_version": "2010-04-01",
        }
        if kind == "Messages":
            body.update(
                body=form.get("Body"),
                messaging_service_sid=form.get("MessagingServiceSid"),
                num_segments="1",
                direction="outbound-api",
                error_code=None,
                error_message=None,
            )
        self._answer(201, body)

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Stay quiet: a request line per message would dominate the benchmark."""


def serve(port: int = 0) -> ThreadingHTTPServer:
    """Start the stand-in on 127.0.0.1:`port` (0: any free port) in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args()
    server = serve(args.port)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    stop = threading.Event()
    try:
        stop.wait(args.max_seconds)
    except KeyboardInterrupt:
        pass
    server.shutdown()
    print(json.dumps(Handler.counts), flush=True)


if __name__ == "__main__":
    main()
