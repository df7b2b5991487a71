"""``python -m autograder``: the ``autograder`` command, for bundles that run the kit in place."""
from autograder.cli import run

run()
