"""The rules of the ai subgraph, by sub-domain: `recommendations` (seeds, consent, lineage),
`registry` (models, promotion, rollback), `training` (the recommender's fit, evaluation and
registration). Plain functions over a session or a context, no GraphQL."""
