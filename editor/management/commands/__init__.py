"""Management commands of the editor app."""
