"""Which libraries a piece of Python source imports, read from its syntax tree (nothing is run)."""
from __future__ import annotations

import ast


def module_roots(nodes: list[ast.AST]) -> set[str]:
    """The top-level names of the modules imported among ``nodes`` (absolute imports only)."""
    roots = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            roots |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.partition(".")[0])
    return roots
