"""Query and command functions. They take an AsyncSession and plain values, never a request."""
