from scaleout_fixtures import home, pg_server, pg_url  # noqa: F401  (pytest fixtures)
