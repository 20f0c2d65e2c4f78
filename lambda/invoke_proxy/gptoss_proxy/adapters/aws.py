"""boto3 adapters: SageMaker Runtime and Bedrock Runtime backends, and Bedrock ApplyGuardrail.

Clients are created once per process (lazily, so importing the handler stays fast) with explicit timeouts
and no SDK retries: the core owns retries, bounded by the Lambda's remaining time. boto3 honours
``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` / ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, which tests point at emulators.
"""

from __future__ import annotations

import contextlib
import functools
import json
from typing import Iterator, Sequence

from gptoss_proxy.core.errors import (
    BackendCapacity,
    BackendError,
    BackendFailure,
    BackendRejected,
    BackendThrottled,
    BackendTimeout,
)
from gptoss_proxy.core.guard import GuardVerdict
from gptoss_proxy.core.settings import Route

THROTTLE_CODES = {"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException", "ThrottledException"}
CAPACITY_CODES = {"ModelNotReadyException", "ServiceUnavailable", "ServiceUnavailableException"}
TIMEOUT_CODES = {"ModelTimeoutException", "RequestTimeout"}
REJECT_CODES = {"ValidationError", "ValidationException"}


#: read timeouts the adapters use; a call gets the largest step within its budget, so a handful of clients
#: (one per step, created on first use) serve every deadline instead of one client per distinct budget
READ_TIMEOUT_STEPS = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900)


def read_timeout_for(timeout: float, limit: float) -> float:
    """The read timeout for one call: at most ``limit`` (the configured backend timeout) and at most ``timeout``
    (the time the core has left before the request's deadline), never longer than what was given."""
    budget = min(timeout, limit)
    steps = [s for s in READ_TIMEOUT_STEPS if s <= budget]
    return steps[-1] if steps else max(0.1, int(budget * 10) / 10)


@functools.cache
def client(service: str, read_timeout: float = 300):
    import boto3  # deferred: keeps the handler's cold import small
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=read_timeout, retries={"total_max_attempts": 1, "mode": "standard"}, tcp_keepalive=True)
    return boto3.client(service, config=config)


def map_error(err: Exception) -> BackendError:
    """botocore exception → the core's backend error."""
    from botocore.exceptions import ClientError, ConnectTimeoutError, EventStreamError, ReadTimeoutError
    from urllib3.exceptions import ReadTimeoutError as StreamReadTimeout  # event streams read urllib3 directly

    if isinstance(err, (ReadTimeoutError, ConnectTimeoutError, StreamReadTimeout, TimeoutError)):
        return BackendTimeout("the model backend did not answer in time")
    if isinstance(err, (ClientError, EventStreamError)):
        code = err.response.get("Error", {}).get("Code", "")
        # an exception event inside an event stream carries its member name as the code ("throttlingException",
        # botocore parsers.py takes it from `:exception-type`; members per the bedrock-runtime ResponseStream shape)
        code = code[:1].upper() + code[1:]
        message = err.response.get("Error", {}).get("Message", "") or code
        if code in THROTTLE_CODES:
            return BackendThrottled(f"the model backend is throttling requests ({code})")
        if code in CAPACITY_CODES or "capacity" in message.lower():
            return BackendCapacity(f"the model backend has no capacity right now ({code}: {message})")
        if code in TIMEOUT_CODES:
            return BackendTimeout(f"the model backend timed out ({code})")
        if code in REJECT_CODES:
            return BackendRejected(f"the model backend rejected the request: {message}")
        return BackendFailure(f"the model backend failed ({code}: {message})")
    return BackendFailure(f"the model backend failed ({err.__class__.__name__})")


@contextlib.contextmanager
def aws_errors() -> Iterator[None]:
    """Turns any botocore failure inside the block into the core's backend error (ours pass through)."""
    try:
        yield
    except BackendError:
        raise
    except Exception as err:
        raise map_error(err) from None


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw)
    except ValueError:
        raise BackendFailure("the model backend returned malformed JSON") from None
    if not isinstance(value, dict):
        raise BackendFailure("the model backend returned JSON that is not an object")
    return value


