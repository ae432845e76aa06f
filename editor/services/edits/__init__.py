"""The edit lifecycle, one module per step: creation, admission, running, expiry, deletion."""
