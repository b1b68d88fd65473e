"""The ai subgraph: its declaration is `subgraph` in `app.py`."""
