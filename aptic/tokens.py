"""Personal API tokens: created, shown once, looked up by digest, revoked."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from . import audit
from .models import ApiToken
from .permissions import is_operator
from .prepared import Prepared

# A token used again within this delay does not rewrite its last-used date (one write per
# minute at most, not one per request).
LAST_USED_RESOLUTION_SECONDS = 60


def digest_of(key):
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_token(*, user, name):
    """Return (token, key); the key is never stored and cannot be shown again."""
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[: ApiToken.PREFIX_LENGTH], digest=digest_of(key)
    )
    audit.record(user, token, "api_token.created", "", "active")
    return token, key


def may_revoke(user, token):
    return token.user_id == user.pk or is_operator(user)


@transaction.atomic
def revoke_token(*, token, by):
    if not may_revoke(by, token):
        raise PermissionError("Only the owner or the operator may revoke a token.")
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    if changed:
        audit.record(by, token, "api_token.revoked", "active", "revoked")
    return bool(changed)


# Every API call asks: compiled once (aptic.prepared). Read each time, never cached, so that
# a revoked token (or a deactivated user) is refused at once.
_ACTIVE_TOKEN = Prepared(lambda digest: ApiToken.objects.active().select_related("user")
                         .filter(digest=digest)[:1])


def authenticate(key):
    """The active token for `key`, or None; refreshes its last-used date at most once per
    LAST_USED_RESOLUTION_SECONDS."""
    found = _ACTIVE_TOKEN(digest_of(key))
    if not found:
        return None
    token = found[0]
    now = timezone.now()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
