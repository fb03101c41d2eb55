"""schemathesis against the live server: requests generated from the OpenAPI document the server
serves (/v1/openapi.json), every answer checked against that document.

Two runs against a server with keys (the document describes it; a development server ignores
credentials on purpose): one with the admin key, one with no credentials (every operation but the
public ones must refuse with a 401 problem). Each run fails on a 5xx, a status code, content type, header or body the
document does not allow, or a refusal that is not a problem body. The number of generated requests
is printed (docs/testing.md reports it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

# The streams cannot be checked by a request/answer tool: the SSE stream never ends and the
# WebSocket upgrade needs a WebSocket client (their own interop suites cover them).
STREAMING = r"^/v1/(sse|ws)$"
# Those, and the operations that answer without credentials on a server with keys (one regex: the
# option does not add up when given twice).
STREAMING_OR_PUBLIC = r"^/v1/(sse|ws)$|^/(healthz|readyz|v1/openapi\.json)$"

# How many requests per operation and phase; a fixed seed, so a failure can be replayed.
MAX_EXAMPLES = "25"
SEED = "20261205"


# The server runs with a Pusher app, so that Pusher endpoints (`"signing": "pusher"`) are made too.
PUSHER_APP = {
    "SWITCHBOARD_PUSHER_APP_ID": "openapi-app",
    "SWITCHBOARD_PUSHER_KEY": "openapi-key",
    "SWITCHBOARD_PUSHER_SECRET": "openapi-secret-0123456789abcdef",
}


@pytest.fixture(scope="module")
def keyed_server(module_server_factory):
    """A server with keys (not --dev) and a Pusher app."""
    return module_server_factory(dev=False, env=PUSHER_APP)


def served_document_without_waits(base_url: str, directory: Path) -> Path:
    """The document as the server serves it, less the long-poll's `wait` parameter: a generated wait
    of up to a minute per request would only test the clock (test_longpoll_interop.py covers it).
    A Pusher endpoint's `pusherApp` is narrowed to the configured app: which apps exist is the
    server's configuration, which the document cannot know."""
    document = requests.get(f"{base_url}/v1/openapi.json", timeout=10).json()
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"]
                                           if not (isinstance(p, dict) and p.get("name") == "wait")]
    pusher_app = document["components"]["schemas"]["EndpointCreate"]["properties"]["pusherApp"]
    pusher_app["enum"] = [PUSHER_APP["SWITCHBOARD_PUSHER_APP_ID"]]
    path = directory / "openapi.json"
    path.write_text(json.dumps(document))
    return path


# Every check runs (schemathesis enables them all by default), with two exceptions:
# - a method a path does not serve is answered 404 not_found here (ProblemMiddleware), not 405;
# - two refusals depend on more than the request, which JSON Schema cannot say, so a schema-valid
#   request may rightly be refused (400) there: a replay whose toOffset is below its fromOffset (the
#   schema does not compare two members), and a source PATCH whose secrets do not fit the scheme the
#   source already has (a standard source's secrets are whsec_ base64).
CONFIG = """
checks.unsupported_method.enabled = false

[[operations]]
include-operation-id = "replayDeliveries"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-operation-id = "updateSource"
checks.positive_data_acceptance.enabled = false
"""


def run_schemathesis(base_url: str, report_dir: Path, *extra: str, exclude: str = STREAMING) -> dict:
    """Runs the CLI against `base_url`; returns its JSON report; fails the test with its output."""
    report = report_dir / "report.json"
    config = report_dir / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", str(served_document_without_waits(base_url, report_dir)),
        "--url", base_url,
        "--max-examples", MAX_EXAMPLES,
        "--seed", SEED,
        "--workers", "1",
        "--request-timeout", "10",
        "--exclude-path-regex", exclude,
        "--report", "json", "--report-json-path", str(report),
        "--no-color",
        *extra,
    ]
    # In the test's own folder: the CLI keeps its example database in the working directory.
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=report_dir)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"schemathesis found problems:\n{output[-12000:]}"
    summary = json.loads(report.read_text())
    # The options are not printed: one of them is the admin key.
    print(f"schemathesis against {base_url}: {summarize(summary)}")
    return summary


def summarize(report: dict) -> str:
    cases, operations = report.get("test_cases", {}), report.get("operations", {})
    return (f"{cases.get('generated')} requests generated over {operations.get('tested')} operations, "
            f"{cases.get('with_failures')} with failures, in {report.get('running_time', 0):.0f} s")


def test_document_is_served_and_is_openapi_3_1(server):
    resp = requests.get(server.url("/v1/openapi.json"), timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    document = resp.json()
    assert document["openapi"] == "3.1.0"
    assert "/v1/channels/{channel}/events" in document["paths"]


def test_server_with_keys_answers_the_admin_key_as_documented(keyed_server, tmp_path):
    # Not revokeKey: its stateful links would revoke the very key the run uses (once another admin key
    # exists), and every later request would be a 401. Revocation has its own tests (KeysAPITests).
    run_schemathesis(keyed_server.base_url, tmp_path, "--header", f"Authorization: Bearer {keyed_server.api_key}",
                     "--exclude-operation-id", "revokeKey")


def test_server_with_keys_refuses_requests_without_credentials_as_documented(keyed_server, tmp_path):
    run_schemathesis(keyed_server.base_url, tmp_path, exclude=STREAMING_OR_PUBLIC)
