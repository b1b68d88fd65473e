from shared.audit.models import AuditChainHead, AuditRecord
from shared.audit.service import record, verify_chains

__all__ = ["AuditChainHead", "AuditRecord", "record", "verify_chains"]
