"""A real SSH server (paramiko) on loopback playing an IOS switch that fails on cue.

fakenos answers a command with its whole output at once; the failures hunted here happen
inside an answer: the device closes the session or falls silent half way through
``show running-config``, stops at a pager prompt, or greets with a prompt netmiko does not
expect. Each :class:`ScriptedDevice` speaks IOS well enough for netmiko's ``cisco_ios``
session preparation (``terminal width``/``terminal length``, prompt detection) and then
answers ``show running-config`` as ``behaviour`` says:

``whole``       the config, then the prompt (the control)
``close_mid``   the first ``cut`` lines, then the channel and the connection are closed
``hang_mid``    the first ``cut`` lines, then nothing (the session stays open)
``pager``       the first ``cut`` lines and `` --More-- ``, waiting for a key that never comes
``pause_mid``   the first ``cut`` lines, a pause of ``pause_s``, then the rest and the prompt
``pause_in_line`` as ``pause_mid``, but the pause comes before the ``cut``-th line's line break
``silent``      logs in and never shows a prompt
``utf16``       the config as UTF-16 text (with its byte order mark), then the prompt
``endless``     page after page of the config, each ending in a pager prompt it erases at once, for ever
``repeat``      the first ``cut`` lines over and over, for ever
``pause_twice`` as ``pause_in_line``, and again before the next line's line break, five times as long
``hold_enter``  the answer up to the ``cut``-th line's line break; once the client's next line (its bare
                Enter) came, the next line (its line break and text), then nothing until the client sends
                more: the Enter's answer is held back for longer than any wait (no timing: what the client
                reads for the answer is fixed)
``nul_padded``  the config with a NUL byte after each line break, and every prompt (at login, after each
                command) followed by one (firmware padding)
``nul_flood``   the config, then ``cut`` KiB of NUL bytes, then the prompt (line noise)
"""

from __future__ import annotations

import io
import socket
import threading

import paramiko

BEHAVIOURS = ("whole", "close_mid", "hang_mid", "pager", "pause_mid", "pause_in_line", "silent", "utf16", "endless",
              "repeat", "pause_twice", "hold_enter", "nul_padded", "nul_flood")


def ios_config(hostname: str, interfaces: int = 48) -> str:
    ports = "".join(f"interface GigabitEthernet1/0/{i}\n description Raum {i}\n switchport mode access\n!\n"
                    for i in range(1, interfaces + 1))
    return (f"Building configuration...\n\nCurrent configuration : 4711 bytes\n!\nversion 15.2\n"
            f"hostname {hostname}\n!\nip ssh version 2\nno ip http server\n!\n{ports}"
            "line vty 0 4\n transport input ssh\n!\nend\n")


class _Login(paramiko.ServerInterface):
    def __init__(self, username: str, password: str):
        self.username, self.password = username, password

    def get_allowed_auths(self, username):
        return "password"

    def check_auth_password(self, username, password):
        ok = (username, password) == (self.username, self.password)
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args):
        return True

    def check_channel_shell_request(self, channel):
        return True


