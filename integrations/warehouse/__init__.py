"""The warehouse for problem-solving: a star schema in Parquet, refreshed incrementally from Traveler's
database and from the legacy systems' own history, queried with DuckDB (docs/analytics.md)."""
