"""A store's customers (API.md §5): physical (were at the store), virtual (never there)."""
