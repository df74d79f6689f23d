"""``python -m ketephys`` runs the ``ketephys`` command."""

import sys

from .cli import main

sys.exit(main())
