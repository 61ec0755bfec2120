"""The `tradeoff` command line: one typer app; each command lives in tradeoff/commands/<name>.py.

Exit statuses (docs/outputs.md): 0 done, 2 invalid input, 3 infeasible, 4 partly done, 1 bug or
environment failure (a full disk, a file size limit, permission denied, an unreachable Dask scheduler:
one line on stderr, no traceback; recognised in tradeoff.environment).
Only the command line configures logging; the library never prints.
"""

from __future__ import annotations

import importlib
import sys

import typer

COMMANDS = ("validate", "run", "audit", "compare", "batch")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Choose the customer service level and the inventory/transport policy that delivers it at the lowest total cost.",
)


@app.command()
def version() -> None:
    """Print tradeoff's version, its engine fingerprint (SHA-256 of the engine's source and of the
    versions below) and the versions of Python and of the libraries it stands on: two machines that
    print the same lines compute the same plans (a Dask run refuses a worker that differs)."""
    from importlib.metadata import version as v

    from tradeoff.fingerprint import signature

    sig = signature()
    typer.echo(f"tradeoff {v('tradeoff')}")
    typer.echo(f"fingerprint {sig.fingerprint}")
    for name, value in sig.versions:
        typer.echo(f"{name} {value}")


def _register_commands() -> None:
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"tradeoff.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet is simply absent
            if exc.name == f"tradeoff.commands.{name}":
                continue
            raise
        module.register(app)


_register_commands()


def main() -> None:
    """Entry point of the console script: run the app and map user errors to exit statuses."""
    from scenarios.errors import ScenarioError
    from tradeoff.environment import describe, ignore_file_size_signal

    ignore_file_size_signal()  # a file size limit then fails a write (EFBIG, reported) instead of killing us
    try:
        # In non-standalone mode typer returns the exit code of `raise typer.Exit(n)` instead of exiting.
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001
        environment_failure = describe(exc)
        if environment_failure is not None:  # the machine stopped us, not a bug: one line, exit 1
            print(f"error: {environment_failure}", file=sys.stderr)
            sys.exit(1)
        try:
            from optimizer.errors import InfeasibleError
        except ImportError:
            InfeasibleError = ()  # noqa: N806
        if InfeasibleError and isinstance(exc, InfeasibleError):
            print(str(exc), file=sys.stderr)
            sys.exit(3)
        if isinstance(exc, typer.TyperException) and callable(getattr(exc, "show", None)):
            # A usage error (typer >= 0.2x parses without click): its message, exit 2, no traceback.
            exc.show()
            sys.exit(2)
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
