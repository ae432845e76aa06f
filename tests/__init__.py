"""Tests: mirror editor/ and devstack/."""
