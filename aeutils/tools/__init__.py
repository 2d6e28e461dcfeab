"""Maintainers' tools: run the course headless and regenerate its tables (not for learners)."""
