"""The notifications subgraph: its declaration is `subgraph` in `app.py`."""
