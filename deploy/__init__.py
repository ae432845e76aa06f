"""Deployment helpers: the Lambda package build."""
