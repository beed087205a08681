"""Report and evidence commands: report, compare, bundle, verify, keys generate, import.

Mounted by `assay.cli` through `register(app)`. Thin: parse, call `assay.api`, print.
Every command that needs stored runs talks to a `RunSource` (read) or `RunSink` (import):
small protocols that `assay.store.Store` satisfies, so the commands are tested with an
in-memory fake. `configure(source_factory=...)` swaps the store for tests or embedding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from assay._lazy import lazy_module
from assay.cli._common import DbOpt, console, err_console, make_app
from assay.core.errors import InputError
from assay.core.files import check_output_file, write_atomic
from assay.report.limits import SAMPLE_CAP

if TYPE_CHECKING:
    from assay import api
    from assay.evidence import bundle as _bundle
    from assay.evidence.bundle import RunSink, import_bundle
    from assay.report import runs as _runs
else:  # loaded by the commands that use them, not by `assay --help`
    api = lazy_module("assay.api")
    _bundle = lazy_module("assay.evidence.bundle")
    _runs = lazy_module("assay.report.runs")

__all__ = ["RunSink", "import_bundle"]


def __getattr__(name: str) -> Any:
    """`RunSink` and `import_bundle`, re-exported from `assay.evidence.bundle` when first read."""
    if name in __all__:
        return getattr(_bundle, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _default_factory(db: str | None) -> Any:
    from assay.store import Store

    return Store(db)


_factory: Callable[[str | None], Any] = _default_factory


def configure(source_factory: Callable[[str | None], Any] | None = None) -> None:
    """Use `source_factory(db_url)` instead of the store (None restores the store)."""
    global _factory
    _factory = source_factory or _default_factory


def _source(db: str | None) -> Any:
    return _factory(db)


# ------------------------------------------------------------------ commands


def report_cmd(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="html | md | json | junit")] = "html",
    lang: Annotated[
        str | None, typer.Option("--lang", help="zh | en (default: lang in the config file, else en)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: assay-reports/<run>.<ext>).")
    ] = None,
    db: DbOpt = None,
    sample_cap: Annotated[
        int,
        typer.Option(
            "--sample-cap",
            min=0,
            help="Cases shown per requirement and breakdown row (stratified by outcome; every figure "
            "counts every case). 0: show every case (the report then grows with the run).",
        ),
    ] = SAMPLE_CAP,
) -> None:
    """Write a run's report: self-contained HTML, Markdown summary, JSON (schema assay.report/2) or JUnit XML."""
    from assay.core.config import default_lang
    from assay.report.formats import FORMATS
    from assay.report.i18n import check_lang

    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}", where="--format")
    lang = check_lang(default_lang(lang))
    if out is not None:
        check_output_file(out, "--out")
    path = _runs.write_report(_source(db), run_id, fmt, lang, out, sample_cap=sample_cap or None)
    console.print(f"report: {escape(str(path))}")


