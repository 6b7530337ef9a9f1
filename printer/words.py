"""The words the paper prints for the journal's codes: what a movement, a box, an attendance, an aid and a
PAF method are called on a receipt (French, as every paper is). The console's check of a receipt says
the same words (sync_server/web/i18n.py, its ``k_`` keys; a test holds the two together)."""

from __future__ import annotations

KIND = {
    "contribution": "Cotisation",
    "entry_fee": "Droit d'adhésion",
    "fine": "Amende",
    "loan": "Prêt",
    "repayment": "Remboursement",
    "aid": "Aide",
    "withdrawal": "Retrait d'épargne",
    "exit": "Départ, épargne rendue",
    "share_out": "Partage",
    "share_gain": "Gains du partage",
    "share_loss": "Perte du partage",
    "expense": "Dépense",
    "outside_in": "Fonds extérieurs",
    "outside_out": "Remboursement extérieur",
    "reversal": "Annulation",
    "discrepancy": "Écart de caisse",
}
FUND = {"verte": "caisse verte", "rouge": "caisse rouge", "bleue": "caisse bleue"}
ATTENDANCE = {
    "present": "Présents",
    "late": "En retard",
    "absent": "Absents",
    "excused": "Excusés",
    "represented": "Représentés",
}
AID = {"deces": "décès", "maladie": "maladie", "naissance": "naissance", "mariage": "mariage", "sinistre": "sinistre"}
METHOD = {"flat": "PAF fixe", "declining": "PAF dégressive", "one_time": "PAF unique"}
# The procès-verbal counts corrections by the way their cash went (kiosk.services.receipts.report_doc):
# these are lines of its totals, not kinds of movement.
REVERSAL_WAY = {
    "reversal_in": "Annulation de sortie",  # cash back in the box: a loan, a withdrawal… taken back
    "reversal_out": "Annulation d'entrée",  # cash out of the box: a contribution, a fine… taken back
}
