"""The demo's people: logins in every role (one published password for all, shown on the `make run`
banner), who drafts and who approves the demo routings, and their qualifications (plain data)."""

from __future__ import annotations

from dataclasses import dataclass

# One password for every demo user. It passes the validators in settings (length, common, numeric,
# similarity to the usernames below); it is printed on the `make run` banner, so never reuse it.
DEMO_PASSWORD = "shopfloor-demo-2026"  # noqa: S105 - published on purpose, demo only


# Shown on the `make run` banner; the role is the name of the group roles_sync creates.
def _person(username: str, role: str, employee_number: str, printed_name: str, site: str) -> dict[str, str]:
    return {
        "username": username,
        "role": role,
        "employee_number": employee_number,
        "printed_name": printed_name,
        "site": site,
    }


DEMO_USERS: list[dict[str, str]] = [
    _person("maria", "Operator", "W-10421", "Maria Delgado", "WIC"),
    _person("tom", "Operator", "W-10587", "Tom Becker", "WIC"),
    _person("luc", "Operator", "T-20133", "Luc Moreau", "TLS"),
    _person("lupita", "Operator", "Q-30078", "Guadalupe Ramírez", "QRO"),
    _person("dwight", "Inspector", "W-10212", "Dwight Olsen", "WIC"),
    _person("ines", "Inspector", "T-20051", "Inès Laurent", "TLS"),
    _person("rosa", "Inspector", "Q-30019", "Rosa Hernández", "QRO"),
    _person("sandra", "Supervisor", "W-10090", "Sandra Kim", "WIC"),
    _person("camille", "Engineer", "T-20007", "Camille Durand", "TLS"),
    _person("alex", "Administrator", "W-10001", "Alex Novak", "WIC"),
]

STAFF_ROLES = {"Supervisor", "Engineer", "Administrator"}  # may reach the admin
SUPERUSER_ROLES = {"Administrator"}
ROUTING_AUTHOR = "camille"  # the engineer who drafts the demo routings and signs their release for engineering
ROUTING_QUALITY = "dwight"  # the inspector who signs their release for quality (a release takes two people)

# Qualifications: operators may perform every operation on their site's routings, inspectors may inspect
# every operation. Valid from QUALIFIED_SINCE_DAYS ago for QUALIFIED_FOR_DAYS.
QUALIFIED_SINCE_DAYS = 180
QUALIFIED_FOR_DAYS = 2 * 365


@dataclass(frozen=True)
class ExpiredQualificationSpec:
    username: str
    operation: str
    kind: str
    certificate: str
    valid_for_days: int
    expired_days_ago: int


# Tom's coating certificate lapsed: he may not perform coating (and holds no other coating qualification).
EXPIRED_QUALIFICATIONS: tuple[ExpiredQualificationSpec, ...] = (
    ExpiredQualificationSpec(
        username="tom",
        operation="COATING",
        kind="perform",
        certificate="TRN-COAT-2291",
        valid_for_days=365,
        expired_days_ago=12,
    ),
)