def compare_cmd(
    run_a: Annotated[str, typer.Argument(help="Baseline run id.")],
    run_b: Annotated[str, typer.Argument(help="Candidate run id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="html | md | json")] = "md",
    lang: Annotated[
        str | None, typer.Option("--lang", help="zh | en (default: lang in the config file, else en)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write here instead of printing (md) / assay-reports (html)."),
    ] = None,
    adjust: Annotated[
        str, typer.Option("--adjust", help="Multiple-comparison adjustment: holm | bh | none")
    ] = "holm",
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="Exit with code 1 when any regression is flagged.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Deltas per requirement and category between two runs, with adjusted significance and flagged regressions."""
    from assay.core.config import default_lang
    from assay.report.i18n import check_lang

    if adjust not in ("holm", "bh", "none"):
        raise InputError(f"unknown adjustment {adjust!r}; use holm, bh or none", where="--adjust")
    if fmt not in api.COMPARE_FORMATS:
        raise InputError(f"unknown compare format {fmt!r}; use html, md or json", where="--format")
    lang = check_lang(default_lang(lang))
    if out is not None:
        check_output_file(out, "--out")
    comp = api.compare(run_a, run_b, adjust=adjust, store=_source(db))
    text = api.render_comparison(comp, fmt, lang)
    if out is None and fmt == "html":
        out = Path("assay-reports") / f"compare-{comp.run_a.id}-{comp.run_b.id}.html"
    if out is not None:
        write_atomic(check_output_file(out, "--out"), text)
        console.print(f"comparison: {escape(str(out))}")
    else:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    regs = comp.regressions
    if regs:
        err_console.print(
            f"[bold red]{len(regs)} regression(s):[/] " + escape(", ".join(r.key for r in regs))
        )
        if fail_on_regression:
            raise typer.Exit(1)


def bundle_cmd(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Bundle file (default: <run>.bundle.zip).")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Ed25519 private key (PEM file); default $ASSAY_SIGNING_KEY.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Write a signed evidence bundle (zip + SHA-256 manifest + Ed25519 signature) for a run."""
    path = api.bundle(run_id, out, key=key, store=_source(db))
    console.print(f"bundle: {escape(str(path))}")


def verify_cmd(
    bundle: Annotated[Path, typer.Argument(help="Bundle zip.")],
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="Trusted public key (PEM file); the bundle must be signed by it. "
            "Default: the keys in $ASSAY_HOME/trusted-keys (`assay keys trust`).",
        ),
    ] = None,
) -> None:
    """Check every file of a bundle against its manifest, the Ed25519 signature and that the
    signer is trusted; names any tampered file. Exit 0 verified, 1 tampered or untrusted signer."""
    rep = api.verify_bundle(bundle, public_key)
    if rep.ok:
        console.print(f"[green]{escape(rep.summary())}[/]")
        return
    if rep.untrusted:
        err_console.print(f"[bold red]signature valid but signer not trusted:[/] {escape(rep.summary())}")
        raise typer.Exit(1)
    for name in rep.tampered:
        err_console.print(f"[bold red]tampered:[/] {escape(name)}")
    for name in rep.missing:
        err_console.print(f"[bold red]missing:[/] {escape(name)}")
    for name in rep.extra:
        err_console.print(f"[bold red]extra:[/] {escape(name)}")
    for e in rep.errors:
        err_console.print(f"[red]{escape(e)}[/]")
    raise typer.Exit(1)


keys_app = make_app(help="Signing keys for evidence bundles.", no_args_is_help=True)


@keys_app.command("generate")
def keys_generate_cmd(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Directory for assay-signing.key (0600) and assay-signing.pub."),
    ] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing key pair.")] = False,
) -> None:
    """Generate an Ed25519 key pair for signing bundles (its public key is trusted on this machine)."""
    from assay.evidence.keys import key_id, load_public_key

    priv, pub = api.generate_keys(out, force=force)
    console.print(f"private key: {escape(str(priv))} (keep it secret; or set ASSAY_SIGNING_KEY)")
    console.print(f"public key:  {escape(str(pub))}  key id {key_id(load_public_key(pub))} (trusted here)")


@keys_app.command("trust")
def keys_trust_cmd(
    public_key: Annotated[Path, typer.Argument(help="Public key (PEM file) whose bundles you accept.")],
) -> None:
    """Trust a public key: `verify` and `import` accept bundles it signed (kept in $ASSAY_HOME/trusted-keys)."""
    kid, path = api.trust_key(public_key)
    console.print(f"trusted key {kid} ({escape(str(path))})")


@keys_app.command("list")
def keys_list_cmd() -> None:
    """List the trusted public keys (key id and file)."""
    from assay.evidence.keys import key_id, load_public_key, trusted_keys_dir

    folder = trusted_keys_dir()
    files = sorted(folder.glob("*.pub")) if folder.is_dir() else []
    if not files:
        console.print(f"no trusted keys in {escape(str(folder))}; add one with `assay keys trust FILE`")
        return
    for path in files:
        console.print(f"{key_id(load_public_key(path))}  {escape(str(path))}")


@keys_app.command("untrust")
def keys_untrust_cmd(
    kid: Annotated[str, typer.Argument(help="Key id (or a unique prefix) as `assay keys list` shows it.")],
) -> None:
    """Stop trusting a public key."""
    for path in api.untrust_key(kid):
        console.print(f"removed {escape(str(path))}")


def import_cmd(
    bundle: Annotated[Path, typer.Argument(help="Bundle zip written by `assay bundle`.")],
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="Only import bundles signed by this key (PEM file). Default: the trusted keys.",
        ),
    ] = None,
    accept_untrusted: Annotated[
        bool,
        typer.Option(
            "--accept-untrusted",
            help="Import an intact bundle even though its signer is not trusted (noted in the run).",
        ),
    ] = False,
    db: DbOpt = None,
) -> None:
    """Verify a bundle and load its run into this store (no files are extracted to disk).
    A tampered bundle, or one signed by a key that is not trusted, is refused (exit 1);
    what is not a bundle at all is bad input (exit 2)."""
    run = api.import_bundle(bundle, public_key, accept_untrusted=accept_untrusted, store=_source(db))
    console.print(f"imported run {escape(run.id)} ({escape(run.target)})")


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
    app.command("compare")(compare_cmd)
    app.command("bundle")(bundle_cmd)
    app.command("verify")(verify_cmd)
    app.command("import")(import_cmd)
    app.add_typer(keys_app, name="keys")
