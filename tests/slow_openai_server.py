"""A tiny OpenAI-compatible chat server on 127.0.0.1 that streams a fixed answer slowly.

For terminal tests that must interrupt an answer while it is being written
(Ctrl-C), which a fast real model finishes too soon to catch reliably. Each
stream ends with one line on stderr: how many words it sent before it finished
or the client went away.
With a fourth argument ``refuse-stream-options`` it also plays an older server
that answers 400 to ``stream_options`` (as some vLLM versions and proxies do).
Usage: python tests/slow_openai_server.py PORT "ANSWER TEXT" SECONDS_PER_WORD [refuse-stream-options]
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(answer: str, delay: float, refuse_stream_options: bool = False) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send_json(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            words = [w + " " for w in answer.split(" ")]
            if refuse_stream_options and "stream_options" in request:
                self._send_json(400, {"error": {"message": "Unrecognized request argument supplied: stream_options",
                                                "type": "invalid_request_error"}})
                return
            if not request.get("stream"):
                body = {
                    "id": "x", "object": "chat.completion", "created": 0, "model": request.get("model", "slow"),
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)},
                }
                self._send_json(200, body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            sent = 0
            try:
                for word in words:
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "slow",
                             "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    sent += 1
                    time.sleep(delay)
                self.wfile.write(b"data: [DONE]\n\n")
                print(f"stream finished: {sent} of {len(words)} words", file=sys.stderr, flush=True)
            except (BrokenPipeError, ConnectionResetError):
                print(f"client went away: {sent} of {len(words)} words", file=sys.stderr, flush=True)

    return Handler


if __name__ == "__main__":
    port, answer, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    refuse = sys.argv[4:5] == ["refuse-stream-options"]
    ThreadingHTTPServer(("127.0.0.1", port), make_handler(answer, delay, refuse)).serve_forever()
