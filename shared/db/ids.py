import secrets
import time


def new_id(prefix: str) -> str:
    """Opaque, roughly time-ordered id: `usr_0190f3c2a1b4e9d1c0ffee...`."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"
