"""An snmpd ``pass_persist`` script: serves the OIDs of a JSON file, read anew on every
request, so a test can renumber interfaces or break a table between two scrapes of a
real net-snmp agent. The file maps a numeric OID to ``[type, value]`` in pass syntax
(``integer``, ``counter64``, ``string``, ``octet`` as hex octets, ...), ``kill``: asked
for that OID, the script kills snmpd (an agent dying mid-walk, at a known row), or ``["back", OID]``:
a getnext that lands there answers the row of that earlier OID instead (firmware whose walk
loops back: a cycle over the rows in between)."""

import json
import os
import signal
import sys


def arcs(oid: str) -> tuple[int, ...]:
    return tuple(int(arc) for arc in oid.strip().strip(".").split("."))


def main(path: str) -> None:
    for line in sys.stdin:
        command = line.strip()
        if command == "PING":
            print("PONG", flush=True)
        elif command in ("get", "getnext"):
            asked = arcs(sys.stdin.readline())
            with open(path) as rows_file:
                rows = sorted((arcs(oid), oid, kind, value) for oid, (kind, value) in json.load(rows_file).items())
            found = next((row for row in rows if (row[0] == asked if command == "get" else row[0] > asked)), None)
            if found is not None and found[2] == "kill":
                os.kill(os.getppid(), signal.SIGKILL)
                return
            if found is not None and found[2] == "back" and command == "getnext":
                found = next(row for row in rows if row[1] == found[3])
            print("NONE" if found is None else f".{found[1]}\n{found[2]}\n{found[3]}", flush=True)
        elif command == "set":
            sys.stdin.readline(), sys.stdin.readline()
            print("not-writable", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
