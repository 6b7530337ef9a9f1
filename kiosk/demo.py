"""A realistic demo group: 24 members, six months of weekly meetings.

Generated as a scenario (kiosk.scenario) so that the demo exercises exactly
what trainers and tests use. Seeded: the same demo every time.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

NAMES: list[tuple[str, str]] = [
    ("Afi Mensah", "F"),
    ("Kossi Agbéko", "M"),
    ("Ɖɔvi Ahouansou", "F"),
    ("Yawo Kpogo", "M"),
    ("Akossiwa Dzifa", "F"),
    ("Sèna Hounkpè", "F"),
    ("Koffi Amégnran", "M"),
    ("Ayaba Gbɛdɔ", "F"),
    ("Edem Ƒiaga", "M"),
    ("Mawuéna Lawson", "F"),
    ("Kɔmi Adzɔvi", "M"),
    ("Ablavi Ŋuɖe", "F"),
    ("Dodji Agbodjan", "M"),
    ("Enyonam Ʋɔdzi", "F"),
    ("Sossou Houénou", "M"),
    ("Adjo Ɣeɖe", "F"),
    ("Mensanh Tchétché", "M"),
    ("Akpénè Agbéviadé", "F"),
    ("Gbènou Azon", "M"),
    ("Dédé Akakpo", "F"),
    ("Fifamè Kpadonou", "F"),
    ("Codjo Dossou", "M"),
    ("Elom Anani", "M"),
    ("Noélie Gbaguidi", "F"),
]
ROLES = {1: ("president", "2580"), 2: ("secretaire", "1397"), 3: ("tresorier", "4826"), 4: ("controleur", "3691")}
FIRST_MEETING = date(2026, 5, 4)
WEEKS = 26
DEFAULTERS = {9, 17}  # they stop repaying: the demo needs arrears to show


def demo_scenario(seed: int = 7) -> dict[str, Any]:
    rnd = random.Random(seed)
    members = []
    for i, (name, sex) in enumerate(NAMES, start=1):
        m: dict[str, Any] = {"name": name, "sex": sex, "joined": FIRST_MEETING.isoformat()}
        if i in ROLES:
            m["role"], m["pin"] = ROLES[i]
        if i % 3 == 0:
            m["phone"] = f"+228 90 {10 + i:02d} {20 + i:02d} {30 + i:02d}"
        members.append(m)

    savings = {n: 0 for n in range(1, len(NAMES) + 1)}
    borrowed: set[int] = set()
    meetings = []
    for week in range(WEEKS):
        day = FIRST_MEETING + timedelta(weeks=week)
        numbers = list(savings)
        rnd.shuffle(numbers)
        absent = sorted(n for n in numbers[:2] if n not in ROLES)
        late = sorted(n for n in numbers[2:4] if n not in ROLES)
        excused = sorted(n for n in numbers[4:5] if n not in ROLES) if week % 4 == 2 else []
        paying = [n for n in savings if n not in absent and n not in excused]
        exceptions = {}
        if week % 5 == 3:
            partial = paying[-1]
            exceptions[str(partial)] = {"verte": 500}
        for n in paying:
            savings[n] += 500 if str(n) in exceptions else 1000
        ops: list[dict[str, Any]] = []
        if week == 0:
            ops += [{"op": "entry_fee", "member": n} for n in paying]
        ops.append({"op": "suggested_fines"})
        # Repayments: everyone with a loan pays what is due, except the defaulters, and those away
        # (nobody brings money for them: they pay at the next meeting they come to).
        ops += [{"op": "repayment", "member": n, "amount": "due"} for n in sorted(borrowed - DEFAULTERS) if n in paying]
        # New loans from the fifth week: two a week, within three times savings.
        if week >= 4 and week % 2 == 0:
            candidates = [n for n in paying if n not in borrowed and n not in ROLES and savings[n] >= 4000]
            for n in candidates[:2]:
                amount = min(3 * (savings[n] - (1000 if n in paying else 0)), 30000) // 1000 * 1000
                ops.append({"op": "loan", "member": n, "amount": amount, "term_months": 3, "approvers": [1, 4]})
                borrowed.add(n)
        if week == 9:
            ops.append({"op": "aid", "member": 12, "aid": "deces", "approvers": [1, 2]})
        if week == 14:
            ops.append({"op": "aid", "member": 20, "aid": "maladie", "approvers": [2, 4]})
            borrowed.add(20)  # an interest-free aid loan, repaid like any other
        if week == 11:
            # A contribution typed twice by mistake, then corrected with a reason.
            ops.append({"op": "contribution", "member": 6, "fund": "verte", "amount": 1000})
            ops.append(
                {"op": "correction", "target": "last", "reason": "cotisation saisie deux fois", "approvers": [1, 4]}
            )
        if week == 18:
            ops.append(
                {"op": "expense", "fund": "rouge", "amount": 1500, "label": "cahiers et stylos", "approvers": [1, 2]}
            )
        meeting: dict[str, Any] = {
            "date": day.isoformat(),
            "officers": [1, 4] if week % 2 else [2, 4],
            "treasurer": 3,
            "attendance": {"absent": absent, "late": late, "excused": excused},
            "contributions": {"exceptions": exceptions} if exceptions else "standard",
            "operations": ops,
        }
        if week == 7:
            meeting["close_count"] = {"adjust": {"verte": -500}}  # 500 F missing at closing
        meetings.append(meeting)

    return {
        "group": {
            "name": "MUSO Élikem de Bolou",
            "country": "TG",
            "cooperative": "Coopérative ELIKE",
            "village": "Bolou",
        },
        "rules": {"contribution_verte": 1000, "contribution_rouge": 200, "paf_rate_bp": 200, "paf_method": "flat"},
        "members": members,
        "meetings": meetings,
    }
