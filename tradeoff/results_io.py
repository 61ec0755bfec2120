"""The one way result files reach the disk: staged in a temporary folder inside --out, then renamed.

A result folder `DIR/<folder>/` either holds a complete result or no result file at all: every file
is first written (and flushed) into a hidden staging folder `DIR/.tmp-<folder>-<random>/`, on the
same file system, and only when all of them are written are they renamed into place. A failure
while writing (a bug, a full disk, an interrupt) removes the staging folder and leaves `DIR` as it
was. Names never escape `DIR` (no `/`, no `..`), and a file in the target folder that a previous
run did not write (it is not in the folder's manifest `.tradeoff-files`) is never overwritten.

The manifest records, for every file written, its name, size in bytes and sha256 (one line each,
tab-separated, under a `#` header line). `finished(folder, scenario_hash)` is the one definition of a
finished result (batch resumes by it, compare reuses by it): summary.json of that scenario and every
file of the manifest present with the size and content hash recorded when it was written. A
truncated, emptied, modified or deleted file makes the result unfinished, so it is run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scenarios.errors import Problem, ScenarioError

MANIFEST = ".tradeoff-files"  # the result files this engine wrote into the folder: name, size, sha256
MANIFEST_HEADER = "# tradeoff result manifest 2: name<TAB>size in bytes<TAB>sha256 of the content\n"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.,+=-]*$")

# What a file's content may be: bytes, text (written as UTF-8), or a function that writes the
# file itself at the path it is given (pandas' to_parquet, for instance).
Content = bytes | str | Callable[[Path], None]


class OutputError(ScenarioError):
    """The output location cannot take the result (a name escaping --out, a foreign file in the way).
    It is invalid input: exit status 2, nothing written."""

    def __init__(self, path: Path | str, rule: str):
        super().__init__(Problem(file=str(path), path="", rule=rule))


def safe_name(name: str, what: str = "result folder") -> str:
    """`name` if it is one plain path component (letters, digits, `_ . , + = -`, not starting with
    a dot), else OutputError: a scenario or variant name can never reach outside --out."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise OutputError(name, f"is not a safe {what} name (one path component; letters, digits, _ . , + = -)")
    return name


def result_dir(out: Path | str, folder: str) -> Path:
    """The folder `out/<folder>` after checking that `folder` is a safe single component."""
    out = Path(out)
    path = out / safe_name(folder)
    if path.resolve().parent != out.resolve():  # belt and braces against symlinked tricks
        raise OutputError(path, f"is outside the output folder {out}")
    return path


# A manifest entry: (size in bytes, sha256 hex), or None for a name from an older manifest that
# recorded names only (such a file is ours, but cannot be verified).
Entry = tuple[int, str] | None


def _parse_manifest(text: str) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == 3 and parts[1].isdigit() and re.fullmatch(r"[0-9a-f]{64}", parts[2]):
            entries[parts[0]] = (int(parts[1]), parts[2])
        elif "\t" in line:  # a damaged line: the name is ours, its size and hash unknown
            entries.setdefault(parts[0], None)
        else:  # names only: a manifest of an older tradeoff
            for name in line.split():
                entries.setdefault(name, None)
    return entries


def read_manifest(folder: Path | str) -> dict[str, Entry]:
    """The folder's manifest: file name -> (size, sha256), None where not recorded; {} when the
    folder has no manifest."""
    try:
        return _parse_manifest((Path(folder) / MANIFEST).read_text(encoding="utf-8", errors="replace"))
    except (FileNotFoundError, NotADirectoryError):
        return {}


def manifest_names(folder: Path | str) -> list[str]:
    """The names of the files the engine wrote into `folder` (those its manifest names), sorted;
    only plain names (never a path out of the folder)."""
    return sorted(n for n in read_manifest(folder) if "/" not in n and "\\" not in n and n not in ("", ".", ".."))


def manifest_parts(folder: Path | str) -> list[str]:
    """The files the engine wrote inside a folder of `folder` (a dataset's parts, "name/part"),
    sorted; only names one folder deep whose two components are plain names."""
    return sorted(n for n in read_manifest(folder) if _part(n) is not None)


def _part(name: str) -> tuple[str, str] | None:
    parts = name.split("/")
    if len(parts) != 2 or "\\" in name or any(p in ("", ".", "..") for p in parts):
        return None
    return parts[0], parts[1]


