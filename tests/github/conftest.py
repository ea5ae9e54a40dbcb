"""Fixtures and helpers live in github_helpers.py: a uniquely named module, so a test can
import them without picking up another folder's conftest."""

from github_helpers import *  # noqa: F401,F403
