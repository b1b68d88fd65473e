"""The rules of the spotify domain, one module per sub-domain (as in schema/): plain functions
over the request context (reads) or a unit of work (writes); they raise domain errors and know
nothing of GraphQL. `access` says who may write; `pages` decodes cursors and page sizes."""