def _top(name: str) -> str:
    """The entry of the result folder a manifest name belongs to (a dataset folder for a part)."""
    part = _part(name)
    return part[0] if part is not None else name


def _read_manifest(folder: Path) -> set[str]:
    """The entries of the folder the engine wrote: files, and the folders of datasets' parts."""
    return {_top(n) for n in read_manifest(folder)}


def file_entry(path: Path | str) -> tuple[int, str]:
    """(size in bytes, sha256 hex) of the file at `path`, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _write_one(path: Path, content: Content) -> None:
    try:
        if callable(content):
            content(path)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            with open(path, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except OSError as exc:
        if exc.filename is None:  # write() on a full disk names no file: the one-line report must
            exc.filename = str(path)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _as_created(path: str | Path) -> None:
    """Give a file made by mkstemp (always 0600) the mode an ordinary new file gets (0666 minus the
    umask, 0644 by default), so colleagues sharing a results volume can read batch.csv and compare.*."""
    os.chmod(path, 0o666 & ~_umask())


def _check_out_folder(out: Path) -> None:
    """OutputError unless `out` is a folder or can be made one: its nearest existing ancestor (or
    itself) must be a folder this process may write in. Checked before any work, so a run never
    spends its time to fail at the last step on a file standing where --out should be."""
    for path in (out, *out.parents):
        if not path.exists():
            if path.is_symlink():  # a dangling link: mkdir would fail on it
                raise OutputError(path, "is a broken symbolic link; --out must be a folder")
            continue
        if not path.is_dir():
            if path == out:
                raise OutputError(path, "exists and is not a folder; --out must be a folder (or not exist yet)")
            raise OutputError(path, f"exists and is not a folder, so --out {out} cannot be made inside it")
        if not os.access(path, os.W_OK | os.X_OK):  # the environment's failure (exit 1), not bad input
            import errno

            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return


def check_target(out: Path | str, folder: str, names) -> Path:
    """The folder `out/<folder>` if result files `names` may be written there, else OutputError: a
    name escaping `out`, a file where the folder should be, or a file of one of these names that
    tradeoff did not write. `run` calls it before any work, so such a run stops at once (exit 2)."""
    _check_out_folder(Path(out))
    target = result_dir(out, folder)
    for name in names:
        safe_name(name, "result file")
        if name == MANIFEST:
            raise OutputError(name, "is reserved for the folder's manifest")
    if target.exists() and not target.is_dir():
        raise OutputError(target, "exists and is not a folder; refusing to overwrite it")
    if target.is_dir():
        ours = _read_manifest(target)
        foreign = sorted(n for n in names if (target / n).exists() and n not in ours)
        if foreign:
            raise OutputError(target, f"already holds {', '.join(foreign)} not written by tradeoff; refusing to overwrite")
    return target


SUMMARY = "summary.json"  # written last: its presence means the result is complete


def write_result(out: Path | str, folder: str, files: Mapping[str, Content]) -> Path:
    """Write `files` (file name -> content) as the complete result in `out/<folder>/`; return that path.

    Every file is staged in a temporary folder inside `out` and then renamed into place. If the
    target folder does not exist, the staging folder itself is renamed to it (one atomic step); if
    it holds only an earlier result, the old folder is renamed away and the new one renamed in.
    If files the engine did not write live there too, they are left alone and the result files are
    replaced one by one (each rename atomic), earlier result files absent from this result removed,
    so no stale file mixes with the new ones; a foreign file with the name of a result file makes
    the write refused (OutputError) before anything changes.
    """
    out = Path(out)
    target = check_target(out, folder, files)
    out.mkdir(parents=True, exist_ok=True)
    staging = _staging_folder(out, folder)
    try:
        entries: dict[str, Entry] = {}
        for name, content in files.items():
            _write_one(staging / name, content)
            if (staging / name).is_dir():  # a dataset written as a folder of parts: one entry per part
                for child in sorted((staging / name).iterdir()):
                    entries[f"{name}/{child.name}"] = file_entry(child)
            else:
                entries[name] = file_entry(staging / name)  # what reached the disk, read back
        _write_one(staging / MANIFEST, _manifest_text(entries))
        if not target.exists():
            try:
                os.rename(staging, target)
                return target
            except OSError:
                if not target.is_dir():  # not another writer that got there first: a real failure
                    raise
        previous = read_manifest(target)
        old = {_top(n) for n in previous}
        if {p.name for p in target.iterdir()} <= old | {MANIFEST}:
            # Only an earlier result there: swap whole folders, so that the folder holds the old
            # complete result, then briefly none, then the new one; never a mixture.
            trash = _staging_folder(out, folder)  # named like staging: cleaned up the same way after a crash
            os.rename(target, trash / folder)
            os.rename(staging, target)
            shutil.rmtree(trash, ignore_errors=True)
            return target
        # Files the engine did not write live here too and must stay: replace ours one by one.
        # Announce the union first, so that whatever a crash leaves is recognised as ours next time.
        write_file_atomic(target / MANIFEST, _manifest_text({**previous, **entries}))
        # summary.json marks a finished result (batch resumes by it): the old one goes first and the
        # new one comes last, after the stale files are gone and the final manifest is in place, so
        # a crash in between never shows a new summary beside old files.
        (target / SUMMARY).unlink(missing_ok=True)
        for name in sorted(n for n in files if n != SUMMARY):
            if (staging / name).is_dir():  # an earlier result's dataset (a file or a folder) goes first
                _remove(target / name)
            os.replace(staging / name, target / name)
        for stale in sorted(old - set(files)):
            _remove(target / stale)
        os.replace(staging / MANIFEST, target / MANIFEST)
        if SUMMARY in files:
            os.replace(staging / SUMMARY, target / SUMMARY)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove(path: Path) -> None:
    """Remove an earlier result's entry: a file, or a folder of a dataset's parts."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _manifest_text(entries: Mapping[str, Entry]) -> str:
    lines = [MANIFEST_HEADER]
    for name in sorted(entries):
        entry = entries[name]
        lines.append(f"{name}\t{entry[0]}\t{entry[1]}\n" if entry is not None else f"{name}\n")
    return "".join(lines)


