"""``python -m hyperspy_cmeans demo --out DIR``."""

import sys

from hyperspy_cmeans._cli import main

sys.exit(main())
