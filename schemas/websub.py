"""A feed's WebSub subscription: what a restarted ingester needs to keep receiving pushes and to
answer the hub's verification requests.

Stored in the compacted Kafka topic ``watchfloor.state`` under key ``websub:<feed id>`` (one
subscription per feed). The secret is stored with it: pushes signed with it may arrive after a restart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_serializer

PendingMode = Literal["subscribe", "unsubscribe"]


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feed_id: str
    topic: str = Field(description="The feed's rel=self URL (or the URL it was fetched from).")
    hub: str = Field(description="The hub's URL, from the feed's Link header or rel=hub link.")
    token: str = Field(description="Unguessable last path segment of the callback URL.")
    callback: str = Field(description="The full callback URL sent as hub.callback.")
    secret: SecretStr = Field(description="hub.secret: the HMAC key of this subscription's pushes.")
    pending: PendingMode | None = Field(
        default=None, description="A request the hub has not verified yet (a renewal included)."
    )
    requested: AwareDatetime | None = Field(default=None, description="When `pending` was sent.")
    verified: AwareDatetime | None = None
    lease_s: int | None = Field(default=None, description="hub.lease_seconds granted at verification.")
    expires: AwareDatetime | None = Field(default=None, description="verified + lease_s.")
    failures: int = Field(default=0, description="Failed or unverified requests in a row (backoff).")
    retry_at: AwareDatetime | None = Field(default=None, description="No new request before this.")
    last_error: str | None = None

    @field_serializer("secret", when_used="json")
    def _secret_value(self, secret: SecretStr) -> str:
        """Stored in clear on the state topic: the subscriber must check signatures after a restart."""
        return secret.get_secret_value()

    @property
    def key(self) -> str:
        return f"websub:{self.feed_id}"

    def active(self, now: datetime) -> bool:
        """The hub verified it and its lease has not run out: pushes are expected."""
        return self.expires is not None and self.expires > now
