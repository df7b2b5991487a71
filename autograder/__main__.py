"""``python -m autograder``: the ``autograder`` command, for bundles that run the kit in place."""
import sys

from autograder.cli import main

sys.exit(main())
