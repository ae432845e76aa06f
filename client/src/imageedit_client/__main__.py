"""`python -m imageedit_client`: the same as the `imageedit` command."""

import sys

from imageedit_client.cli import main

sys.exit(main())
