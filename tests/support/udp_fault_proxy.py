"""A UDP proxy in front of a real agent that injects faults into its answers.

The agent stays real (snmpd); the proxy decides what reaches the client: everything,
nothing after the first N answers (an agent that stops mid-walk), answers cut short
(truncated), answers with flipped bytes (malformed), or answers delayed; and from which
port the answers come (``other_port``: a multi-homed agent answering from another address
or port). Loopback only.
"""

from __future__ import annotations

import random
import selectors
import socket
import threading
import time


class FaultProxy:
    def __init__(self, agent_port: int, mode: str = "forward", answer_first: int = 0, delay_s: float = 0.0,
                 seed: int = 1, other_port: bool = False, host: str = "127.0.0.1"):
        self.agent = ("127.0.0.1", agent_port)
        self.mode = mode
        self.answer_first = answer_first
        self.delay_s = delay_s
        self.answers = 0
        self._rng = random.Random(seed)
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.host = host  # a loopback address: 127.0.0.2 and on make devices of their own
        self._front.bind((host, 0))
        self.port = self._front.getsockname()[1]
        self._back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._back.bind(("127.0.0.1", 0))
        self._answer_from = self._front
        if other_port:
            self._answer_from = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._answer_from.bind(("127.0.0.1", 0))
        self._client = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        for sock in {self._front, self._back, self._answer_from}:
            sock.close()

    def _mangle(self, data: bytes) -> bytes | None:
        self.answers += 1
        if self.mode == "forward":
            return data
        if self.mode == "stop_after":
            return data if self.answers <= self.answer_first else None
        if self.answers <= self.answer_first:
            return data
        if self.mode == "truncate":
            return data[: self._rng.randrange(1, len(data))]
        if self.mode == "corrupt":
            out = bytearray(data)
            for _ in range(3):
                out[self._rng.randrange(len(out))] ^= 1 << self._rng.randrange(8)
            return bytes(out)
        if self.mode == "garbage":
            return bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(1, 200)))
        raise ValueError(self.mode)

    def _asked(self, data: bytes) -> None:
        """Sees each request on its way to the agent (a subclass rewriting answers by what was asked)."""

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._front, selectors.EVENT_READ, "front")
        selector.register(self._back, selectors.EVENT_READ, "back")
        while not self._stop.is_set():
            for key, _ in selector.select(0.1):
                sock: socket.socket = key.fileobj
                data, addr = sock.recvfrom(65535)
                if key.data == "front":
                    self._client = addr
                    self._asked(data)
                    self._back.sendto(data, self.agent)
                elif self._client is not None:
                    out = self._mangle(data)
                    if out is not None:
                        if self.delay_s:
                            time.sleep(self.delay_s)
                        self._answer_from.sendto(out, self._client)
        selector.close()
