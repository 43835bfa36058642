"""Label text from OCTET STRINGs, and escaping for the text format."""

from exporters.snmp.exposition import Family, escape, render, text


def test_octet_strings_as_label_text():
    assert text(b"Gi1/0/1") == "Gi1/0/1"
    assert text(b"eth0\x00") == "eth0"  # NUL-terminated by some agents
    assert text(b"\x00\x0b\x85\x01\x02\x03") == "00:0b:85:01:02:03"  # a MAC
    assert text("Schule Bülse".encode()) == "Schule Bülse"


def test_escaping_and_render():
    family = Family("netops_x", "gauge", "X.")
    alias = escape('"up\\link\n')
    family.add(f'if_alias="{alias}"', 1.5)
    family.add("", 2)
    assert render([family, Family("netops_empty", "gauge", "Never shown.")]) == (
        '# HELP netops_x X.\n# TYPE netops_x gauge\nnetops_x{if_alias="\\"up\\\\link\\n"} 1.5\nnetops_x 2\n')
