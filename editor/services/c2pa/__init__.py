"""Content Credentials (C2PA): sign every result with a manifest, and read one back."""
