"""The proxy as an HTTP server (stdlib): the local dev server, and the app the Lambda Web Adapter runs so
responses stream for real (chunked transfer, one SSE event per chunk)."""

from __future__ import annotations

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gptoss_proxy.core.service import ProxyService


def make_handler(service: ProxyService):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stalls)

        def log_message(self, *args) -> None:  # the service logs structured records itself
            pass

        def _consumer(self) -> str:
            context = self.headers.get("x-amzn-request-context")  # set by the Lambda Web Adapter
            if context:
                try:
                    ctx = json.loads(context)
                    return (ctx.get("identity") or {}).get("userArn") or ((ctx.get("authorizer") or {}).get("iam") or {}).get("userArn") or "unknown"
                except ValueError:
                    pass
            return self.headers.get("x-gptoss-consumer", "local")

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = service.handle(self.command, self.path.split("?")[0], headers, body, deadline=time.monotonic() + 900, consumer=self._consumer())
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if not response.streaming:
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for part in response.body:
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away; the generator is closed with the connection

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hangs up is normal (keep-alive closed, stream abandoned); anything else is printed."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def serve(service: ProxyService, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    server = Server((host, port), make_handler(service))
    server.daemon_threads = True
    return server


def main() -> None:
    from gptoss_proxy.wiring import build_service

    port = int(os.environ.get("AWS_LWA_PORT") or os.environ.get("PORT") or 8080)
    host = os.environ.get("GPTOSS_BIND", "127.0.0.1")
    server = serve(build_service(), host, port)
    print(json.dumps({"level": "INFO", "message": f"gpt-oss proxy listening on {host}:{port}"}), file=sys.stderr)
    server.serve_forever()


if __name__ == "__main__":
    main()
