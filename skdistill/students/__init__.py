"""Compact students that learn from the teachers' soft targets."""
