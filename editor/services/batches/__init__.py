"""Batches: many edits asked at once, queued on SQS and worked one item per message (docs/batches.md)."""
