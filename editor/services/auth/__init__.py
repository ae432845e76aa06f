"""Sign-in and access: Cognito calls, account life cycle, token checks, revocation, limits, web sessions."""
