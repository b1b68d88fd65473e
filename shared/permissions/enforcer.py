"""Casbin policy engine: file policies of the repo plus tenant policies from the database."""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable
from pathlib import Path

import casbin
from casbin.persist.adapters import FileAdapter
from casbin.util import key_match
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.metrics import count_decision

HERE = Path(__file__).parent
MODEL_PATH = HERE / "model.conf"
ROLES_PATH = HERE / "roles.csv"
# Policy line fields: sub, dom, obj, act, eft. The fast enforcer indexes by (obj, act).
FAST_KEY_ORDER = (2, 3)


class Decision(enum.Enum):
    ALLOW = "allow"
    OWNER_ONLY = "owner_only"
    DENY = "deny"


def _may_own(subjects: tuple[str, ...]) -> bool:
    """ "self" rules are for users: nobody anonymous, and no service, owns an object."""
    return not any(subject == "role:anonymous" or subject.startswith("service:") for subject in subjects)


class PolicyEngine:
    """Decides (subjects, domain, coordinate, action). Decisions are memoised per policy
    revision, so a warm process answers from a dict; `reload` bumps the revision."""

    def __init__(self, policy_files: Iterable[Path], defaults: Iterable[list[str]] = ()) -> None:
        """`defaults`: lines derived from the schema (`shared.permissions.defaults`)."""
        self.policy_files = [ROLES_PATH, *policy_files]
        self.enforce_calls = 0
        self.revision = 0
        self._memo: dict[tuple[tuple[str, ...], str, str, str], Decision] = {}
        self._lock = threading.Lock()
        self._explicit: set[str] = set()
        self._defaults = [list(line) for line in defaults]
        self._enforcer = self._build([])

    def _build(self, extra_lines: list[list[str]]) -> casbin.FastEnforcer:
        enforcer = casbin.FastEnforcer(str(MODEL_PATH), cache_key_order=list(FAST_KEY_ORDER))
        enforcer.add_named_domain_matching_func("g", key_match)
        for path in self.policy_files:
            FileAdapter(str(path)).load_policy(enforcer.get_model())
        for line in [*self._defaults, *extra_lines]:
            ptype, *rule = line
            enforcer.get_model().add_policy("p" if ptype.startswith("p") else "g", ptype, rule)
        enforcer.build_role_links()
        self._explicit = {rule[2] for rule in enforcer.get_model().get_policy("p", "p")}
        return enforcer

    async def load_tenant_policies(self, engine: AsyncEngine) -> None:
        """Adds tenant-specific rules stored in `casbin_rule` (async SQLAlchemy adapter)."""
        from casbin_async_sqlalchemy_adapter import Adapter

        collector = casbin.FastEnforcer(str(MODEL_PATH), cache_key_order=list(FAST_KEY_ORDER))
        await Adapter(engine).load_policy(collector.get_model())
        lines: list[list[str]] = []
        for sec in ("p", "g"):
            for ptype, assertion in collector.get_model().model.get(sec, {}).items():
                lines.extend([ptype, *rule] for rule in assertion.policy)
        with self._lock:
            self._enforcer = self._build(lines)
            self._memo = {}
            self.revision += 1

    def enforce(self, subject: str, domain: str, obj: str, act: str) -> bool:
        self.enforce_calls += 1
        return bool(self._enforcer.enforce(subject, domain, obj, act))

    def policy_object(self, coordinate: str) -> str:
        """A coordinate named in the policy is decided by its own rules; any other falls
        back to its type's `Type.*` rules. No rule at all means deny."""
        if coordinate in self._explicit:
            return coordinate
        return coordinate.split(".", 1)[0] + ".*"

    def decide(self, subjects: tuple[str, ...], domain: str, coordinate: str, action: str) -> Decision:
        key = (subjects, domain, coordinate, action)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        coordinate = self.policy_object(coordinate)
        if any(self.enforce(subject, domain, coordinate, action) for subject in subjects):
            decision = Decision.ALLOW
        elif _may_own(subjects) and self.enforce("self", domain, coordinate, action):
            decision = Decision.OWNER_ONLY
        else:
            decision = Decision.DENY
        count_decision(decision.value)
        if len(self._memo) > 50_000:
            self._memo.clear()
        self._memo[key] = decision
        return decision

    def lines(self) -> list[list[str]]:
        """Every `p` line in force: sub, dom, obj, act, eft."""
        return [list(rule) for rule in self._enforcer.get_model().get_policy("p", "p")]

    def has_policy_for(self, coordinate: str, action: str) -> bool:
        obj = self.policy_object(coordinate)
        return any(
            rule[2] == obj and rule[3] == action for rule in self._enforcer.get_model().get_policy("p", "p")
        )
