"""Property-based fuzzing of the whole API from its OpenAPI schema: no input may cause a 5xx.

Requests go out both anonymous (as generated) and authenticated — kiosk
requests correctly signed over the generated body, admin requests with a
real session — so that generated input reaches the deep code (ingest,
enrollment, reference data), not only the authentication wall.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from test_sync_support import SECRET, settings_for, station

from kiosk.domain.wire import request_message
from kiosk.sync import keys, state
from kiosk.sync.enrollment import enroll
from sync_server import accounts, enrollment
from sync_server.app import create_app
from sync_server.migrate import upgrade

schema = schemathesis.openapi.from_dict(create_app(settings_for("sqlite://", secret_key=SECRET)).openapi())


class Harness:
    def __init__(self, root: Path) -> None:
        url = f"sqlite:///{root / 'server.db'}"
        upgrade(url)
        self.app = create_app(settings_for(url))
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.client.__enter__()
        engine = self.app.state.engine
        accounts.create_user(engine, "fuzz", "a long enough password", "admin")
        token = self.client.post("/v1/admin/token", json={"username": "fuzz", "password": "a long enough password"})
        self.token = token.json()["access_token"]
        self.station = station(root / "k.db")
        self.station.meeting()
        code, _ = enrollment.create_enrollment(engine, "K01", created_by="fuzz", hours=1)
        enroll(self.station.store, "http://testserver", code, http=self.client)
        self.key = keys.load(keys.key_path(self.station.store.path))

    def headers(self, path: str, method: str, target: str, body: bytes) -> dict[str, str]:
        if path.startswith("/v1/sync/"):
            t = state.server_now(self.station.store) or self.station.store.clock.now_ms()
            sig = keys.sign(self.key, request_message(method, target, "K01", t, body))
            return {"Authorization": f"Muso K01 {t} {sig}"}
        if path.startswith("/v1/admin/") and path != "/v1/admin/token":
            return {"Authorization": f"Bearer {self.token}"}
        return {}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = Harness(tmp_path_factory.mktemp("fuzz"))
    yield h
    h.client.__exit__(None, None, None)
    h.station.k.close()


def _send(h: Harness, case: Any, authenticated: bool) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    body = b""
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode()
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body = data if isinstance(data, bytes) else str(data).encode()
    headers = {k: str(v) for k, v in kwargs.get("headers", {}).items()}
    url = h.client.build_request(case.method, kwargs["url"], params=kwargs.get("params")).url
    target = url.raw_path.decode()
    if authenticated:
        headers.update(h.headers(case.path, case.method, target, body))
    return h.client.request(case.method, str(url), content=body or None, headers=headers)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_server_error(case: Any, harness: Harness) -> None:
    for authenticated in (False, True):
        response = _send(harness, case, authenticated)
        assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:500]}"
        case.validate_response(response, checks=[not_a_server_error])
