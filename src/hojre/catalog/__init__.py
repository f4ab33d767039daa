"""The catalogue: bazaar categories, bazaars, malls, stores (with sellers), products, media."""
