from shared.permissions.enforcer import Decision, PolicyEngine
from shared.permissions.extension import FieldAuthorization
from shared.permissions.fields import FieldRule, protected

__all__ = ["Decision", "FieldAuthorization", "FieldRule", "PolicyEngine", "protected"]
