"""Who may act where a check used to be an `assert`: a tenant for any caller, a user (or
their API key) for personal acts, a person only for `signed_in_user`."""

from __future__ import annotations

import pytest

from shared.auth.principal import ANONYMOUS, Principal, acting_user, signed_in_user, tenant_of
from shared.errors import Forbidden, Unauthenticated

USER = Principal(kind="user", user_id="usr_1", tenant_id="tnt_1")
KEY = Principal(kind="api_key", user_id="usr_1", tenant_id="tnt_1", api_key_id="key_1")
SERVICE = Principal(kind="service", service="ai", tenant_id="tnt_1")
PLATFORM_SERVICE = Principal(kind="service", service="registry")


def test_each_caller_gets_its_ids_or_the_right_refusal() -> None:
    assert tenant_of(USER) == tenant_of(KEY) == tenant_of(SERVICE) == "tnt_1"
    assert acting_user(USER) == acting_user(KEY) == ("tnt_1", "usr_1")
    assert signed_in_user(USER) == ("tnt_1", "usr_1")
    for check in (tenant_of, acting_user, signed_in_user):
        with pytest.raises(Unauthenticated):
            check(ANONYMOUS)
    with pytest.raises(Forbidden):
        tenant_of(PLATFORM_SERVICE)
    with pytest.raises(Forbidden):
        acting_user(SERVICE)
    with pytest.raises(Forbidden):
        signed_in_user(KEY)
