"""What the ai subgraph runs with beyond the platform: recommendation limits, the training
schedule and promotion rule, and the production models each serving process keeps loaded."""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis
from pydantic import Field

from shared.config import Settings, SubgraphSettings
from shared.runtime import SubgraphRuntime
from subgraphs.ai.recommender.store import ModelStore


class AiSettings(SubgraphSettings):
    ai_max_recommendations: int = 100
    """The most `first` may ask for (BAD_USER_INPUT above)."""
    ai_max_tracks_per_artist: int = 3
    """At most this many tracks of one artist in a recommendation list."""
    ai_history_plays: int = 500
    """The latest plays of a user a personal seed is built from."""
    ai_tenant_genre_plays: int = 2_000
    """The latest plays of a tenant its non-personal (no consent) recommendations lean on."""
    ai_model_refresh_seconds: float = 5.0
    """How often a serving process checks which recommender version is in production."""
    ai_auto_promote: bool = True
    """A trained candidate that beats production on NDCG@10 (or the first one) is promoted."""
    ai_train_at_startup: bool = True
    """Train when the worker starts if no recommender is in production yet, and again when the
    data grew by half since (checked every two minutes); the nightly run trains regardless."""
    ai_log_recommendations: bool = True
    """Record every served list with its model version (lineage)."""
    ai_lineage_days: int = 90
    """Served lists older than this are deleted (daily)."""
    ai_daily_token_budget: int = 200_000
    """Tokens a tenant may spend on generation a day, unless its admins set another budget."""
    ai_graph_url: str | None = None
    """Where generation reads its subject's facts (GraphQL, with a service token); default:
    the router on this host."""
    llm_base_url: str | None = None
    """An OpenAI-compatible chat completions API (OpenAI, vLLM, Ollama, llama.cpp's server);
    unset: the offline template composer writes, and says so."""
    llm_api_key: str | None = Field(default=None, repr=False)
    llm_model: str | None = None
    llm_connect_timeout: float = 5.0
    llm_read_timeout: float = 30.0

    def graph_url(self, platform: Settings) -> str:
        return self.ai_graph_url or f"http://127.0.0.1:{platform.router_port}/graphql"


@dataclass
class AiServices:
    models: ModelStore
    job_queue: ArqRedis | None = None
    """Connected when the app starts (arq binds to the running loop)."""


def build_services(runtime: SubgraphRuntime[AiSettings, None]) -> AiServices:
    return AiServices(models=ModelStore(runtime.db, runtime.config.ai_model_refresh_seconds))


async def connect_job_queue(runtime: SubgraphRuntime[AiSettings, AiServices]) -> None:
    if runtime.services.job_queue is None:
        runtime.services.job_queue = ArqRedis.from_url(runtime.redis_url)
