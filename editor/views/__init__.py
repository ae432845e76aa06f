"""API and page views."""