def _sse_events(parts: Iterator[bytes]) -> Iterator[dict]:
    """Reassembles SSE ``data:`` lines cut across PayloadParts; yields each JSON chunk."""
    buffer = b""
    for part in parts:
        buffer += part
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            yield _json(data)
    if buffer.strip().startswith(b"data:") and buffer.strip()[5:].strip() not in (b"", b"[DONE]"):
        yield _json(buffer.strip()[5:].strip())


class _Stream:
    """A backend's chunks plus ``abort()``, which the core's deadline watchdog calls from another thread: it shuts
    the connection's socket down so that a read blocked on a stalled model returns at once. urllib3 2.3+ has
    ``HTTPResponse.shutdown()`` for this; with an older urllib3 (whichever the Lambda runtime's botocore brings is
    UNCONFIRMED(manual:runtime-urllib3) here) it falls back to ``close()``, and a blocked read then ends at the call's read timeout."""

    def __init__(self, chunks: Iterator[dict], body) -> None:
        self._chunks, self._body = chunks, body

    def __iter__(self) -> Iterator[dict]:
        return self._chunks

    def abort(self) -> None:
        raw = getattr(self._body, "_raw_stream", None)  # botocore EventStream -> urllib3 HTTPResponse
        try:
            (getattr(raw, "shutdown", None) or raw.close)()
        except Exception:  # already closed or released: nothing is blocked on it
            pass


class _Backend:
    def __init__(self, read_timeout: float = 300) -> None:
        self.read_timeout = read_timeout


class SageMakerBackend(_Backend):
    """The JumpStart gpt-oss container: OpenAI chat schema on /invocations, SSE when streaming."""

    def complete(self, route: Route, body: dict, timeout: float) -> dict:
        with aws_errors():
            response = client("sagemaker-runtime", read_timeout_for(timeout, self.read_timeout)).invoke_endpoint(**self._kwargs(route, body))
            return _json(response["Body"].read())

    def stream(self, route: Route, body: dict, timeout: float) -> Iterator[dict]:
        with aws_errors():  # the call is made here, so a refusal can still fall back before any byte is sent
            response = client("sagemaker-runtime", read_timeout_for(timeout, self.read_timeout)).invoke_endpoint_with_response_stream(**self._kwargs(route, body))
        return _Stream(self._chunks(response["Body"]), response["Body"])

    @staticmethod
    def _chunks(events) -> Iterator[dict]:
        def parts() -> Iterator[bytes]:
            with aws_errors():
                for event in events:
                    if "PayloadPart" in event:
                        yield event["PayloadPart"]["Bytes"]
                    elif "ModelStreamError" in event or "InternalStreamFailure" in event:
                        detail = event.get("ModelStreamError") or event.get("InternalStreamFailure")
                        raise BackendFailure(f"the model stream failed: {detail.get('Message', '')}")

        return _sse_events(parts())

    @staticmethod
    def _kwargs(route: Route, body: dict) -> dict:
        kwargs = {"EndpointName": route.target, "Body": json.dumps(body).encode(), "ContentType": "application/json", "Accept": "application/json"}
        if route.inference_component:
            kwargs["InferenceComponentName"] = route.inference_component
        return kwargs


class BedrockBackend(_Backend):
    """Bedrock gpt-oss through InvokeModel / InvokeModelWithResponseStream with OpenAI chat bodies."""

    def complete(self, route: Route, body: dict, timeout: float) -> dict:
        with aws_errors():
            response = client("bedrock-runtime", read_timeout_for(timeout, self.read_timeout)).invoke_model(**self._kwargs(route, body))
            return _json(response["body"].read())

    def stream(self, route: Route, body: dict, timeout: float) -> Iterator[dict]:
        with aws_errors():
            response = client("bedrock-runtime", read_timeout_for(timeout, self.read_timeout)).invoke_model_with_response_stream(**self._kwargs(route, body))
        return _Stream(self._chunks(response["body"]), response["body"])

    @staticmethod
    def _chunks(events) -> Iterator[dict]:
        with aws_errors():
            for event in events:
                if "chunk" in event:
                    yield _json(event["chunk"]["bytes"])
                else:
                    name = next(iter(event), "unknown")
                    raise BackendFailure(f"the model stream failed ({name})")

    @staticmethod
    def _kwargs(route: Route, body: dict) -> dict:
        return {"modelId": route.target, "body": json.dumps(body).encode(), "contentType": "application/json", "accept": "application/json"}


