"""Request and response bodies (Pydantic): the OpenAPI schema is generated from these."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, lowercase hex")]
KioskId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
B64 = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
# [type, body, device_time delta, boot index, mono_ms delta]: see kiosk.domain.wire
WireEvent = tuple[
    Annotated[StrictStr, Field(min_length=1, max_length=64)],
    dict[str, Any],
    StrictInt,
    Annotated[StrictInt, Field(ge=0)],
    StrictInt,
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KioskReport(Strict):
    """What a kiosk says about itself with each push (all optional): shown on the fleet page."""

    v: Annotated[StrictStr, Field(max_length=32)] | None = Field(default=None, description="app version")
    pq: Annotated[StrictInt, Field(ge=0, le=10**9)] | None = Field(default=None, description="receipts waiting")
    pe: Annotated[StrictStr, Field(max_length=200)] | None = Field(default=None, description="printer's last error")
    ep: Annotated[StrictInt, Field(ge=0, le=2**62)] | None = Field(default=None, description="events left to send")


class PushBatch(Strict):
    """A contiguous run of journal events, signed over the chain head (``kiosk.domain.wire.batch_message``)."""

    v: Literal[1]
    kiosk: KioskId
    from_seq: Annotated[StrictInt, Field(ge=1, le=2**62)]
    head: Hash
    sig: B64
    boots: Annotated[
        list[Annotated[StrictStr, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=500)
    ]
    events: Annotated[list[WireEvent], Field(min_length=1, max_length=10_000)]
    now: (
        tuple[Annotated[StrictStr, Field(min_length=1, max_length=64)], Annotated[StrictInt, Field(ge=0, le=2**62)]]
        | None
    ) = Field(default=None, description="(boot_id, mono_ms) when the batch was sent: anchors that boot's clock")
    report: KioskReport | None = None


class Ack(BaseModel):
    acked_seq: int = Field(description="every event up to here is stored; the kiosk may mark them synced")
    head: str = Field(description="chain hash at acked_seq")
    server_time: int = Field(description="ms since the epoch, by the server's clock")
    ref: int = Field(description="reference data version for this kiosk: pull when above yours")
    quarantined: list[int] = Field(default_factory=list, description="seqs of this batch the reducer refused")


class Status(BaseModel):
    kiosk_id: str
    status: str
    acked_seq: int
    head: str
    server_time: int
    ref: int
    quarantined: int
    max_batch_events: int
    max_body_bytes: int
    max_decompressed_bytes: int


class EnrollRequest(Strict):
    code: Annotated[str, Field(min_length=4, max_length=40)]
    public_key: B64
    proof: B64 = Field(description="signature of kiosk.domain.wire.enrollment_message(code, public_key)")
    kiosk_id: KioskId | None = Field(default=None, description="the id the kiosk already has, if any")


class Enrolled(BaseModel):
    kiosk_id: str
    replace: bool
    acked_seq: int
    head: str
    server_time: int


class Change(BaseModel):
    entity: str
    key: str
    op: Literal["put", "del"]
    value: Any = None
    version: int


class Pull(BaseModel):
    changes: list[Change]
    cursor: int
    more: bool


class RestorePage(BaseModel):
    events: list[tuple[int, str, str, int, str, int, str]] = Field(
        description="[seq, type, body (canonical JSON), device_time, boot_id, mono_ms, hash]"
    )
    quarantined: list[tuple[int, str]] = Field(
        default_factory=list,
        description="[seq, reason] of this page's events the reducer refused: kept in the chain, without effect",
    )
    acked_seq: int
    more: bool


class LoginRequest(Strict):
    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int


class EnrollmentRequest(Strict):
    kiosk_id: KioskId
    name: Annotated[str, Field(max_length=200)] = ""
    replace: bool = False
    hours: Annotated[int, Field(ge=1, le=24 * 30)] | None = None
    groups: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=50)] = []
    country: Annotated[str, Field(max_length=8, pattern=r"^[A-Z]*$")] | None = Field(
        default=None, description="where the kiosk will stand (a coordinator must give a place in their scope)"
    )
    cooperative: Annotated[str, Field(max_length=200)] | None = None
    template: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="the rule_template the groups start on (default: the default règlement)"
    )


class EnrollmentCode(BaseModel):
    code: str
    kiosk_id: str
    replace: bool
    expires_at: int


class KioskInfo(BaseModel):
    kiosk_id: str
    name: str
    status: str
    acked_seq: int
    head: str
    quarantined: int
    last_seen_at: int | None
    last_push_at: int | None


class ReferenceValue(Strict):
    value: dict[str, Any]
    kiosk_id: KioskId | None = Field(default=None, description="only for this kiosk (default: every kiosk)")


class ReferenceRow(BaseModel):
    entity: str
    key: str
    scope: str
    version: int
    deleted: bool
    value: Any = None
