"""imageedit: the Django project."""
