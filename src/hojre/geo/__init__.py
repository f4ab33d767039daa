"""Geography: countries, Iran's provinces ("states"), cities and neighbourhoods ("hoods")."""
