"""Compile a pipeline or component to a YAML file that loads back.

kfp 2.17's compiler writes a multi-line string default (a spec, say) into the file's
header comment with its continuation lines uncommented, which makes the whole file invalid
YAML: ``aiplatform.PipelineJob(template_path=...)`` and
``kfp.components.load_component_from_file`` then fail to parse it. :func:`compile_pipeline`
compiles with the header kept a comment and loads the result back before returning.

Example:
    >>> import tempfile, pathlib, yaml
    >>> from kfp import dsl
    >>> @dsl.pipeline(name="demo")
    ... def demo(spec: str = "parameters:\\n  - {name: x}\\n"):
    ...     pass
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo.yaml"
    >>> compile_pipeline(demo, out)
    >>> yaml.safe_load(out.read_text())["root"]["inputDefinitions"]["parameters"]["spec"]["defaultValue"]
    'parameters:\\n  - {name: x}\\n'
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import yaml
from kfp import compiler
from kfp.compiler import pipeline_spec_builder


def compile_pipeline(pipeline_func: Any, package_path: "str | Path", **kwargs: Any) -> None:
    """Compile ``pipeline_func`` (a ``@dsl.pipeline`` or a component) to ``package_path``.

    Args:
        pipeline_func: The pipeline or component to compile.
        package_path: Where to write the YAML.
        kwargs: Passed on to ``kfp.compiler.Compiler().compile`` (e.g. ``pipeline_parameters``).

    Raises:
        ValueError: the written file does not load back as YAML (a compiler defect this
            function does not know how to repair yet).
    """
    with _commented_header():
        compiler.Compiler().compile(pipeline_func, str(package_path), **kwargs)
    text = Path(package_path).read_text(encoding="utf-8")
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{package_path}: the compiled file is not valid YAML: {exc}") from None


@contextlib.contextmanager
def _commented_header() -> Iterator[None]:
    """While compiling, every line of the header the compiler writes starts with ``#``."""
    original = pipeline_spec_builder.extract_comments_from_pipeline_spec

    def commented(*args: Any, **kwargs: Any) -> str:
        header = original(*args, **kwargs)
        return "".join(line if line.startswith("#") else f"#      {line}"
                       for line in header.splitlines(keepends=True))

    pipeline_spec_builder.extract_comments_from_pipeline_spec = commented
    try:
        yield
    finally:
        pipeline_spec_builder.extract_comments_from_pipeline_spec = original
