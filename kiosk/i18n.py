"""Messages for people, in French first and English second.

The domain raises codes with parameters; this is the one place that turns
them into sentences (at the edges: CLI, UI dialogs, the server's answers).
A test checks that every code the domain can raise has both translations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kiosk.domain.errors import DomainError, Problem
from kiosk.domain.money import format_xof

FR: dict[str, str] = {
    "absent_with_movements": (
        "{name} a déjà des mouvements à cette séance : si quelqu'un a apporté son argent, marquez ce membre "
        "représenté ; sinon corrigez d'abord ces mouvements (Corrections)"
    ),
    "aid_term_for_grant": "un don n'a pas de durée de remboursement",
    "aid_term_invalid": "la durée d'une aide remboursable doit être de 1 à 60 mois (reçu : {value})",
    "aid_unknown": "aide inconnue « {value} » (connues : {known})",
    "already_reversed": "ce mouvement a déjà été annulé",
    "amount_invalid": "montant invalide : {value}",
    "amount_not_countable": "montant impossible à compter en pièces : {value}",
    "amount_not_integer": "le montant doit être un nombre entier de francs (reçu : {value})",
    "amount_not_positive": "le montant doit être supérieur à zéro (reçu : {value})",
    "amount_too_large": "montant trop grand : {value:money} (au plus {max:money})",
    "attendance_unknown": "statut de présence inconnu : {value}",
    "batch_malformed": "lot de synchronisation illisible",
    "boolean_invalid": "oui ou non attendu (reçu : {value})",
    "cash_count_invalid": "billetage invalide",
    "cash_insufficient": "pas assez d'argent dans la caisse (il manque {missing:money})",
    "catalogue_invalid": "liste invalide",
    "choice_invalid": "choix invalide : {value}",
    "count_too_large": "billetage trop grand : {total:money} (au plus {max:money})",
    "date_invalid": "date invalide : {value} (attendu AAAA-MM-JJ)",
    "denomination_unknown": "coupure inconnue : {value}",
    "entry_fee_none": "le règlement ne prévoit pas de droit d'adhésion",
    "entry_fee_paid": "{name} a déjà payé son droit d'adhésion",
    "event_malformed": "événement mal formé ({detail})",
    "value_unstorable": "valeur impossible à enregistrer (texte trop long ou nombre hors limites)",
    "event_type_unknown": "type d'événement inconnu : {value}",
    "exit_amount_wrong": "le départ doit rendre toute l'épargne : {expected:money} (reçu : {value:money})",
    "exit_with_loan": "{name} a un prêt en cours : il doit être remboursé avant le départ",
    "field_unknown": "champ inconnu",
    "fine_unknown": "amende inconnue : {value}",
    "float_in_event": "nombre à virgule interdit",
    "fund_not_allowed": "caisse non permise ici : {value}",
    "fund_unknown": "caisse inconnue : {value}",
    "group_exists": "ce groupe existe déjà",
    "group_name_taken": "un groupe s'appelle déjà {value} sur ce kiosque",
    "group_unknown": "groupe inconnu : {value}",
    "key_not_text": "clé non textuelle",
    "label_missing": "indiquez l'objet de la dépense",
    "lender_invalid": "prêteur extérieur invalide : {value}",
    "lender_overpaid": "remboursement supérieur à ce qui est dû à {lender} ({owed:money})",
    "lender_unknown": "aucun argent reçu de « {value} » (partenaires connus : {known})",
    "lender_none": "la caisse bleue n'a jamais reçu d'argent d'un partenaire : rien à rendre à « {value} »",
    "loan_above_ceiling": "le prêt dépasse le plafond du règlement : {ceiling:money} au plus "
    "({multiple} fois l'épargne de {savings:money}, plafond {cap:money})",
    "loan_ceiling_missing": "le règlement doit fixer un plafond de prêt (multiple de l'épargne ou montant)",
    "loan_exists": "ce prêt existe déjà",
    "loan_has_repayments": "ce prêt a déjà des remboursements : annulez-les d'abord",
    "loan_limit_reached": "nombre maximum de prêts en cours atteint ({max})",
    "loan_not_active": "ce prêt n'est pas en cours ({status})",
    "loan_overpaid": "remboursement supérieur au reste du prêt",
    "loan_term_out_of_range": "la durée doit être de {min} à {max} mois",
    "loan_unknown": "prêt inconnu",
    "loan_with_arrears": "le membre a des impayés ({arrears:money}) : pas de nouveau prêt",
    "meeting_already_open": "une séance est déjà ouverte pour ce groupe",
    "group_rules_unavailable": "le règlement de {name} n'est pas arrivé sur ce kiosque : appelez le coordinateur",
    "kiosk_behind_server": (
        "le serveur a des séances que ce kiosque n'a pas (une ancienne sauvegarde remise en place ?) : "
        "le technicien doit le restaurer (muso-kiosk restore) ; d'ici là, seule la séance déjà ouverte peut continuer"
    ),
    "meeting_date_before_last": "la date {date} est avant la dernière séance ({last}) : vérifiez l'horloge",
    "meeting_exists": "cette séance existe déjà",
    "meeting_not_open": "la séance n° {number} n'est pas ouverte : aucun mouvement possible",
    "meeting_number_wrong": "numéro de séance inattendu (attendu {expected})",
    "meeting_unknown": "séance inconnue",
    "member_absent": (
        "{name} est marqué(e) absent(e) à cette séance : marquez d'abord ce membre présent, en retard, "
        "ou représenté par qui apporte ou reçoit l'argent (Présences)"
    ),
    "member_excused": (
        "{name} est marqué(e) excusé(e) à cette séance : marquez d'abord ce membre présent, en retard, "
        "ou représenté par qui apporte ou reçoit l'argent (Présences)"
    ),
    "member_exists": "ce membre existe déjà",
    "member_left": "{name} a quitté le groupe",
    "member_number_wrong": "numéro de membre inattendu (attendu {expected})",
    "member_unknown": "membre inconnu : {value}",
    "movement_unknown": "type de mouvement inconnu : {value}",
    "name_empty": "le nom est vide",
    "name_invalid": "nom invalide",
    "name_too_long": "nom trop long ({max} caractères au plus)",
    "not_an_officer": "{name} n'est pas membre du bureau",
    "not_paying_member": "ce membre n'est pas présent à la séance",
    "not_reversible": "ce mouvement ({kind}) ne peut pas être annulé",
    "nothing_to_change": "rien à modifier",
    "number_invalid": "nombre invalide : {value}",
    "number_too_large": "nombre trop grand (au plus {max})",
    "number_too_small": "nombre trop petit (au moins {min})",
    "officers_not_distinct": "il faut deux responsables différents",
    "phone_invalid": "numéro de téléphone invalide",
    "pieces_invalid": "nombre de pièces invalide : {value}",
    "pin_current_required": "le code actuel est demandé pour le changer",
    "pin_for_non_officer": "seuls les membres du bureau ont un code",
    "pin_format": "le code doit avoir de 4 à 8 chiffres",
    "pin_locked": "trop d'essais : code bloqué pendant {minutes} min",
    "pin_not_set": "ce responsable n'a pas encore de code",
    "pin_reset_self": "{name} ne peut pas approuver la réinitialisation de son propre code",
    "pin_same": "le nouveau code doit être différent de l'ancien",
    "pin_too_simple": "code trop simple (ex. 1111 ou 1234)",
    "pin_wrong": "code incorrect : encore {left} essai(s)",
    "rate_too_high": "taux trop élevé (au plus {max} points de base par mois)",
    "reason_missing": "indiquez la raison de la correction",
    "receipt_exists": "ce reçu existe déjà",
    "receipt_kind_unknown": "type de reçu inconnu : {value}",
    "receipt_paper_invalid": "chiffres du reçu illisibles",
    "receipt_paper_wrong": "le reçu imprimerait {value:money} au lieu de {expected:money}",
    "repayment_exceeds_balance": "le montant {amount:money} dépasse ce qui reste dû : {payoff:money} au plus.",
    "repayment_split_wrong": "la répartition du remboursement ne fait pas le total",
    "reprint_waiting": (
        "ce reçu est encore dans la file d'impression : il sortira dès que l'imprimante sera prête, "
        "inutile de le réimprimer"
    ),
    "representative_missing": "indiquez qui représente le membre",
    "representative_unexpected": "un représentant n'est indiqué que pour « représenté »",
    "restore_in_progress": "restauration en cours (jusqu'au n° {until}) : terminez `muso-kiosk restore` d'abord",
    "reversal_after_share_out": (
        "ce mouvement est antérieur au partage de la caisse {fund} et a été partagé avec elle : "
        "il ne peut plus être annulé ; enregistrez un nouveau mouvement pour rectifier"
    ),
    "reverse_later_repayment_first": "annulez d'abord le remboursement le plus récent de ce prêt",
    "role_unknown": "rôle inconnu : {value}",
    "rounding_unit_invalid": "unité d'arrondi invalide : {value} (1, 5, 10, 25, 50 ou 100)",
    "rules_field_unknown": "règle inconnue",
    "rules_not_object": "le règlement doit être un objet",
    "rules_version_wrong": "version du règlement inattendue (attendue {expected})",
    "savings_insufficient": "épargne insuffisante (il manque {missing:money})",
    "self_approval": "{name} ne peut pas approuver un mouvement à son propre profit",
    "sex_unknown": "sexe inconnu : {value} (F ou M)",
    "share_out_invalid": "partage invalide",
    "share_out_not_in_rules": "le règlement ne prévoit pas de partage",
    "share_out_nothing": "rien à partager : ni gain ni perte depuis le dernier partage",
    "share_out_with_loans": "des prêts sont en cours : le partage avec paiement doit attendre leur remboursement",
    "step_unknown": "étape inconnue : {value}",
    "term_range_invalid": "la durée maximale doit être au moins la durée minimale ({min})",
    "text_invalid": "texte invalide : {value}",
    "text_nul": "caractère interdit (NUL) dans un texte",
    "transaction_crosses_funds": "un mouvement ne peut pas toucher deux caisses",
    "transaction_empty": "mouvement vide",
    "transaction_exists": "ce mouvement existe déjà",
    "transaction_unbalanced": "écriture déséquilibrée ({total})",
    "transaction_unknown": "mouvement inconnu",
    "two_officers_required": "deux responsables doivent approuver avec leur code",
    "value_not_json": "valeur non permise ({value})",
    "withdrawal_exit_only": "le règlement ne permet de retirer l'épargne qu'au départ du groupe",
    "withdrawal_with_loan": "pas de retrait d'épargne pendant un prêt en cours",
}

EN: dict[str, str] = {
    "absent_with_movements": (
        "{name} already has movements at this meeting: if someone brought their money, mark them represented; "
        "otherwise correct those movements first (Corrections)"
    ),
    "aid_term_for_grant": "a grant has no repayment term",
    "aid_term_invalid": "a repayable aid's term must be 1 to 60 months (got {value})",
    "aid_unknown": "unknown aid '{value}' (known: {known})",
    "already_reversed": "this movement was already reversed",
    "amount_invalid": "invalid amount: {value}",
    "amount_not_countable": "amount cannot be counted in coins: {value}",
    "amount_not_integer": "the amount must be a whole number of francs (got {value})",
    "amount_not_positive": "the amount must be above zero (got {value})",
    "amount_too_large": "amount too large: {value:money} (at most {max:money})",
    "attendance_unknown": "unknown attendance status: {value}",
    "batch_malformed": "unreadable sync batch",
    "boolean_invalid": "yes or no expected (got {value})",
    "cash_count_invalid": "invalid cash count",
    "cash_insufficient": "not enough cash in the box ({missing:money} missing)",
    "catalogue_invalid": "invalid list",
    "choice_invalid": "invalid choice: {value}",
    "count_too_large": "cash count too large: {total:money} (at most {max:money})",
    "date_invalid": "invalid date: {value} (expected YYYY-MM-DD)",
    "denomination_unknown": "unknown denomination: {value}",
    "entry_fee_none": "the rules set no entry fee",
    "entry_fee_paid": "{name} has already paid the entry fee",
    "event_malformed": "malformed event ({detail})",
    "value_unstorable": "a value no database can store (text too long, or number out of range)",
    "event_type_unknown": "unknown event type: {value}",
    "exit_amount_wrong": "an exit pays back all savings: {expected:money} (got {value:money})",
    "exit_with_loan": "{name} has a loan running: it must be repaid before leaving",
    "field_unknown": "unknown field",
    "fine_unknown": "unknown fine: {value}",
    "float_in_event": "decimal numbers are not allowed",
    "fund_not_allowed": "box not allowed here: {value}",
    "fund_unknown": "unknown box: {value}",
    "group_exists": "this group already exists",
    "group_name_taken": "a group is already called {value} on this kiosk",
    "group_unknown": "unknown group: {value}",
    "key_not_text": "key is not text",
    "label_missing": "say what the expense is for",
    "lender_invalid": "invalid outside lender: {value}",
    "lender_overpaid": "more than what is owed to {lender} ({owed:money})",
    "lender_unknown": "no money ever came from '{value}' (known partners: {known})",
    "lender_none": "the blue box never received a partner's money: nothing to pay back to '{value}'",
    "loan_above_ceiling": "the loan is above the rules' ceiling: at most {ceiling:money} "
    "({multiple} times savings of {savings:money}, cap {cap:money})",
    "loan_ceiling_missing": "the rules must set a loan ceiling (multiple of savings or an amount)",
    "loan_exists": "this loan already exists",
    "loan_has_repayments": "this loan has repayments: reverse them first",
    "loan_limit_reached": "maximum number of running loans reached ({max})",
    "loan_not_active": "this loan is not running ({status})",
    "loan_overpaid": "repayment above what is left of the loan",
    "loan_term_out_of_range": "the term must be {min} to {max} months",
    "loan_unknown": "unknown loan",
    "loan_with_arrears": "the member has arrears ({arrears:money}): no new loan",
    "meeting_already_open": "a meeting is already open for this group",
    "group_rules_unavailable": "the règlement of {name} has not reached this kiosk: call the coordinator",
    "kiosk_behind_server": (
        "the server holds meetings this kiosk lacks (an older backup put back?): "
        "the technician must restore it (muso-kiosk restore); until then, only a meeting already open may go on"
    ),
    "meeting_date_before_last": "date {date} is before the last meeting ({last}): check the clock",
    "meeting_exists": "this meeting already exists",
    "meeting_not_open": "meeting no. {number} is not open: no movement possible",
    "meeting_number_wrong": "unexpected meeting number (expected {expected})",
    "meeting_unknown": "unknown meeting",
    "member_absent": (
        "{name} is marked absent at this meeting: first mark them present, late, "
        "or represented by whoever brings or takes the money (Attendance)"
    ),
    "member_excused": (
        "{name} is marked excused at this meeting: first mark them present, late, "
        "or represented by whoever brings or takes the money (Attendance)"
    ),
    "member_exists": "this member already exists",
    "member_left": "{name} has left the group",
    "member_number_wrong": "unexpected member number (expected {expected})",
    "member_unknown": "unknown member: {value}",
    "movement_unknown": "unknown kind of movement: {value}",
    "name_empty": "the name is empty",
    "name_invalid": "invalid name",
    "name_too_long": "name too long (at most {max} characters)",
    "not_an_officer": "{name} is not an officer",
    "not_paying_member": "this member is not present at the meeting",
    "not_reversible": "this movement ({kind}) cannot be reversed",
    "nothing_to_change": "nothing to change",
    "number_invalid": "invalid number: {value}",
    "number_too_large": "number too large (at most {max})",
    "number_too_small": "number too small (at least {min})",
    "officers_not_distinct": "two different officers are needed",
    "phone_invalid": "invalid phone number",
    "pieces_invalid": "invalid number of pieces: {value}",
    "pin_current_required": "the current PIN is needed to change it",
    "pin_for_non_officer": "only officers have a PIN",
    "pin_format": "the PIN must have 4 to 8 digits",
    "pin_locked": "too many tries: PIN locked for {minutes} min",
    "pin_not_set": "this officer has no PIN yet",
    "pin_reset_self": "{name} cannot approve the reset of their own PIN",
    "pin_same": "the new PIN must differ from the old one",
    "pin_too_simple": "PIN too simple (e.g. 1111 or 1234)",
    "pin_wrong": "wrong PIN: {left} attempt(s) left",
    "rate_too_high": "rate too high (at most {max} basis points a month)",
    "reason_missing": "give the reason for the correction",
    "receipt_exists": "this receipt already exists",
    "receipt_kind_unknown": "unknown kind of receipt: {value}",
    "receipt_paper_invalid": "the receipt's figures cannot be read",
    "receipt_paper_wrong": "the receipt would print {value:money} instead of {expected:money}",
    "repayment_exceeds_balance": "{amount:money} is more than what is owed: {payoff:money} at most.",
    "repayment_split_wrong": "the repayment's parts do not add up",
    "reprint_waiting": (
        "this receipt is still in the print queue: it will come out as soon as the printer is ready, "
        "no need to reprint it"
    ),
    "representative_missing": "say who represents the member",
    "representative_unexpected": "a representative is given only for 'represented'",
    "restore_in_progress": "a restore is under way (up to no. {until}): finish `muso-kiosk restore` first",
    "reversal_after_share_out": (
        "this movement came before the share-out of the {fund} fund and was shared with it: it can no "
        "longer be reversed; record a new movement to set things right"
    ),
    "reverse_later_repayment_first": "reverse this loan's latest repayment first",
    "role_unknown": "unknown role: {value}",
    "rounding_unit_invalid": "invalid rounding unit: {value} (1, 5, 10, 25, 50 or 100)",
    "rules_field_unknown": "unknown rule",
    "rules_not_object": "the rules must be an object",
    "rules_version_wrong": "unexpected rules version (expected {expected})",
    "savings_insufficient": "not enough savings ({missing:money} missing)",
    "self_approval": "{name} cannot approve a movement to themselves",
    "sex_unknown": "unknown sex: {value} (F or M)",
    "share_out_invalid": "invalid share-out",
    "share_out_not_in_rules": "the rules have no share-out",
    "share_out_nothing": "nothing to share: no gain or loss since the last share-out",
    "share_out_with_loans": "loans are running: a share-out with payout must wait until they are repaid",
    "step_unknown": "unknown step: {value}",
    "term_range_invalid": "the longest term must be at least the shortest ({min})",
    "text_invalid": "invalid text: {value}",
    "text_nul": "forbidden character (NUL) in a text",
    "transaction_crosses_funds": "a movement cannot touch two boxes",
    "transaction_empty": "empty movement",
    "transaction_exists": "this movement already exists",
    "transaction_unbalanced": "unbalanced entry ({total})",
    "transaction_unknown": "unknown movement",
    "two_officers_required": "two officers must approve with their PINs",
    "value_not_json": "value not allowed ({value})",
    "withdrawal_exit_only": "the rules allow taking savings out only when leaving the group",
    "withdrawal_with_loan": "no savings withdrawal while a loan is running",
}

CATALOGUES = {"fr": FR, "en": EN}


class _Params(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


class _Formatter:
    """``{x:money}`` prints an amount as ``12 500 FCFA``; anything else as is."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if spec == "money" and isinstance(self.value, int):
            return format_xof(self.value)
        if isinstance(self.value, list):
            return ", ".join(str(v) for v in self.value)
        return format(self.value, spec) if spec and spec != "money" else str(self.value)


def message(problem: Problem, lang: str = "fr", *, with_field: bool = True) -> str:
    catalogue = CATALOGUES.get(lang, FR)
    template = catalogue.get(problem.code, problem.code)
    params = _Params({k: _Formatter(v) for k, v in problem.params.items()})
    text = template.format_map(params)
    if not (with_field and problem.field):
        return text
    return f"{problem.field} : {text}" if lang == "fr" else f"{problem.field}: {text}"


def messages(error: DomainError | Iterable[Problem], lang: str = "fr", *, with_field: bool = True) -> list[str]:
    problems = error.problems if isinstance(error, DomainError) else list(error)
    return [message(p, lang, with_field=with_field) for p in problems]