class ScriptedDevice:
    def __init__(self, hostname: str, username: str, password: str, behaviour: str = "whole", cut: int = 40,
                 config: str | None = None, prompt: str | None = None, pause_s: float = 1.0):
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour {behaviour!r}; one of {BEHAVIOURS}")
        from fakenos.plugins.servers.ssh_server_paramiko import DEFAULT_SSH_KEY

        self.key = paramiko.RSAKey(file_obj=io.StringIO(DEFAULT_SSH_KEY))
        self.hostname, self.username, self.password = hostname, username, password
        self.behaviour, self.cut, self.pause_s = behaviour, cut, pause_s
        self.config = config if config is not None else ios_config(hostname)
        self.prompt = prompt if prompt is not None else f"{hostname}#"
        self.stopping = threading.Event()
        self.served = 0  # show running-config answers begun
        self._held: str | None = None  # hold_enter: what the client's Enter brings
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._transports: list[paramiko.Transport] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "ScriptedDevice":
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self._server.close()
        for transport in self._transports:
            transport.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        self._server.settimeout(0.1)  # a blocked accept() would not see the socket closed
        while not self.stopping.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.key)
            self._transports.append(transport)
            transport.start_server(server=_Login(self.username, self.password))
            self._spawn(self._session, transport)

    def _session(self, transport: paramiko.Transport) -> None:
        channel = transport.accept(timeout=10)
        if channel is None:
            return
        if self.behaviour == "silent":
            self.stopping.wait()
            return
        channel.sendall(f"\r\n{self._prompt_sent}".encode())
        line = b""
        while not self.stopping.is_set():
            try:
                data = channel.recv(1024)
            except OSError:
                return
            if not data:
                return
            for byte in data:
                if byte in b"\r\n":
                    try:
                        if not self._answer(channel, transport, line.decode().strip()):
                            return
                    except (OSError, EOFError):  # the client has gone
                        return
                    line = b""
                else:
                    line += bytes((byte,))

    @property
    def _prompt_sent(self) -> str:
        """The prompt as sent after the login and each command (a test may change ``prompt``)."""
        return self.prompt + ("\0" if self.behaviour == "nul_padded" else "")

    @staticmethod
    def _send(channel: paramiko.Channel, text: str) -> None:
        """Text as the device's bytes: U+DC80..U+DCFF (surrogateescape) as the byte it stands for."""
        channel.sendall(text.encode("utf-8", "surrogateescape"))

    def _answer(self, channel: paramiko.Channel, transport: paramiko.Transport, command: str) -> bool:
        """Answer one command line; False when the session is over."""
        if self._held:  # hold_enter: the client's Enter after the first part
            self._send(channel, self._held)
            self._held = ""
            return True
        if self._held == "":  # the client has read its answer and sent more: a terminal as before
            self._held = None
        channel.sendall(f"{command}\r\n".encode())  # the echo, as a device's terminal gives it
        if command != "show running-config":
            channel.sendall(self._prompt_sent.encode())
            return True
        self.served += 1
        lines = self.config.removesuffix("\n").split("\n")  # a line's own "\r" is its text
        answer = "\r\n".join(lines) + f"\r\n{self._prompt_sent}"
        if self.behaviour == "whole":
            self._send(channel, answer)
            return True
        if self.behaviour == "nul_padded":
            self._send(channel, answer.replace("\r\n", "\r\n\0"))
            return True
        if self.behaviour == "nul_flood":
            self._send(channel, "\r\n".join(lines) + "\r\n" + "\0" * (self.cut * 1024) + f"\r\n{self.prompt}")
            return True
        if self.behaviour == "utf16":
            # (the CLI's own line break and prompt after it are ASCII)
            channel.sendall(("\r\n".join(lines) + "\r\n").encode("utf-16") + f"\r\n{self.prompt}".encode())
            return True
        if self.behaviour in ("endless", "repeat"):  # until the client goes (sendall fails, caught by the caller)
            page = "\r\n".join(lines[:self.cut]) + "\r\n"
            if self.behaviour == "endless":
                page += " --More-- " + "\b" * 10 + " " * 10 + "\b" * 10
            while not self.stopping.is_set():
                self._send(channel, page)
            return False
        if self.behaviour == "pause_twice":
            for start, end, pause in ((0, self.cut, self.pause_s), (self.cut, self.cut + 1, 5 * self.pause_s)):
                self._send(channel, answer[len("\r\n".join(lines[:start])):len("\r\n".join(lines[:end]))])
                self.stopping.wait(pause)
            self._send(channel, answer[len("\r\n".join(lines[:self.cut + 1])):])
            return True
        if self.behaviour == "hold_enter":
            first = len("\r\n".join(lines[:self.cut]))
            second = answer.find("\r\n", first + 2)
            second = len(answer) if second < 0 else second  # (after the config's last line: the prompt)
            self._held = answer[first:second]
            self._send(channel, answer[:first])
            return True
        if self.behaviour in ("pause_in_line", "pause_mid"):  # a slow device: the rest comes, only later
            # before the cut-th line's line break, or after it
            split = len("\r\n".join(lines[:self.cut])) + (2 if self.behaviour == "pause_mid" else 0)
            self._send(channel, answer[:split])
            self.stopping.wait(self.pause_s)
            self._send(channel, answer[split:])
            return True
        self._send(channel, "\r\n".join(lines[:self.cut]) + "\r\n")
        if self.behaviour == "close_mid":
            channel.close()
            transport.close()
            return False
        if self.behaviour == "pager":
            channel.sendall(b" --More-- ")
        self.stopping.wait()  # hang_mid, pager: nothing more, ever
        return False
