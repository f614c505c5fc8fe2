"""``python -m collabadmin.cli``."""

import sys

from collabadmin.cli.main import main

sys.exit(main())