def _staging_folder(out: Path, folder: str) -> Path:
    """A new hidden folder inside `out` (same file system, so the final renames are atomic); made
    with mkdir so it gets the user's usual permissions, unlike mkdtemp's 0700."""
    while True:
        path = out / f".tmp-{folder}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def write_file_atomic(path: Path | str, content: Content) -> Path:
    """Write one file atomically (temporary name in the same folder, then rename); for files that
    live outside a result folder, such as a batch's index."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    os.close(fd)
    try:
        _write_one(Path(tmp), content)
        _as_created(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# --------------------------------------------------------------------------- finished results


@dataclass(frozen=True)
class ResultCheck:
    """What `finished` found in a result folder. `summary`: the verified summary.json content when
    the result is finished, else None. `state`: "finished"; "absent" (no result there yet); "other"
    (a complete result of another scenario content or engine); "damaged" (incomplete, changed or
    unverifiable files). `reason`: why it is not finished, in words ("" when it is)."""

    summary: dict | None
    state: str
    reason: str = ""

    def __bool__(self) -> bool:
        return self.summary is not None

    @property
    def rerun_message(self) -> str:
        """What batch.csv says when this result is run again ("" for a first run)."""
        return f"previous result {self.reason}: rerun" if self.state in ("damaged", "other") else ""


def _verify(folder: Path, name: str, entry: Entry) -> str | None:
    """None when `folder/name` has the size and sha256 of `entry`, else what is wrong."""
    path = folder / name
    if entry is None:
        return f"{name}: no size and hash recorded (manifest of an older tradeoff)"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return f"{name}: not the file written (now a link or a folder)"
    if not path.exists():
        return f"{name}: missing"
    size = path.stat().st_size
    if size != entry[0]:
        return f"{name}: size {size} bytes, {entry[0]} written"
    if file_entry(path) != entry:
        return f"{name}: content changed (sha256 differs from the one recorded)"
    return None


def finished(folder: Path | str, scenario_hash: str, engine: str | None = None) -> ResultCheck:
    """The one definition of a finished result, used by batch (resume) and compare (reuse).

    Finished: the folder's manifest names summary.json; every file it names exists with the size
    and sha256 recorded when it was written; summary.json parses to a mapping whose scenario_hash
    (and engine, when given and recorded) match. Anything else is run again. A result whose rules
    cannot be met (summary.json status "infeasible", no plan.csv) is finished too: its callers
    tell it by that status."""
    folder = Path(folder)
    if not folder.is_dir():
        return ResultCheck(None, "absent", "no result yet")
    entries = read_manifest(folder)
    if not entries:
        if (folder / SUMMARY).exists():
            return ResultCheck(None, "damaged", f"damaged ({MANIFEST} missing or empty)")
        return ResultCheck(None, "absent", "no result yet")
    if SUMMARY not in entries:
        return ResultCheck(None, "damaged", f"incomplete ({SUMMARY} not in {MANIFEST})")
    if not (folder / SUMMARY).exists():
        return ResultCheck(None, "damaged", f"incomplete ({SUMMARY} missing: an interrupted write)")
    problem = _verify(folder, SUMMARY, entries[SUMMARY])
    if problem is not None:
        return ResultCheck(None, "damaged", f"damaged ({problem})")
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return ResultCheck(None, "damaged", f"damaged ({SUMMARY} unreadable: {exc})")
    if not isinstance(summary, dict):
        return ResultCheck(None, "damaged", f"damaged ({SUMMARY} is not a JSON object)")
    if summary.get("scenario_hash") != scenario_hash:
        return ResultCheck(None, "other", f"is of another scenario content (hash {summary.get('scenario_hash')}, now {scenario_hash})")
    if engine is not None and summary.get("engine", engine) != engine:
        return ResultCheck(None, "other", f"is of engine {summary.get('engine')}, not {engine}")
    problems = [p for name in sorted(entries) if name != SUMMARY if (p := _verify(folder, name, entries[name]))]
    if problems:
        return ResultCheck(None, "damaged", f"damaged ({'; '.join(problems)})")
    return ResultCheck(summary, "finished")


# --------------------------------------------------------------------------- a run's result folder
RUN_FILES = ("plan.csv", "frontier.csv", "candidates.parquet", "audit.csv", "tiers.csv", "summary.json", "report.html")


def csv_text(table) -> str:
    """A table as CSV text (tradeoff.csv_safe.csv_text: text cells a spreadsheet could take for a
    formula neutralised, RFC 4180 quoting, fixed float formatting, empty cells for missing values,
    no index, `\\n` line ends, no timestamp): the same table always gives the same bytes."""
    from tradeoff.csv_safe import csv_text as safe_csv_text

    return safe_csv_text(table)


def render_html(result) -> str:
    """report.html: tradeoff.report.render_report(result), imported here so that writing CSVs alone
    never loads the report's templates and matplotlib."""
    from tradeoff.report import render_report

    return render_report(result)


