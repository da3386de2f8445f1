"""A TCP server on loopback that records every connection: a sandboxed program that reaches it
has escaped the sandbox's network namespace."""

from __future__ import annotations

import socket
import threading


def listening_socket() -> tuple[socket.socket, list]:
    """(the listening socket, the list its accept thread appends each connection to)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted: list = []

    def accept():
        while True:
            try:
                accepted.append(server.accept())
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, accepted
