"""Local dev server: the invoke proxy on localhost, against the emulators (default) or real AWS.

    python -m emulators.devserver                 # emulators on a free port, proxy on 127.0.0.1:8080
    python -m emulators.devserver --aws           # real AWS: uses your credentials and GPTOSS_* variables

Then: ``curl localhost:8080/v1/models`` or the OpenAI SDK with ``base_url="http://localhost:8080/v1"``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

PROXY_DIR = Path(__file__).resolve().parent.parent / "lambda" / "invoke_proxy"

#: the routes the dev server serves against the emulators (a SageMaker 20b with a Bedrock 120b fallback and handoff)
DEV_ROUTES = {
    "gpt-oss-20b": {"backend": "sagemaker", "endpoint_name": "gptoss-20b-dev", "fallback": "gpt-oss-120b", "handoff": "gpt-oss-120b"},
    "gpt-oss-120b": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"},
}


def emulator_env(emulator_url: str, **overrides: str) -> dict[str, str]:
    """Environment that points boto3 at the emulator (dummy credentials) and configures the proxy."""
    return {
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": emulator_url,
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "GPTOSS_ROUTES": json.dumps(DEV_ROUTES),
        "GPTOSS_GUARDRAIL_ID": "devguardrail",
        "GPTOSS_GUARDRAIL_VERSION": "1",
        "GPTOSS_ESCALATE_PRINCIPALS": "local",  # the dev server's caller (no IAM identity) may escalate
        **overrides,
    }


@contextmanager
def proxy_environment(env: Mapping[str, str]) -> Iterator[Mapping[str, str]]:
    """``os.environ`` holds ``env`` for a proxy built in this process, and is restored on exit. The proxy's adapters
    cache their boto3 clients per process with the endpoint URLs of the moment, so the cache is dropped on entry
    (clients built now reach this emulator) and on exit (a later proxy reuses no client, nor kept-alive
    connection, to it)."""
    if str(PROXY_DIR) not in sys.path:
        sys.path.insert(0, str(PROXY_DIR))
    from gptoss_proxy.adapters.aws import client

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    client.cache_clear()
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        client.cache_clear()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--aws", action="store_true", help="call real AWS instead of the emulators")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROXY_DIR))
    if not args.aws:
        from emulators.server import Emulator

        emulator = Emulator().start()
        os.environ.update(emulator_env(emulator.url))
        print(f"emulators (SageMaker Runtime + Bedrock Runtime) on {emulator.url}", file=sys.stderr)
    from http_server import serve
    from gptoss_proxy.wiring import build_service

    sealer = None
    if not args.aws:  # reasoning sealing: a local AES-GCM stand-in for the proxy's KMS key (emulators/sealer.py)
        from emulators.sealer import local_sealer

        sealer = local_sealer()
    server = serve(build_service(sealer=sealer), "127.0.0.1", args.port)
    print(f"gpt-oss proxy on http://127.0.0.1:{args.port}/v1 (models: {', '.join(json.loads(os.environ['GPTOSS_ROUTES']))})", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