def _candidates_content(result) -> Content:
    """candidates.parquet: the run's folder of parts moved in (the SKU-chunk tasks wrote them; the
    Result then points at the moved folder), or a table the Result holds written as one file."""
    source = getattr(result, "candidates_path", None)
    if source is not None and Path(source).is_dir():
        work = getattr(result, "extras", {}).get("work")
        if work is not None and Path(source).parent == Path(work.path):
            return lambda path: shutil.move(str(source), str(path))  # the run's own: moved, not copied
        return lambda path: shutil.copytree(source, path)  # another result's: it stays as it is
    return lambda path: result.candidates.to_parquet(path, index=False)


def write_run(result, out: Path | str, folder: str) -> Path:
    """Write a run's files (plan.csv, frontier.csv, candidates.parquet, summary.json, report.html,
    and audit.csv when audited) as one complete result in `out/<folder>/`; return that folder.
    A run whose rules cannot be met (summary.json status "infeasible") writes frontier.csv (the
    levels that can be met, possibly none), summary.json and report.html only: no plan.csv and no
    candidates.parquet; it is a finished result like any other (`finished`).
    The report is rendered first, so that its time is in summary.json; nothing reaches the folder
    unless everything could be produced."""
    import time

    from tradeoff.summary import summary_json

    from tradeoff.summary import is_infeasible

    start = time.perf_counter()
    report = render_html(result)
    result.summary.setdefault("timings", {})["report"] = round(time.perf_counter() - start, 6)
    files: dict[str, Content] = {}
    if is_infeasible(result.summary):  # no plan meets the rules: the reachable frontier, no plan.csv
        files["frontier.csv"] = csv_text(result.frontier)
    else:
        files["plan.csv"] = csv_text(result.plan)
        files["frontier.csv"] = csv_text(result.frontier)
        files["candidates.parquet"] = _candidates_content(result)
    if result.audit is not None:
        files["audit.csv"] = csv_text(result.audit)
    if getattr(result, "tiers", None) is not None:
        files["tiers.csv"] = csv_text(result.tiers)
    files["summary.json"] = summary_json(result.summary)
    files["report.html"] = report
    target = write_result(out, folder, files)
    if getattr(result, "candidates_path", None) is not None:
        result.candidates_path = target / "candidates.parquet"
    return target
