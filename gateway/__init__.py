"""The platform layer that knows every subgraph: CLI, dev host, composition, registry."""
