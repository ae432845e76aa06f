"""Bedrock image models: task rules, one adapter per model family, pricing, and the InvokeModel call."""
