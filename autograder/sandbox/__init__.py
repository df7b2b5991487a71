"""The untrusted side: student code runs here, in a separate, resource-limited process."""
from autograder.sandbox.client import Sandbox
from autograder.sandbox.isolation import detect_isolation

__all__ = ["Sandbox", "detect_isolation"]
