"""The analytics subgraph: its declaration is `subgraph` in `app.py`."""
