"""The ``mkg`` command: build, validate, serve (and the tools around them).

Tier modules are imported inside each command, so ``mkg serve`` never loads the validators and
``mkg build`` never loads Flask.

Exit codes: 0 success; 1 the data violates the shapes or the ontology; 2 unusable input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import config

__all__ = ["main"]


def _settings(base_iri: str | None = None, release_dir: str | None = None) -> dict:
    settings = config.load()
    if base_iri:
        settings["BASE_IRI"] = base_iri if base_iri.endswith("/") else base_iri + "/"
    if release_dir:
        settings["RELEASE_DIR"] = release_dir
    return settings


def _print_problems(err) -> None:
    click.echo(f"mkg: the input cannot be built ({len(err.problems)} problem(s)):", err=True)
    for problem in err.problems:
        click.echo(f"  {problem}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """mkg: publish what documents say about militant organizations as linked data."""


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False), help="Curated input (default: data/).")
@click.option("--release-dir", type=click.Path(file_okay=False), help="Where releases go (default: release/).")
@click.option("--base-iri", help="Base of every minted IRI (default: MKG_BASE_IRI or http://127.0.0.1:8080/).")
@click.option("--version", "version", help="Release version (default: a hash of the inputs).")
def build(data_dir, release_dir, base_iri, version) -> None:
    """Build, validate and publish a release into release/ (atomic; nothing on failure)."""
    from .checks import CheckError
    from .release import BuildFailed, build as run_build
    from .sources import SourceErrors

    settings = _settings(base_iri, release_dir)
    try:
        built = run_build(settings, data_dir=data_dir and Path(data_dir), version=version)
    except SourceErrors as err:
        _print_problems(err)
        sys.exit(2)
    except CheckError as err:
        click.echo(f"mkg: validation could not run: {err}", err=True)
        sys.exit(2)
    except BuildFailed as err:
        click.echo(err.report.summary(), err=True)
        click.echo(f"mkg: validation failed; nothing was published. Reports: {err.report_dir}", err=True)
        sys.exit(1)
    click.echo(built.report.summary() if built.report is not None else "validation skipped")
    click.echo(f"mkg: published release {built.version} ({built.triples} triples) at {built.path}")


@main.command()
@click.option("--data", "data_file", type=click.Path(dir_okay=False), help="Validate this RDF file (Turtle, N-Triples, RDF/XML, JSON-LD) instead of data/.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Curated input (default: data/).")
@click.option("--report", "report_file", type=click.Path(dir_okay=False), help="Write the SHACL report as Turtle here.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="Write a JUnit XML report here (for CI).")
def validate(data_file, data_dir, report_file, junit_file) -> None:
    """Validate against the ontology and shapes: exit 0 conforms, 1 violations, 2 unusable input."""
    from .checks import CheckError
    from .validation import ValidationInputError, validate_file, validate_corpus
    from .sources import SourceErrors

    settings = _settings()
    try:
        report = validate_file(settings, Path(data_file)) if data_file else validate_corpus(settings, data_dir and Path(data_dir))
    except SourceErrors as err:
        _print_problems(err)
        sys.exit(2)
    except (ValidationInputError, CheckError) as err:
        click.echo(f"mkg: {err}", err=True)
        sys.exit(2)
    click.echo(report.summary())
    if report_file:
        Path(report_file).write_text(report.graph.serialize(format="turtle") if report.graph is not None else "", encoding="utf-8")
    if junit_file:
        Path(junit_file).write_text(report.to_junit(), encoding="utf-8")
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.option("--triples", required=True, type=int, help="About how many triples to make.")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed and size, same output.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="A new (or empty) folder.")
@click.option("--format", "fmt", default="yaml", show_default=True, type=click.Choice(["yaml", "nt", "release"]),
              help="yaml: a data folder for mkg build; nt: the build's data.nt; release: a servable release.")
def synth(triples, seed, out_dir, fmt) -> None:
    """Generate deterministic synthetic data in the mkg ontology (benchmarks, scale tests)."""
    from .synth import SynthError, generate

    try:
        click.echo(f"mkg: {generate(triples, seed, Path(out_dir), fmt, _settings())}")
    except SynthError as err:
        click.echo(f"mkg: {err}", err=True)
        sys.exit(2)


@main.command("load-remote")
@click.option("--gsp", "gsp_url", required=True, help="Graph Store Protocol endpoint of the engine (Oxigraph: http://host:7878/store).")
@click.option("--query", "query_url", help="Its SPARQL query endpoint, to check what it holds afterwards (Oxigraph: http://host:7878/query).")
@click.option("--release-dir", type=click.Path(file_okay=False), help="Release to load (default: release/).")
def load_remote(gsp_url, query_url, release_dir) -> None:
    """Load the release into an external SPARQL engine, for mkg serve --store URL."""
    from .remote import LoadError, load_release, verify
    from .store import ReleaseError, open_release

    settings = _settings(release_dir=release_dir)
    try:
        release = open_release(settings["RELEASE_DIR"], settings["BASE_IRI"])
        for graph in load_release(release, gsp_url):
            click.echo(f"mkg: loaded {graph}")
        if query_url:
            loaded = verify(release, query_url, release.manifest.get("counts", {}).get("triples"))
            click.echo(f"mkg: the engine holds release {loaded.version}: {loaded.graphs}")
    except (ReleaseError, LoadError) as err:
        click.echo(f"mkg: {err}", err=True)
        sys.exit(2)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--release-dir", type=click.Path(file_okay=False), help="Release to serve (default: release/).")
@click.option("--store", "store_url", help="Serve from this external SPARQL 1.1 endpoint instead of the embedded store.")
@click.option("--workers", default=1, show_default=True, type=int, help="gunicorn worker processes.")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per gunicorn worker.")
def serve(host, port, release_dir, store_url, workers, threads) -> None:
    """Serve the release over HTTP (builds it first if there is none)."""
    settings = _settings(release_dir=release_dir)
    current = Path(settings["RELEASE_DIR"]) / "current"
    if not current.exists():
        click.echo("mkg: no release yet; building one first")
        from .release import BuildFailed, build as run_build
        from .sources import SourceErrors

        try:
            run_build(settings)
        except SourceErrors as err:
            _print_problems(err)
            sys.exit(2)
        except BuildFailed as err:
            click.echo(err.report.summary(), err=True)
            sys.exit(1)
    overrides = {"RELEASE_DIR": settings["RELEASE_DIR"]}
    if store_url:
        overrides["STORE_URL"] = store_url
    click.echo(f"mkg: serving on http://{host}:{port}/ (SPARQL endpoint: http://{host}:{port}/sparql); Ctrl-C stops")
    from .wsgi import run_gunicorn

    run_gunicorn(overrides, bind=f"{host}:{port}", workers=workers, threads=threads)
