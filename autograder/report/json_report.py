"""The result object as JSON: every field, for tools and the gradebook."""
from __future__ import annotations

import json

from autograder.result import GradeResult


def render_json(result: GradeResult) -> str:
    """``result.to_dict()`` as indented JSON."""
    return json.dumps(result.to_dict(), indent=2)
