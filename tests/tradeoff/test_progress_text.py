"""What a batch prints on a terminal quotes file names and messages as text: rich markup in them is
shown, never interpreted (a `[/x]` in a file name used to crash the batch with a MarkupError), and a
batch.csv message is one capped line."""

from __future__ import annotations

import io

from rich.console import Console

from tradeoff.batch import MESSAGE_CHARS, _one_line
from tradeoff.progress import RichBatchProgress


def test_markup_in_file_names_and_messages_is_printed_as_text():
    out = io.StringIO()
    progress = RichBatchProgress(console=Console(file=out, width=200, color_system=None))
    progress.invalid_file("plans/[/x]odd[link=http://evil.example]name.yaml", ["  skus[0].id: bad"])
    progress.scenario_finished("k", "a[/b]", {"status": "failed", "message": "[bold]boom[/bold] [/x]"})
    text = out.getvalue()
    assert "[/x]odd[link=http://evil.example]name.yaml: INVALID" in text
    assert "a[/b]" in text and "[bold]boom[/bold] [/x]" in text


def test_a_batch_message_is_one_line_of_bounded_length():
    message = _one_line("first line\n" + "x" * 10_000 + "\n\x1b[31mlast")
    assert "\n" not in message and "\x1b" not in message
    assert len(message) <= MESSAGE_CHARS + 40  # the excerpt adds "..." and the full length
