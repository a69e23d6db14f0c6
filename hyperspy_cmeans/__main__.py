"""``python -m hyperspy_cmeans demo --out DIR``."""

import sys

from hyperspy_cmeans.cli import main

sys.exit(main())
