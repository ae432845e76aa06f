"""The cold-start baseline: a minimal Django + DRF project with one view, packaged by Zappa like imageedit."""
