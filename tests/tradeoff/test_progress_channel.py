"""The batch's local progress channel (tradeoff.progress.SocketChannel) always closes: even when its
accepting thread has already returned (a worker that died in its handshake while the channel was
closing), close() must not wait for a challenge nobody will send (it once hung a batch for ever)."""

from __future__ import annotations

import socket
import threading

from tradeoff.progress import SocketChannel


def test_close_returns_when_the_accepting_thread_is_gone():
    channel = SocketChannel(lambda *args: None)
    # End the accepting thread the way a dying worker does: a connection that drops mid-handshake
    # while the channel is closing.
    channel._closed = True
    family = socket.AF_UNIX if channel.reporter.family == "AF_UNIX" else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as dying:
        dying.connect(channel._listener.address)
    channel._thread.join(timeout=5)
    assert not channel._thread.is_alive()
    channel._closed = False  # close() now runs as if nothing had happened before
    closer = threading.Thread(target=channel.close, daemon=True)
    closer.start()
    closer.join(timeout=10)
    assert not closer.is_alive(), "close() hung waiting for the listener's challenge"
