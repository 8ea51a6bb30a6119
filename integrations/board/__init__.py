"""The live status board: per site and work center what is running, held, waiting for inspection,
overdue, and what the legacy MES scheduled next — an in-memory store (Redis, or this process) kept up
to date from the outbox's event stream (docs/analytics.md)."""
