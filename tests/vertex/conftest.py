"""The Vertex tests' ``backend``: pipetune's VertexBackend on the fake Vertex AI (the fake
and its TLS set-up are shared fixtures in tests/conftest.py)."""

import pytest


@pytest.fixture
def backend(vertex_backend):
    return vertex_backend
