"""Several Rasa servers and action servers behind nginx, on PostgreSQL and Redis (docs/scaling.md)."""
