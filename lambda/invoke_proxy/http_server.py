"""The proxy as an HTTP server (stdlib): the local dev server, and the app the Lambda Web Adapter runs so
responses stream for real (chunked transfer, one SSE event per chunk)."""

from __future__ import annotations

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gptoss_proxy.core.service import ProxyService

#: without the Lambda Web Adapter's context header (the local dev server) a request may take this long
DEFAULT_REQUEST_SECONDS = 900
#: the listen backlog; socketserver's default of 5 resets connections at a few dozen concurrent clients
#: (the kernel caps it at net.core.somaxconn)
REQUEST_QUEUE_SIZE = 1024


def invocation(headers: dict[str, str], *, wall=time.time, mono=time.monotonic) -> tuple[float, str]:
    """The request's deadline (on the ``mono`` clock) and its request id, from the Lambda Web Adapter's headers.

    ``x-amzn-lambda-context`` is the JSON of the Rust runtime's ``lambda_runtime::Context``, whose ``deadline`` is the
    invocation's deadline in epoch milliseconds (awslabs/aws-lambda-rust-runtime lambda-runtime/src/types.rs; the
    adapter's src/lib.rs inserts the header). The adapter's guide shows ``deadline_ms`` instead
    (docs/guide/src/features/request-context.md), so that name is read too. The request id is the front door's
    (``requestId`` of ``x-amzn-request-context``, the API Gateway / Function URL request context), else the
    invocation's ``request_id``, else empty (the service makes one).
    """

    def obj(name: str) -> dict:
        try:
            value = json.loads(headers.get(name) or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    lambda_ctx, request_ctx = obj("x-amzn-lambda-context"), obj("x-amzn-request-context")
    deadline_ms = lambda_ctx.get("deadline") or lambda_ctx.get("deadline_ms")
    if isinstance(deadline_ms, str) and deadline_ms.isdigit():
        deadline_ms = int(deadline_ms)
    if isinstance(deadline_ms, (int, float)) and not isinstance(deadline_ms, bool) and deadline_ms > 0:
        deadline = mono() + (deadline_ms / 1000 - wall())
    else:
        deadline = mono() + DEFAULT_REQUEST_SECONDS
    request_id = request_ctx.get("requestId") or lambda_ctx.get("request_id") or ""
    return deadline, str(request_id)


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
            deadline, request_id = invocation(headers)
            response = service.handle(self.command, self.path.split("?")[0], headers, body, deadline=deadline, consumer=self._consumer(), request_id=request_id)
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
    request_queue_size = REQUEST_QUEUE_SIZE

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
