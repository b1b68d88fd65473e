"""The rules of the notifications subgraph: plain functions over a session, no GraphQL."""
