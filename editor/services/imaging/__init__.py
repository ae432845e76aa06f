"""Images: decoding photos, what a model is sent of them, and putting its answer back at full resolution."""
