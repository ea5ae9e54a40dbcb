import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Jobs land in a fresh PIPETUNE_HOME; the working directory is a temp dir too."""
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / ".pipetune"))
    monkeypatch.delenv("PIPETUNE_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def vertex(request):
    """(backend, fake): the unchanged Vertex SDK talking TLS to the fake Vertex AI."""
    from google.auth.credentials import AnonymousCredentials
    from obs_cloud import vertex_conftest

    conf = vertex_conftest(request.config.pluginmanager)
    from fake_vertex import FakeVertex, serve

    from pipetune.backends.vertex import VertexBackend

    fake = FakeVertex(conf.PROJECT, conf.LOCATION)
    server, port = serve(fake, conf._CERT, conf._KEY)
    fake.endpoint = f"127.0.0.1:{port}"
    yield VertexBackend(project=conf.PROJECT, location=conf.LOCATION,
                        credentials=AnonymousCredentials(), api_endpoint=fake.endpoint), fake
    server.stop(grace=None)


@pytest.fixture
def moto_server(moto_endpoint, monkeypatch):
    """The module's moto server (SageMaker, CloudWatch), emptied for this test, and fake
    credentials."""
    import urllib.request

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset",
                                                  method="POST"), timeout=10).close()
    return moto_endpoint
