"""The search subgraph: its declaration is `subgraph` in `app.py`."""
