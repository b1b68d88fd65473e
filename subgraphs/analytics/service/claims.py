"""Which artists a tenant may see: the ones it has claimed and the platform has verified.
A tenant admin claims (recorded, audited, `PENDING`); a platform admin verifies; analytics of
an artist the tenant has no verified claim on are FORBIDDEN, the same answer whether the
artist exists or not (no probing of the catalogue through errors)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import signed_in_user, tenant_of
from shared.context import RequestContext
from shared.db import new_id, utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound
from shared.mutations import UnitOfWork
from subgraphs.analytics.models import AnalyticsArtistClaim
from subgraphs.analytics.repository import (
    PENDING,
    VERIFIED,
    CatalogueRepository,
    ClaimRepository,
    claim_by_id,
    pending_across_tenants,
)

NOT_CLAIMED = "Analytics of this artist are for the tenants that have claimed it"


MAX_PENDING = 200


async def require_claimed(session: AsyncSession, tenant_id: str, artist_id: str) -> None:
    claim = await ClaimRepository(session, tenant_id).of_artist(artist_id)
    if claim is None or claim.status != VERIFIED:
        raise Forbidden(NOT_CLAIMED, artistId=artist_id)


async def claimed_artists(session: AsyncSession, tenant_id: str) -> list[str]:
    return await ClaimRepository(session, tenant_id).verified_artists()


async def claims(context: RequestContext) -> Sequence[AnalyticsArtistClaim]:
    tenant_id = tenant_of(context.principal)
    async with context.runtime.db.read() as session:
        return await ClaimRepository(session, tenant_id).all()


async def claim_artist(uow: UnitOfWork, context: RequestContext, artist_id: str) -> AnalyticsArtistClaim:
    tenant_id, user_id = signed_in_user(context.principal)
    session = uow.session
    if await CatalogueRepository(session).artist(artist_id) is None:
        raise NotFound("No such artist", artistId=artist_id)
    claims = ClaimRepository(session, tenant_id)
    if await claims.of_artist(artist_id) is not None:
        raise Conflict("This tenant has already claimed this artist", artistId=artist_id)
    verify_now = not context.runtime.config.analytics_verify_claims
    claim = claims.add(
        AnalyticsArtistClaim(
            id=new_id("clm"),
            tenant_id=tenant_id,
            artist_id=artist_id,
            status=VERIFIED if verify_now else PENDING,
            claimed_by=user_id,
            verified_by=user_id if verify_now else None,
            verified_at=utcnow() if verify_now else None,
        )
    )
    await session.flush()
    uow.target_id = claim.id
    return claim


def _require_platform_admin(context: RequestContext, tenant_id: str) -> None:
    if tenant_id not in context.runtime.settings.platform_admin_tenant_ids:
        raise Forbidden("Claims are verified by the platform's admins")


async def pending_claims(context: RequestContext, limit: int) -> Sequence[AnalyticsArtistClaim]:
    """Every tenant's claims waiting for verification, oldest first (platform admins)."""
    _require_platform_admin(context, tenant_of(context.principal))
    if not 1 <= limit <= MAX_PENDING:
        raise BadUserInput(f"first must be 1 to {MAX_PENDING}", field="first")
    return await pending_across_tenants(await context.session(), limit)


async def verify_claim(uow: UnitOfWork, context: RequestContext, claim_id: str) -> AnalyticsArtistClaim:
    tenant_id, user_id = signed_in_user(context.principal)
    _require_platform_admin(context, tenant_id)
    claim = await claim_by_id(uow.session, claim_id)
    if claim is None:
        raise NotFound("No such claim", id=claim_id)
    if claim.status == VERIFIED:
        raise Conflict("The claim is already verified", id=claim_id)
    claim.status, claim.verified_by, claim.verified_at = VERIFIED, user_id, utcnow()
    uow.session.add(claim)
    uow.target_id, uow.tenant_id = claim.id, claim.tenant_id
    return claim


async def release_claim(uow: UnitOfWork, context: RequestContext, artist_id: str) -> AnalyticsArtistClaim:
    tenant_id, _ = signed_in_user(context.principal)
    claims = ClaimRepository(uow.session, tenant_id)
    claim = await claims.of_artist(artist_id)
    if claim is None:
        raise NotFound("This tenant has no claim on this artist", artistId=artist_id)
    await uow.session.delete(claim)
    uow.target_id = claim.id
    return claim


async def record_verified(session: AsyncSession, tenant_id: str, artist_ids: Sequence[str], by: str) -> int:
    """Claims the platform itself vouches for (the sample account's artists offline)."""
    if not artist_ids:
        raise BadUserInput("no artists to claim")
    claims = ClaimRepository(session, tenant_id)
    added = 0
    for artist_id in artist_ids:
        if await claims.of_artist(artist_id) is None:
            claims.add(
                AnalyticsArtistClaim(
                    id=new_id("clm"),
                    tenant_id=tenant_id,
                    artist_id=artist_id,
                    status=VERIFIED,
                    claimed_by=by,
                    verified_by=by,
                    verified_at=utcnow(),
                )
            )
            added += 1
    return added
