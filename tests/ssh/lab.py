"""A small lab: six devices at four sites, their configs and neighbour tables.

Each device differs so that audit and LLDP verification have true findings:

pop1-dist  cisco_ios    compliant; LLDP shows s1-sw right, k1-sw on the wrong port,
                        a rogue AP, and not s2-sw (documented)
s1-sw      cisco_ios    many baseline violations; secrets planted of every kind
k1-sw      hp_procurve  SNMP community, one time server, an unused port left up
s2-sw      cisco_ios    the secret store holds a wrong password: auth failure
s3-sw      cisco_ios    hangs after login (every show command sleeps)
s4-sw      cisco_ios    nothing listens on its port: unreachable
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from sqlmodel import Session

from inventory.models import Device, Interface, Link, Site, SshProfile
from netops import db as dbmod
from tests.support.fakenos_fleet import HostSpec

USER = "netops"
PASSWORD = "Lab-Ssh-Pw-7731"
WRONG_PASSWORD = "not-the-password"
HANG_S = 2.5

# every secret value planted in a device config; none may appear in any artefact
PLANTED = [
    "AuthKeyPop1Dist", "PrivKeyPop1Dist", "Qm9wMWRpc3RTZWNyZXQx", "bm90QVJlYWxIYXNoMg",
    "PlantedEnablePwS1", "PlantedUserPwS1", "PlantedCommunityS1", "PlantedTrapCommS1",
    "PlantedTacacsS1", "PlantedIsakmpS1", "PlantedVtyPwS1", "PlantedRadiusS1", "PlantedBgpS1",
    "PlantedHsrpS1", "PlantedOspfS1", "PlantedPskS1",
    "PlantedCommunityK1", "PlantedRadiusK1", "PlantedAuthK1", "PlantedPrivK1",
    "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
    PASSWORD,
]

# mutable: tests change a device's config and put it back
STATE = {"s1_extra": "", "backups_of_pop1": 0}

POP1_CONFIG = """Building configuration...

Current configuration : 4242 bytes
!
! Last configuration change at {clock} UTC Sun Nov 22 2026 by netops
! NVRAM config last updated at {clock} UTC Sun Nov 22 2026 by netops
!
version 15.2
service timestamps debug datetime msec localtime show-timezone
service timestamps log datetime msec localtime show-timezone
service password-encryption
no service pad
hostname pop1-dist
!
enable secret 9 $9$Qm9wMWRpc3RTZWNyZXQx
username netops privilege 15 secret 9 $9$bm90QVJlYWxIYXNoMg
aaa new-model
aaa authentication login default group tacacs+ local
aaa accounting exec default start-stop group tacacs+
aaa accounting commands 15 default start-stop group tacacs+
!
no vstack
no ip source-route
no ip bootp server
ip ssh version 2
ip ssh time-out 60
ip ssh authentication-retries 3
login block-for 120 attempts 5 within 60
no ip http server
!
snmp-server group NETOPS v3 priv access SNMP-MGMT
snmp-server user netops NETOPS v3 auth sha AuthKeyPop1Dist priv aes 128 PrivKeyPop1Dist
ntp authentication-key 1 md5 NtpKeyPop1Dist 7
ntp authenticate
ntp trusted-key 1
ntp clock-period {period}
ntp server 10.0.0.1 key 1
ntp server 10.0.0.2 key 1
logging buffered 64000
logging host 10.0.0.5
archive
 log config
  logging enable
banner motd ^C Authorised access only ^C
!
interface GigabitEthernet1/0/1
 description uplink s1-sw
 switchport mode trunk
!
interface GigabitEthernet1/0/5
 switchport mode access
 shutdown
!
line con 0
 exec-timeout 10 0
line vty 0 4
 access-class MGMT-ACCESS in
 exec-timeout 10 0
 transport input ssh
!
end"""

S1_CONFIG = """Building configuration...

