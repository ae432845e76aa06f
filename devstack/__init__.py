"""Local stand-ins for the AWS services imageedit uses (never packaged for Lambda)."""
