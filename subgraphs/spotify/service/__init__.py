"""The rules of the spotify domain, one module per sub-domain (as in schema/): plain functions
over the request context (reads) or a unit of work (writes); they raise domain errors and know
nothing of GraphQL. `pages` decodes offset cursors and page sizes; who may write is decided by
`shared.auth.principal.acting_user`."""
