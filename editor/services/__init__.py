"""Business logic: writes and AWS calls, one module a concern."""
