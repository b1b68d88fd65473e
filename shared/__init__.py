"""Code every subgraph uses: config, db, auth, permissions, errors, audit, app factory."""
