"""The regulatory clauses Traveler claims to meet, each with its requirement in plain words.

Tests that prove a clause say so with the pytest marker `regulation` (tests/validation.py):

    @pytest.mark.regulation("21 CFR 11.10(e)", "Annex 11 §9")
    def test_…

and `manage.py validation_report` writes the trace matrix — clause → requirement → tests → last result —
that a plant's validation team files (mes.compliance.validation). A clause listed here with no passing
test is reported as such; a marker naming a clause not listed here stops the test run.

The wording paraphrases the regulations (21 CFR Part 11; EU GMP Annex 11; FAA AC 120-78B) for a shop
floor reader; the regulations themselves are the reference.
"""

from __future__ import annotations

PART_11 = "21 CFR Part 11"
ANNEX_11 = "EU GMP Annex 11"
AC_120_78B = "FAA AC 120-78B"

CLAUSES: dict[str, tuple[str, str]] = {
    # --- 21 CFR Part 11, subpart B: electronic records ---
    "21 CFR 11.10(a)": (
        PART_11,
        "The system is validated and can tell an altered or invalid record from a genuine one.",
    ),
    "21 CFR 11.10(b)": (
        PART_11,
        "Accurate and complete copies of records, readable by people and as files, for review.",
    ),
    "21 CFR 11.10(c)": (
        PART_11,
        "Records are protected so they stay accurate and retrievable for their whole retention.",
    ),
    "21 CFR 11.10(d)": (PART_11, "Only authorised people reach the system and its functions."),
    "21 CFR 11.10(e)": (
        PART_11,
        "A secure, computer-generated, time-stamped audit trail records who created, changed or deleted what and "
        "when, never hides earlier values, and is kept as long as the records.",
    ),
    "21 CFR 11.10(f)": (PART_11, "The system enforces the permitted sequence of steps and events."),
    "21 CFR 11.10(g)": (PART_11, "Only authorised people may sign, change a record, or perform an operation."),
    "21 CFR 11.10(h)": (PART_11, "Data taken from a device is checked to come from a valid source."),
    "21 CFR 11.10(i)": (PART_11, "People who do the work have the training (qualification) for it."),
    "21 CFR 11.10(k)": (PART_11, "Changes to system documentation (routings, limits) are controlled and recorded."),
    "21 CFR 11.50": (PART_11, "A signed record shows the signer's printed name, the date and time, and the meaning."),
    "21 CFR 11.70": (
        PART_11,
        "A signature is linked to its record so it cannot be cut off, copied or moved to falsify.",
    ),
    # --- subpart C: electronic signatures ---
    "21 CFR 11.100(a)": (
        PART_11,
        "Each signature belongs to one person only and is never reused by or given to another.",
    ),
    "21 CFR 11.200(a)(1)": (
        PART_11,
        "A signature takes two components, user id and password; the first signing of a session needs both, "
        "later ones in the same session at least the secret.",
    ),
    "21 CFR 11.200(a)(2)": (PART_11, "A signature can be used only by its genuine owner (not by an administrator)."),
    "21 CFR 11.300(a)": (PART_11, "No two people have the same user id and password combination."),
    "21 CFR 11.300(b)": (PART_11, "Passwords and PINs are checked and renewed periodically (ageing)."),
    "21 CFR 11.300(c)": (PART_11, "Lost or compromised credentials and tokens are withdrawn."),
    "21 CFR 11.300(d)": (
        PART_11,
        "Attempts at unauthorised use are prevented, detected and reported at once to those responsible.",
    ),
    # --- EU GMP Annex 11 ---
    "Annex 11 §4": (ANNEX_11, "The system is validated; the evidence is documented and traceable to requirements."),
    "Annex 11 §7": (ANNEX_11, "Data is secured by backups whose restore is checked."),
    "Annex 11 §8": (ANNEX_11, "Clear printed copies of records can be obtained, showing changes where relevant."),
    "Annex 11 §9": (ANNEX_11, "An audit trail of changes and their reasons is kept, available and regularly reviewed."),
    "Annex 11 §10": (ANNEX_11, "Changes to the system's configuration are made under control."),
    "Annex 11 §11": (ANNEX_11, "The system's integrity is evaluated periodically."),
    "Annex 11 §12": (ANNEX_11, "Access is controlled and the creation, change and withdrawal of access is recorded."),
    "Annex 11 §14": (ANNEX_11, "Electronic signatures are bound to their record, with time and date."),
    "Annex 11 §17": (ANNEX_11, "Archived data stays accessible, readable and intact for the retention period."),
    # --- FAA AC 120-78B ---
    "AC 120-78B signatures": (
        AC_120_78B,
        "An electronic signature identifies its signer, is under their sole control, and shows if the record "
        "changed after signing.",
    ),
    "AC 120-78B records": (AC_120_78B, "Maintenance records are retrievable, readable and protected from change."),
}


def regulation_of(clause: str) -> str:
    return CLAUSES[clause][0]


def claimed() -> list[str]:
    return list(CLAUSES)
