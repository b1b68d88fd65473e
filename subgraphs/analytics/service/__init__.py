"""The rules of the analytics subgraph: plain functions over sessions, no GraphQL."""
