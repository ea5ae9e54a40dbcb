import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Jobs land in a fresh PIPETUNE_HOME; the working directory is a temp dir too."""
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / ".pipetune"))
    monkeypatch.delenv("PIPETUNE_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def vertex(vertex_backend, fake_vertex):
    """(backend, fake): the unchanged Vertex SDK talking TLS to the fake Vertex AI."""
    return vertex_backend, fake_vertex
