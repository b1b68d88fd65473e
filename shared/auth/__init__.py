from shared.auth.principal import ANONYMOUS, Principal

__all__ = ["ANONYMOUS", "Principal"]
