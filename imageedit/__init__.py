"""imageedit: the Django project."""

from imageedit.lazy_imports import lazy_imports_install

lazy_imports_install()
