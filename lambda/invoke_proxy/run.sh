#!/bin/sh
# Start script for the Lambda Web Adapter (handler "run.sh"): serves the proxy on AWS_LWA_PORT so that
# responses stream. The adapter forwards each invocation to this HTTP server.
export PYTHONPATH="${LAMBDA_TASK_ROOT:-$(dirname "$0")}:${PYTHONPATH}"
exec python3 -m http_server
