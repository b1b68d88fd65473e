"""The accounts subgraph's schema: Query, Mutation and Subscription assembled from one module
per sub-domain (sessions, members, api_keys, consents, spotify, events); their inputs and
payloads are in `inputs`. Resolvers are thin: they parse their input, call one function of
service/, and return the payload."""

from __future__ import annotations

import strawberry

from shared.config import Settings
from shared.schema import PlatformSchema, build_schema
from subgraphs.accounts.schema.api_keys import ApiKeyMutation, ApiKeyQuery
from subgraphs.accounts.schema.consents import ConsentMutation
from subgraphs.accounts.schema.events import AccountEventSubscription
from subgraphs.accounts.schema.members import MemberMutation, MemberQuery
from subgraphs.accounts.schema.sessions import SessionMutation, SessionQuery
from subgraphs.accounts.schema.spotify import SpotifyMutation, SpotifyQuery
from subgraphs.accounts.types import Tenant, User


@strawberry.type
class Query(SessionQuery, MemberQuery, ApiKeyQuery, SpotifyQuery):
    pass


@strawberry.type
class Mutation(SessionMutation, MemberMutation, ApiKeyMutation, ConsentMutation, SpotifyMutation):
    pass


@strawberry.type
class Subscription(AccountEventSubscription):
    pass


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(
        settings, query=Query, mutation=Mutation, subscription=Subscription, types=[User, Tenant]
    )
