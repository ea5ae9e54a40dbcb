"""Storage URLs of the local engine: checked before use, relative paths made absolute, and
every failure to open one turned into an error that names ``storage`` (never a traceback).

Accepted: a journal file (``journal:///abs/path``, ``journal://rel/path`` or a bare path),
``sqlite:///path``, and SQLAlchemy URLs of PostgreSQL and MySQL (``postgresql://``,
``postgresql+psycopg://``, ``mysql+pymysql://``, ...). A relative path in a spec *file*
is relative to the file's folder, like ``trial.workdir``.

Example:
    >>> from pathlib import Path
    >>> resolve_storage_url("sqlite:///hpo.db", Path("/srv/tuning"))
    'sqlite:////srv/tuning/hpo.db'
    >>> resolve_storage_url("postgresql://db/hpo", Path("/srv/tuning"))
    'postgresql://db/hpo'
    >>> check_storage_url("redis://cache")
    Traceback (most recent call last):
    ...
    pipetune.errors.SpecError: invalid spec: storage: unknown scheme 'redis'; use a journal file path, sqlite:///PATH, postgresql://... or mysql://...
"""

from __future__ import annotations

import re
from pathlib import Path

from pipetune.errors import SpecError

_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
DATABASES = ("sqlite", "postgresql", "mysql")
_MAX_URL = 4096


def _scheme(url: str) -> tuple[str, str] | None:
    """``(dialect, driver)`` of a URL with a scheme, else None (a bare path)."""
    m = _SCHEME_RE.match(url)
    if not m:
        return None
    dialect, _, driver = m.group("scheme").lower().partition("+")
    return dialect, driver


def check_storage_url(url: str) -> str:
    """Refuse a URL no storage can open, without connecting: a :class:`SpecError` on
    ``storage`` that says what would be valid."""
    if not url.strip():
        raise SpecError("is empty; remove it (a journal file in the job's folder) or give a "
                        "URL", field="storage")
    if len(url) > _MAX_URL or "\x00" in url:
        raise SpecError(f"is not a usable URL (longer than {_MAX_URL} characters or holding a "
                        "NUL character)", field="storage")
    parts = _scheme(url)
    if parts is None:
        if "://" in url:
            raise SpecError("is not a URL: the scheme before '://' must be a word such as "
                            "sqlite or postgresql", field="storage")
        return url  # a journal file path
    dialect, driver = parts
    if dialect == "journal":
        if not url[len("journal://"):]:
            raise SpecError("journal:// needs a file path, e.g. journal:///data/hpo.log",
                            field="storage")
        return url
    if dialect == "postgres":
        raise SpecError("use postgresql:// (SQLAlchemy does not accept postgres://)",
                        field="storage")
    if dialect not in DATABASES:
        raise SpecError(f"unknown scheme {dialect!r}; use a journal file path, sqlite:///PATH, "
                        "postgresql://... or mysql://...", field="storage")
    return url


def probe_storage_url(url: str) -> None:
    """Whether the storage can be used, without writing anything: the database driver is
    installed, the folder of a journal or SQLite file exists, a database server answers
    (one connection, no table created). ``lint`` and ``launch`` both run it."""
    check_storage_url(url)
    parts = _scheme(url)
    if parts is None or parts[0] == "journal":
        path = Path(url[len("journal://"):] if parts else url)
        _check_folder(path.parent, url)
        return
    try:
        from sqlalchemy.engine.url import make_url

        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()
    except ImportError as exc:
        raise open_failure(url, exc) from None
    except Exception as exc:  # noqa: BLE001 (ArgumentError, NoSuchModuleError, ValueError)
        from pipetune.backends.local.jobstore import mask_url

        raise SpecError(f"{mask_url(url)} is not a valid database URL: "
                        f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}",
                        field="storage") from None
    if parts[0] == "sqlite":
        if parsed.database and parsed.database != ":memory:" \
                and not parsed.database.startswith("file:"):
            _check_folder(Path(parsed.database).parent, url)
        return
    _check_server(url)


def _check_server(url: str) -> None:
    """Connect once to a database server (no table is created): a host that does not answer,
    a refused login or a missing database is found before anything is written."""
    import sqlalchemy

    args = {"connect_timeout": 5} if "connect_timeout" not in url and \
        url.split("://", 1)[0] in ("postgresql", "postgresql+psycopg", "postgresql+psycopg2",
                                   "mysql+pymysql", "mysql") else {}
    engine = sqlalchemy.create_engine(url, connect_args=args, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 (OperationalError, InterfaceError, ...)
        raise open_failure(url, exc) from None
    finally:
        engine.dispose()


def _check_folder(folder: Path, url: str) -> None:
    if not folder.is_dir():
        raise SpecError(f"the folder {folder} of {url} does not exist; create it or use "
                        "another path", field="storage")


def resolve_storage_url(url: str, folder: Path) -> str:
    """``url`` with a relative file path (journal or SQLite) made absolute against ``folder``."""
    parts = _scheme(url)
    if parts is None:
        return url if Path(url).is_absolute() else str((folder / url).resolve())
    dialect, _ = parts
    if dialect == "journal":
        path = url[len("journal://"):]
        return url if path.startswith("/") else "journal://" + str((folder / path).resolve())
    if dialect == "sqlite":
        head, _, rest = url.partition(":///")
        if rest and not rest.startswith("/") and rest != ":memory:" and not rest.startswith("file:"):
            path, q, query = rest.partition("?")
            return f"{head}:///{(folder / path).resolve()}{q}{query}"
    return url


def open_failure(url: str, exc: BaseException) -> SpecError:
    """The error for a storage that would not open: what failed, in one line, no secret."""
    from pipetune.backends.local.jobstore import mask_url

    shown = mask_url(url)
    if isinstance(exc, SpecError):
        return exc
    if isinstance(exc, ImportError):
        missing = exc.name or getattr(exc.__cause__, "name", None) or str(exc)
        return SpecError(f"cannot open {shown}: its database driver is not installed "
                         f"({missing}); pip install it, or use another URL", field="storage")
    if isinstance(exc, OSError):
        where = exc.filename or shown
        return SpecError(f"cannot open {where}: {exc.strerror or exc}", field="storage")
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    detail = lines[0] if lines else type(exc).__name__
    _, _, password = url.partition("://")[2].rpartition("@")[0].partition(":")
    if password:
        detail = detail.replace(password, "***")
    return SpecError(f"cannot open {shown}: {detail[:300]}", field="storage")


__all__ = ["DATABASES", "check_storage_url", "open_failure", "probe_storage_url",
           "resolve_storage_url"]
