"""Fixtures for the SageMaker backend tests: fake credentials, specs, and a
Stubber-backed client validated against the real service model."""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.stub import Stubber

from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.spec import load_spec
from sm_fixtures import MINIMAL


@pytest.fixture(autouse=True)
def _no_real_aws(fake_aws_credentials, monkeypatch, tmp_path):
    """Fake credentials so nothing ever reaches a real account; a fresh PIPETUNE_HOME."""
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / "home"))


@pytest.fixture
def minimal() -> dict:
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def minimal_spec(minimal):
    return load_spec(minimal)


@pytest.fixture
def stubbed():
    """(backend, stubber): every request and response is checked against botocore's model."""
    client = boto3.client("sagemaker", region_name="us-east-1")
    stubber = Stubber(client)
    with stubber:
        yield SageMakerBackend(client=client), stubber
        stubber.assert_no_pending_responses()