class BedrockGuardrail:
    """ApplyGuardrail for one guardrail version; BLOCKED findings block, ANONYMIZED ones mask."""

    def __init__(self, guardrail_id: str, version: str) -> None:
        self.guardrail_id = guardrail_id
        self.version = version

    def __call__(self, source: str, texts: Sequence[str]) -> GuardVerdict:
        response = client("bedrock-runtime", read_timeout=10).apply_guardrail(
            guardrailIdentifier=self.guardrail_id,
            guardrailVersion=self.version,
            source=source,
            content=[{"text": {"text": t}} for t in texts],
        )
        if response.get("action") != "GUARDRAIL_INTERVENED":
            return GuardVerdict(blocked=False, texts=tuple(texts))
        outputs = tuple(o.get("text", "") for o in response.get("outputs") or [])
        if _blocked(response.get("assessments") or []):
            return GuardVerdict(blocked=True, texts=(), message=outputs[0] if outputs else "")
        if len(outputs) != len(texts):  # masks we cannot map back to their texts: refuse rather than guess
            # (UNCONFIRMED(verify:route-masked-output) that ApplyGuardrail returns one output per text block when it masks; the message
            # stays generic because these outputs are masked copies of the checked text)
            return GuardVerdict(blocked=True, texts=(), message="")
        return GuardVerdict(blocked=False, texts=outputs, masked=True)


def _blocked(assessments: list) -> bool:
    """True when any finding's action is BLOCKED (ANONYMIZED findings only mask)."""

    def walk(node) -> bool:
        if isinstance(node, dict):
            if node.get("action") == "BLOCKED":
                return True
            return any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    return walk(assessments)


class KmsSealer:
    """Reasoning sealing (core/sealed.py) with the proxy's own KMS key: ``Encrypt`` / ``Decrypt`` with an
    encryption context, one call per part (at most 4,096 bytes of plaintext: botocore's KMS model,
    ``PlaintextType``). ``Decrypt`` names the key (``KeyId``), so a ciphertext made under any other key fails
    (AWS KMS API reference, Decrypt: "KeyId ... the KMS key that AWS KMS uses to decrypt the ciphertext ... If you
    specify a different KMS key, the Decrypt operation fails"). ``InvalidCiphertextException`` (wrong context,
    tampered bytes) and ``IncorrectKeyException`` mean the client's ciphertext is not ours: ``SealBroken`` (400);
    anything else (throttling, network) is ``SealUnavailable`` (503)."""

    BROKEN_CODES = {"InvalidCiphertextException", "IncorrectKeyException"}

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id

    def sealer(self):
        from gptoss_proxy.core.sealed import Sealer

        return Sealer(seal=self.seal, open=self.open)

    def seal(self, plaintext: bytes, context) -> bytes:
        try:
            return client("kms", 10).encrypt(KeyId=self.key_id, Plaintext=plaintext, EncryptionContext=dict(context))["CiphertextBlob"]
        except Exception as err:
            raise self._unavailable(err) from None

    def open(self, blob: bytes, context) -> bytes:
        from botocore.exceptions import ClientError, ParamValidationError
        from gptoss_proxy.core.sealed import SealBroken

        try:
            return client("kms", 10).decrypt(CiphertextBlob=blob, KeyId=self.key_id, EncryptionContext=dict(context))["Plaintext"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in self.BROKEN_CODES:
                raise SealBroken("the ciphertext does not verify under this proxy's key and context") from None
            raise self._unavailable(err) from None
        except ParamValidationError:
            raise SealBroken("the ciphertext is not a KMS ciphertext") from None
        except Exception as err:
            raise self._unavailable(err) from None

    @staticmethod
    def _unavailable(err: Exception):
        from gptoss_proxy.core.sealed import SealUnavailable

        return SealUnavailable(err.__class__.__name__)
