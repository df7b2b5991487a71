"""The untrusted side: student code runs here, in separate, confined, resource-limited processes."""
from autograder.sandbox.client import Sandbox
from autograder.sandbox.isolation import detect_isolation
from autograder.sandbox.pool import SandboxPool, shared_pool

__all__ = ["Sandbox", "SandboxPool", "detect_isolation", "shared_pool"]
