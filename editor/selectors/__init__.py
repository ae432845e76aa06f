"""Reads, one module a concern: an edit, the history, a photo's versions, batches; never a write."""