Current configuration : 2100 bytes
!
version 15.2
hostname s1-sw
!
enable password 7 PlantedEnablePwS1
username admin privilege 15 password 0 PlantedUserPwS1
ip http server
snmp-server community PlantedCommunityS1 RO
snmp-server host 10.0.0.7 version 2c PlantedTrapCommS1
tacacs-server host 10.0.0.9 key 7 PlantedTacacsS1
radius-server key PlantedRadiusS1
crypto isakmp key PlantedIsakmpS1 address 0.0.0.0
ntp server 10.0.0.1
{extra}
!
interface GigabitEthernet1/0/1
 switchport mode access
!
interface GigabitEthernet1/0/2
 description printer
 switchport mode access
!
interface GigabitEthernet1/0/48
 description uplink pop1-dist
 switchport mode trunk
!
interface Vlan10
 standby 1 authentication md5 key-string PlantedHsrpS1
 ip ospf message-digest-key 1 md5 PlantedOspfS1
!
dot11 ssid SCHOOL
 wpa-psk ascii 0 PlantedPskS1
!
router bgp 65001
 neighbor 10.0.0.1 password PlantedBgpS1
!
line con 0
 exec-timeout 0 0
line vty 0 4
 password 7 PlantedVtyPwS1
 transport input telnet ssh
!
end"""

K1_CONFIG = """Running configuration:

; J9729A Configuration Editor; Created on release #WB.16.10.0009

hostname "k1-sw"
no telnet-server
ip ssh
no web-management
snmp-server community "PlantedCommunityK1" operator
snmpv3 user "netops" auth sha "PlantedAuthK1" priv aes "PlantedPrivK1"
sntp server priority 1 10.0.0.1
logging 10.0.0.5
console idle-timeout 600
banner motd "Authorised access only"
password manager user-name "admin" sha1 "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"
encrypt-credentials
radius-server host 10.0.0.9 key "PlantedRadiusK1"
interface 1
   name "classroom-1"
   exit
interface 2
   exit
interface 3
   disable
   exit
interface 49
   name "uplink pop1-dist"
   exit
