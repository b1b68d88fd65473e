from shared.db.engine import Database, get_database
from shared.db.ids import new_id
from shared.db.mixins import (
    SoftDeleteMixin,
    TenantMixin,
    TimestampMixin,
    UTCDateTime,
    VersionMixin,
    utcnow,
)
from shared.db.repository import TenantRepository

__all__ = [
    "Database",
    "SoftDeleteMixin",
    "TenantMixin",
    "TenantRepository",
    "TimestampMixin",
    "UTCDateTime",
    "VersionMixin",
    "get_database",
    "new_id",
    "utcnow",
]