vlan 1
   name "DEFAULT_VLAN"
   untagged 1-3,49
   exit"""

JUNOS_CONFIG = """## Last commit: 2026-11-22 02:00:00 UTC by netops
set version 21.4R3
set system host-name pop1-core
set system root-authentication encrypted-password "$6$PlantedJunosRoot"
set system services ssh protocol-version v2
set system services telnet
set system authentication-order [ tacplus password ]
set system tacplus-server 10.0.0.9 secret "$9$PlantedJunosTacplus"
set system accounting events [ login interactive-commands ]
set system accounting destination tacplus
set system services ssh root-login deny
set system services ssh connection-limit 10
set system services ssh rate-limit 4
set system login retry-options tries-before-disconnect 3
set system login retry-options lockout-period 5
set interfaces lo0 unit 0 family inet filter input PROTECT-RE
set system ntp authentication-key 1 type sha256 value "$9$NtpKeyPop1Core"
set system ntp trusted-key 1
set system ntp server 10.0.0.1 key 1
set system ntp server 10.0.0.2 key 1
set system syslog host 10.0.0.5 any notice
set system syslog file interactive-commands interactive-commands any
set system syslog time-format year millisecond
set system login message "Authorised access only"
set snmp community PlantedJunosCommunity authorization read-only"""

JUNOS_LLDP = """Local Interface    Parent Interface    Chassis Id          Port info          System Name
xe-0/0/0           -                   00:11:22:33:44:55   Gi1/0/49           pop1-dist
"""

PLANTED += ["PlantedJunosRoot", "PlantedJunosCommunity", "PlantedJunosTacplus"]
# time-sync secrets: keyword-positioned values the fail-safe scrubber removes too
PLANTED += ["NtpKeyPop1Dist", "NtpKeyPop1Core"]


def ios_lldp(entries: list[tuple[str, str, str]]) -> str:
    """`show lldp neighbors detail` for (local port, neighbour name, neighbour port id)."""
    blocks = []
    for local, name, port in entries:
        blocks.append(
            f"------------------------------------------------\n"
            f"Local Intf: {local}\nChassis id: 0011.2233.4455\nPort id: {port}\n"
            f"Port Description: to {local}\nSystem Name: {name}\n\nSystem Description: \n"
            f"Cisco IOS Software\n\nTime remaining: 100 seconds\nSystem Capabilities: B,R\n"
            f"Enabled Capabilities: B\nManagement Addresses:\n    IP: 192.0.2.1\n"
            f"Auto Negotiation - not supported\nPhysical media capabilities - not advertised\n"
            f"Media Attachment Unit type - not advertised\nVlan ID: - not advertised\n"
        )
    return "\n".join(blocks) + f"\n\nTotal entries displayed: {len(entries)}\n"


def ios_cdp(entries: list[tuple[str, str, str]]) -> str:
    blocks = []
    for local, name, port in entries:
        blocks.append(
            f"-------------------------\nDevice ID: {name}\nEntry address(es): \n  IP address: 192.0.2.1\n"
            f"Platform: cisco WS-C2960X-48FPD-L,  Capabilities: Switch IGMP \n"
            f"Interface: {local},  Port ID (outgoing port): {port}\nHoldtime : 150 sec\n\n"
            f"Version :\nCisco IOS Software, Version 15.2(7)E\n\nadvertisement version: 2\n"
            f"Native VLAN: 1\nDuplex: full\n"
        )
    return "\n".join(blocks) + "\n"


def procurve_lldp(entries: list[tuple[str, str, str]]) -> str:
    blocks = ["\n LLDP Remote Device Information Detail\n"]
    for local, name, port in entries:
        blocks.append(
            f"\n  Local Port   : {local}\n  ChassisType  : mac-address\n  ChassisId    : 001122-334455\n"
            f"  PortType     : local\n  PortId       : {port}\n  SysName      : {name}\n"
            f"  System Descr : Cisco IOS Software\n  PortDescr    : {port}\n  Pvid         : 1\n\n"
            f"  System Capabilities Supported  : bridge, router\n"
            f"  System Capabilities Enabled    : bridge\n\n  Remote Management Address\n"
            f"     Type    : ipv4\n     Address : 192.0.2.1\n\n"
            f"------------------------------------------------------------------------------\n"
        )
    return "".join(blocks)


def _pop1_config(*_a, **_kw) -> str:
    # volatile lines differ on every read: an unchanged device must still give no diff
    STATE["backups_of_pop1"] += 1
    n = STATE["backups_of_pop1"]
    return POP1_CONFIG.format(clock=f"02:{n % 60:02d}:07", period=17179860 + n)


def _s1_config(*_a, **_kw) -> str:
    return S1_CONFIG.format(extra=STATE["s1_extra"])


def _hang(*_a, **_kw) -> str:
    time.sleep(HANG_S)
    return "too late"


def _cmds(running, lldp=None, cdp=None) -> dict:
    commands = {"show running-config": {"output": running}}
    if lldp is not None:
        commands["show lldp neighbors detail"] = {"output": lldp}
    if cdp is not None:
        commands["show cdp neighbors detail"] = {"output": cdp}
    return commands


def fleet_specs() -> dict[str, HostSpec]:
    ios = lambda cmds, pw=PASSWORD: HostSpec("cisco_ios", USER, pw, cmds)  # noqa: E731
    return {
        "pop1-dist": ios(_cmds(
            _pop1_config,
            lldp=ios_lldp([("Gi1/0/1", "s1-sw", "Gi1/0/48"), ("Gi1/0/3", "k1-sw", "49"),
                           ("Gi1/0/10", "rogue-ap", "eth0")]),
            cdp=ios_cdp([("GigabitEthernet1/0/1", "s1-sw.gelsen.net", "GigabitEthernet1/0/48")]),
        )),
        "s1-sw": ios(_cmds(_s1_config, lldp=ios_lldp([("Gi1/0/48", "pop1-dist", "Gi1/0/1")]), cdp=ios_cdp([]))),
        "k1-sw": HostSpec("hp_procurve", USER, PASSWORD, {
            "show running-config": {"output": K1_CONFIG},
            "show lldp info remote-device detail": {"output": procurve_lldp([("49", "pop1-dist", "Gi1/0/3")])},
        }),
        "s2-sw": ios(_cmds(S1_CONFIG.format(extra="")), pw="the-real-one-we-do-not-have"),
        "s3-sw": ios(_cmds(_hang, lldp=_hang, cdp=_hang)),
        # not in the inventory: the third platform, exercised by the pool directly
        "pop1-core": HostSpec("juniper_junos", USER, PASSWORD, {
            "show configuration | display set": {"output": JUNOS_CONFIG},
            "show lldp neighbors": {"output": JUNOS_LLDP},
        }),
    }


def cli_workspace(tmp: Path, address_map: dict[str, tuple[str, int]], build: Callable[[Session], None],
                  secrets_toml: str) -> dict[str, str]:
    """What the CLI needs against a fleet: a database ``build`` fills, a 0600 secrets
    file, a config workspace, and the address map file (``"addr"``, not an env var)."""
    engine = dbmod.make_engine(f"sqlite:///{tmp / 'inventory.db'}")
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        build(session)
    engine.dispose()
    secrets = tmp / "secrets.toml"
    secrets.write_text(secrets_toml)
    secrets.chmod(0o600)
    amap = tmp / "addresses.json"
    amap.write_text(json.dumps({k: f"{h}:{p}" for k, (h, p) in address_map.items()}))
    return {"NETOPS_DB_URL": f"sqlite:///{tmp / 'inventory.db'}", "NETOPS_SECRETS_FILE": str(secrets),
            "NETOPS_CONFIG_DIR": str(tmp / "ws"), "addr": str(amap)}


# -- the inventory that documents this lab ----------------------------------------------
SITES = [("POP1", "core", "Altstadt"), ("S1", "school", "Buer"), ("K1", "kindergarten", "Buer"),
         ("S2", "school", "Horst"), ("S3", "school", "Horst"), ("S4", "school", "Erle")]
DEVICES = [  # name, site, role, platform, ssh profile
    ("pop1-dist", "POP1", "distribution_switch", "cisco_ios", "switches"),
    ("s1-sw", "S1", "access_switch", "cisco_ios", "switches"),
    ("k1-sw", "K1", "access_switch", "hp_procurve", "switches"),
    ("s2-sw", "S2", "access_switch", "cisco_ios", "wrong-pw"),
    ("s3-sw", "S3", "access_switch", "cisco_ios", "slow"),
    ("s4-sw", "S4", "access_switch", "cisco_ios", "switches"),
]
LINKS = [  # documented: (device, port) <-> (device, port)
    ("pop1-dist", "GigabitEthernet1/0/1", "s1-sw", "GigabitEthernet1/0/48"),
    ("pop1-dist", "GigabitEthernet1/0/2", "k1-sw", "49"),
    ("pop1-dist", "GigabitEthernet1/0/4", "s2-sw", "GigabitEthernet1/0/48"),
]


def build_inventory(session: Session) -> None:
    sites = {}
    for i, (code, kind, district) in enumerate(SITES):
        sites[code] = Site(code=code, name=f"Site {code}", kind=kind, district=district, source="test")
        session.add(sites[code])
    session.flush()
    for name, conn, read in (("switches", 3, 10), ("wrong-pw", 3, 10), ("slow", 3, 1)):
        session.add(SshProfile(name=name, username=USER, conn_timeout_s=conn, read_timeout_s=read))
    devices = {}
    for i, (name, site, role, platform, profile) in enumerate(DEVICES):
        # documentation addresses (TEST-NET-1): the tests map every device to loopback
        devices[name] = Device(name=name, site_id=sites[site].id, role=role, platform=platform,
                               mgmt_ip=f"192.0.2.{10 + i}", ssh_profile=profile, source="test")
        session.add(devices[name])
    session.flush()
    for n, (a, a_port, b, b_port) in enumerate(LINKS):
        ends = []
        for dev, port in ((a, a_port), (b, b_port)):
            iface = Interface(device_id=devices[dev].id, name=port, kind="fibre")
            session.add(iface)
            ends.append(iface)
        session.flush()
        session.add(Link(code=f"L{n}", a_interface_id=ends[0].id, b_interface_id=ends[1].id,
                         medium="fibre", source="test"))
