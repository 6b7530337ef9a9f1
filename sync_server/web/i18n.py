"""The console's words, French first, English second; error codes become sentences here, at the edge."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from kiosk.domain.money import group_thousands

LANGS = ("fr", "en")

T: dict[str, tuple[str, str]] = {
    # navigation and common words
    "overview": ("Vue d'ensemble", "Overview"),
    "groups": ("Groupes", "Groups"),
    "group": ("Groupe", "Group"),
    "kiosks": ("Kiosques", "Kiosks"),
    "verify": ("Vérifier un reçu", "Verify a receipt"),
    "exports": ("Exports", "Exports"),
    "enrollments": ("Codes d'inscription", "Enrollment codes"),
    "users": ("Utilisateurs", "Users"),
    "logout": ("Se déconnecter", "Log out"),
    "login": ("Se connecter", "Log in"),
    "username": ("Nom d'utilisateur", "User name"),
    "password": ("Mot de passe", "Password"),
    "other_lang": ("English", "Français"),
    "role_admin": ("administrateur", "administrator"),
    "role_coordinator": ("coordinateur", "coordinator"),
    "role_viewer": ("lecteur", "viewer"),
    "search": ("Rechercher", "Search"),
    "all_countries": ("Tous les pays", "All countries"),
    "previous": ("← Précédents", "← Previous"),
    "next": ("Suivants →", "Next →"),
    "none": ("Aucun", "None"),
    "never": ("jamais", "never"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "download": ("Télécharger", "Download"),
    "create": ("Créer", "Create"),
    "save": ("Enregistrer", "Save"),
    "country": ("Pays", "Country"),
    "cooperative": ("Coopérative", "Cooperative"),
    "village": ("Village", "Village"),
    "kiosk": ("Kiosque", "Kiosk"),
    "name": ("Nom", "Name"),
    "date": ("Date", "Date"),
    "status": ("État", "Status"),
    "amount": ("Montant", "Amount"),
    "reason": ("Motif", "Reason"),
    "member": ("Membre", "Member"),
    "members": ("Membres", "Members"),
    "women": ("Femmes", "Women"),
    "savings": ("Épargne", "Savings"),
    "loans": ("Prêts", "Loans"),
    # The indicator leaves the caisse rouge's aid loans out (docs/indicators.md); what a member owes counts them.
    "loans_out": ("Prêts en cours, hors prêts d'aide", "Loans outstanding, aid loans excluded"),
    "loans_owed": ("Capital restant dû, prêts d'aide compris", "Principal owed, aid loans included"),
    "par30": ("Portefeuille à risque > 30 j", "Portfolio at risk > 30 d"),
    "aid": ("Aides versées", "Aid paid"),
    "attendance": ("Présence", "Attendance"),
    "meetings": ("Séances", "Meetings"),
    "last_meeting": ("Dernière séance", "Last meeting"),
    "last_sync": ("Dernière synchro", "Last sync"),
    "silent": ("Kiosques muets > {days} j", "Kiosks silent > {days} d"),
    "printers_down": ("Imprimantes en panne", "Printers in trouble"),
    "quarantined_events": ("Événements en quarantaine", "Quarantined events"),
    "stale_meetings": ("Séances ouvertes > {days} j", "Meetings open > {days} d"),
    "stale_note": (
        "Jamais clôturées : ni comptage de clôture, ni reçus, ni procès-verbal. Appelez le trésorier.",
        "Never closed: no closing count, no receipts, no minutes. Call the treasurer.",
    ),
    "opened_on": ("Ouverte le", "Opened on"),
    "idle_groups": ("Groupes sans séance > {days} j", "Groups without a meeting > {days} d"),
    "idle_note": (
        "Leur kiosque se synchronise, mais aucune séance n'y a été tenue depuis : appelez le président ou "
        "la présidente.",
        "Their kiosk syncs, but no meeting has been held on it since: call the group's president.",
    ),
    "last_meeting_on": ("Dernière séance", "Last meeting"),
    # Under a list cut short, beside a card that counts them all: "1" above a list of 10 read as a mistake.
    "oldest_groups_of": ("Les {shown} plus anciens sur {n}.", "The {shown} oldest of {n}."),
    "oldest_meetings_of": ("Les {shown} plus anciennes sur {n}.", "The {shown} oldest of {n}."),
    "savings_history": ("Épargne (caisse verte)", "Savings (green fund)"),
    "savings_history_note": (
        "Ce qui a changé l'épargne du membre, et ce qu'il en restait après : les lignes de la section "
        "« Épargne » de son relevé.",
        "What changed the member's savings, and what they came to after: the lines of the Savings section "
        "of their printed statement.",
    ),
    "savings_after": ("Épargne après", "Savings after"),
    "only_latest": (
        "Les {n} plus récents seulement. Tous sont dans l'export des mouvements du groupe :",
        "The {n} latest only. All of them are in the group's movements export:",
    ),
    "silent_flag": ("muet", "silent"),
    "silent_flag_hint": (
        "Kiosque sans synchro depuis plus de {days} j : chiffres arrêtés à sa dernière synchro",
        "Kiosk not synced for more than {days} d: figures stop at its last sync",
    ),
    "group_silent": (
        "Kiosque muet depuis {days} j : chiffres au {date}.",
        "Kiosk silent for {days} d: figures as of {date}.",
    ),
    "no_groups": ("Aucun groupe dans votre périmètre.", "No group in your scope."),
    # A scope that matches no group (a cooperative misspelt, or not synced yet): said, never shown as zeros.
    "scope_empty": (
        "Votre périmètre ({scope}) ne contient encore aucun groupe : il n'y a pas de chiffres à montrer. "
        "Si des groupes auraient dû s'y trouver, faites vérifier par un administrateur l'orthographe du pays "
        "ou de la coopérative (accents compris).",
        "Your scope ({scope}) holds no group yet: there are no figures to show. If groups should be in it, "
        "have an administrator check the spelling of the country or cooperative (accents included).",
    ),
    "no_group_synced": ("Aucun groupe n'a encore été synchronisé.", "No group has been synced yet."),
    "page_past_end": ("Cette page est au-delà de la fin de la liste.", "This page is past the end of the list."),
    "last_page": ("Dernière page ({pages})", "Last page ({pages})"),
    "no_groups_match": ("Aucun groupe ne correspond à cette recherche.", "No group matches this search."),
    "no_meetings": ("Aucune séance.", "No meeting."),
    "no_movements": ("Aucun mouvement.", "No movement."),
    # Arrears are counted to the server's today, a kiosk's paper report to its last meeting: said beside them.
    "arrears_as_of": (
        "Impayés et portefeuille à risque au {date} (date du serveur) ; le rapport papier d'un kiosque les "
        "compte à sa dernière séance.",
        "Arrears and portfolio at risk as of {date} (the server's date); a kiosk's paper report counts them "
        "to its last meeting.",
    ),
    "needs_attention": ("Groupes à suivre (retards les plus lourds)", "Groups to follow (heaviest arrears)"),
    # What orders the list: the amount late more than 30 days, then its share (PAR 30).
    "at_risk": ("En retard > 30 j", "Late > 30 d"),
    "no_arrears": ("Aucun prêt en retard de plus de 30 jours.", "No loan more than 30 days late."),
    "chart_money": (
        "Épargne et prêts en cours hors prêts d'aide (fin de mois)",
        "Savings and loans outstanding, aid loans excluded (month end)",
    ),
    "chart_attendance": ("Présence par mois", "Attendance per month"),
    "chart_attendance_meeting": ("Présence par séance", "Attendance per meeting"),
    "no_data": ("pas encore de données", "no data yet"),
    "no_scope": (
        "Votre compte n'a pas encore de périmètre : demandez à un administrateur.",
        "Your account has no scope yet: ask an administrator.",
    ),
    "groups_found": ("{n} groupes", "{n} groups"),  # counts: the key, and key_one for the singular (plural())
    "groups_found_one": ("{n} groupe", "{n} group"),
    "n_loans": ("{n} prêts", "{n} loans"),
    "n_loans_one": ("{n} prêt", "{n} loan"),
    "n_meetings": ("{n} séances", "{n} meetings"),
    "n_meetings_one": ("{n} séance", "{n} meeting"),
    "colon": ("\u00a0:", ":"),  # French writes a (no-break) space before a colon, English none
    "number_of": ("n°\u00a0{n}", "no. {n}"),
    # group page
    "funds": ("Caisses", "Funds"),
    "fund_verte": ("Caisse verte", "Green fund"),
    "fund_rouge": ("Caisse rouge", "Red fund"),
    "fund_bleue": ("Caisse bleue", "Blue fund"),
    "owed_outside": ("Dû aux prêteurs extérieurs", "Owed to outside lenders"),
    "cash": ("Espèces", "Cash"),
    "number": ("N°", "No."),
    "sex": ("Sexe", "Sex"),
    "role": ("Rôle", "Role"),
    "active": ("Actif", "Active"),
    "left": ("parti·e le {d}", "left on {d}"),
    "principal": ("Capital", "Principal"),
    "outstanding": ("Reste dû", "Outstanding"),
    "arrears": ("Arriérés", "Arrears"),
    "days_late": ("Retard (jours)", "Late (days)"),
    "due_date": ("Échéance finale", "Final due date"),
    "start": ("Début", "Start"),
    "active_loans": ("Prêts actifs et retards", "Active loans and arrears"),
    "no_loans": ("Aucun prêt en cours.", "No loan outstanding."),
    "meeting_list": ("Séances : présence et écarts de caisse", "Meetings: attendance and cash discrepancies"),
    "discrepancy": ("Écart de caisse", "Cash discrepancy"),
    "at_open": ("Ouverture\u00a0:", "Opening:"),  # a no-break space: the colon never starts a line
    "at_close": ("Clôture\u00a0:", "Closing:"),
    "open": ("ouverte", "open"),
    "closed": ("clôturée", "closed"),
    "corrections": ("Journal des corrections", "Corrections log"),
    "no_corrections": ("Aucune correction.", "No correction."),
    "corrected": ("Mouvement corrigé", "Corrected movement"),
    "office_log": ("Responsables, noms et codes", "Officers, names and PINs"),
    "no_office_log": ("Aucun changement.", "No change."),
    "approved_by": ("Approuvé par", "Approved by"),
    "o_office": ("devient {role}", "becomes {role}"),
    "o_renamed": ("renommé·e « {name} »", "renamed “{name}”"),
    "o_pin_changed": ("a changé son code", "changed their PIN"),
    "o_pin_reset": ("code réinitialisé", "PIN reset"),
    "export_group": ("Exporter ce groupe", "Export this group"),
    "statement": ("Relevé", "Statement"),
    "movements": ("Mouvements", "Movements"),
    "paid_in": ("Versé", "Paid in"),
    "received": ("Reçu", "Received"),
    "movements_note": (
        "Versé : ce que le membre a payé au groupe (cotisation, amende, remboursement…). Reçu : ce que le groupe "
        "lui a remis (prêt, aide, retrait, partage). Une correction reprend le montant, en négatif, dans la "
        "colonne du mouvement qu'elle annule.",
        "Paid in: what the member paid the group (contribution, fine, repayment…). Received: what the group "
        "handed them (loan, aid, withdrawal, share-out). A correction takes the amount back, negative, in the "
        "column of the movement it cancels.",
    ),
    "kind": ("Nature", "Kind"),
    "fund": ("Caisse", "Fund"),
    "reversed": ("annulé", "reversed"),
    # kiosks
    "acked": ("Événements", "Events"),
    "quarantined": ("Quarantaine", "Quarantined"),
    "n_quarantined": ("{n} en quarantaine", "{n} quarantined"),
    # incidents: refusals that looked like tampering or abuse, and events quarantined
    "incidents": ("Incidents", "Incidents"),
    "no_incidents": ("Aucun incident.", "No incident."),
    "when": ("Quand", "When"),
    "what": ("Quoi", "What"),
    "from_address": ("Adresse", "Address"),  # the remote address (or "usb" for a stick)
    "unproven": ("se dit ce kiosque", "claims to be it"),
    "i_events_quarantined": (
        "Événements mis en quarantaine : refusés par les règles, à examiner",
        "Events quarantined: refused by the rules, to look into",
    ),
    "i_chain_mismatch": ("Lot altéré, réordonné ou tronqué : refusé", "Batch altered, reordered or cut: refused"),
    "i_chain_diverged": (
        "Historique différent de celui déjà reçu (kiosque restauré d'une vieille sauvegarde ?)",
        "History differs from what was received before (kiosk restored from an old backup?)",
    ),
    "i_signature_invalid": ("Signature qui n'est pas celle de ce kiosque", "Signature that is not this kiosk's"),
    "i_key_revoked": ("Signé par une clé révoquée (clé USB d'un kiosque révoqué)", "Signed with a revoked key"),
    "i_kiosk_revoked": ("Un kiosque révoqué a essayé de se synchroniser", "A revoked kiosk tried to sync"),
    "i_replaced_key_bundle": (
        "Clé USB signée par la clé d'un kiosque remplacé : importée. Vérifiez que l'ancien Pi ne sert plus",
        "USB stick signed with a replaced kiosk's key: imported. Check that the old Pi is no longer used",
    ),
    "i_kiosk_not_active": (
        "Événements d'un kiosque révoqué ou non inscrit (clé USB ?) : refusés",
        "Events from a revoked or unenrolled kiosk (USB stick?): refused",
    ),
    "i_kiosk_mismatch": ("Un kiosque a envoyé le lot d'un autre", "A kiosk sent another kiosk's batch"),
    "i_body_too_large": ("Envoi trop gros : refusé", "Upload too large: refused"),
    "i_batch_too_large": ("Lot trop gros : refusé", "Batch too large: refused"),
    "i_decompressed_too_large": (
        "Envoi qui grossit démesurément une fois décompressé : refusé",
        "Upload that grows beyond bounds once decompressed: refused",
    ),
    "i_proof_invalid": (
        "Inscription refusée : la demande n'est pas signée par la clé qu'elle inscrit",
        "Enrollment refused: the request is not signed by the key it enrolls",
    ),
    "i_enrollment_code_unknown": (
        "Inscription refusée : code d'inscription inconnu",
        "Enrollment refused: unknown enrollment code",
    ),
    "i_enrollment_code_used": (
        "Inscription refusée : code d'inscription déjà utilisé par un autre appareil",
        "Enrollment refused: enrollment code already used by another device",
    ),
    "i_enrollment_code_expired": (
        "Inscription refusée : code d'inscription expiré",
        "Enrollment refused: enrollment code expired",
    ),
    "i_export_too_large": (
        "Export de plus d'un million de lignes en Excel : refusé",
        "Excel export of more than a million rows: refused",
    ),
    "clock_skew": ("Horloge", "Clock"),
    "key_since": ("Clé depuis", "Key since"),
    "not_reported": (
        "Version, reçus en attente, erreur d'imprimante et événements à envoyer : ce que chaque kiosque "
        "a dit de lui-même à sa dernière synchronisation (vide s'il n'a rien dit).",
        "Version, receipts waiting, printer error and events left to send: what each kiosk said about "
        "itself at its last sync (empty if it said nothing).",
    ),
    "app_version": ("Version", "Version"),
    "print_pending": ("Reçus en attente", "Receipts waiting"),
    "printer_error": ("Imprimante", "Printer"),
    "events_pending": ("À envoyer", "To send"),
    "printer_ok": ("en état", "working"),
    "kiosk_pending": ("en attente", "pending"),
    "kiosk_active": ("actif", "active"),
    "kiosk_revoked": ("révoqué", "revoked"),
    "revoke": ("Révoquer", "Revoke"),
    "revoke_confirm": (
        "Confirmer : ce kiosque ne pourra plus synchroniser",
        "Confirm: this kiosk will no longer be able to sync",
    ),
    # enrollment
    "new_code": ("Nouveau code d'inscription", "New enrollment code"),
    "kiosk_id": ("Identifiant du kiosque", "Kiosk id"),
    "kiosk_name": ("Nom du kiosque", "Kiosk name"),
    "hours": ("Validité (heures)", "Valid for (hours)"),
    "replace": ("Remplacement d'un appareil", "Replacing a device"),
    "groups_on_kiosk": (
        "Groupes à installer sur ce kiosque (un par ligne ; dans le pays et la coopérative ci-dessus)",
        "Groups to set up on this kiosk (one per line; in the country and cooperative above)",
    ),
    "code_created": (
        "Code pour {kiosk} : {code} — valable une fois, jusqu'au {until}. Notez-le : il ne sera plus affiché.",
        "Code for {kiosk}: {code} — valid once, until {until}. Write it down: it will not be shown again.",
    ),
    "created_by": ("Créé par", "Created by"),
    "expires": ("Expire", "Expires"),
    "used": ("Utilisé", "Used"),
    "expired": ("expiré", "expired"),
    "waiting": ("en attente", "waiting"),
    "will_set_up": ("Groupes qu'il créera", "Groups it will set up"),
    # users
    "new_user": ("Nouvel utilisateur", "New user"),
    "countries_hint": ("Pays (ex. TG, BJ ; * pour tous)", "Countries (e.g. TG, BJ; * for all)"),
    "cooperatives_hint": ("Coopératives (une par ligne)", "Cooperatives (one per line)"),
    "scope": ("Périmètre", "Scope"),
    "disable": ("Désactiver", "Disable"),
    "enable": ("Réactiver", "Enable"),
    "user_saved": ("Utilisateur enregistré.", "User saved."),
    # one's own account
    "account": ("Mon compte", "My account"),
    "change_password": ("Changer de mot de passe", "Change password"),
    "current_password": ("Mot de passe actuel", "Current password"),
    "new_password": ("Nouveau mot de passe (10 caractères au moins)", "New password (10 characters at least)"),
    "new_password_again": ("Nouveau mot de passe, encore", "New password, again"),
    "password_changed": (
        "Mot de passe changé. Vos autres sessions sont fermées.",
        "Password changed. Your other sessions are closed.",
    ),
    "sessions": ("Sessions", "Sessions"),
    "sessions_open": ("Sessions ouvertes, celle-ci comprise : {count}", "Open sessions, this one included: {count}"),
    "end_other_sessions": ("Fermer mes autres sessions", "Log out my other sessions"),
    "sessions_ended": (
        "Vos autres sessions sont fermées. Les jetons d'API obtenus avant ne servent plus.",
        "Your other sessions are closed. API tokens obtained before no longer work.",
    ),
    "reset_password": ("Nouveau mot de passe", "New password"),
    "reset": ("Changer", "Reset"),
    # verification
    "verify_intro": (
        "Saisissez le numéro et le code imprimés sur le reçu, ou scannez son QR code.",
        "Type the number and code printed on the receipt, or scan its QR code.",
    ),
    "receipt_number": ("Numéro du reçu (ex. K07-000123)", "Receipt number (e.g. K07-000123)"),
    "receipt_code": ("Code de vérification (ex. ABCDE-FGHIJ)", "Verification code (e.g. ABCDE-FGHIJ)"),
    "check": ("Vérifier", "Verify"),
    "v_genuine": (
        "Code authentique : c'est celui d'un reçu du journal synchronisé. Le papier ne dit vrai que si chaque "
        "montant ci-dessous est le même que le sien.",
        "Genuine code: it is that of a receipt in the synced journal. The paper is true only if every amount "
        "below is the same as its own.",
    ),
    "v_genuine_report": (
        "Code authentique : c'est celui d'un procès-verbal du journal synchronisé. Le papier ne dit vrai que si "
        "chaque montant ci-dessous est le même que le sien.",
        "Genuine code: it is that of a meeting report in the synced journal. The paper is true only if every "
        "amount below is the same as its own.",
    ),
    "v_quarantined": (
        "Le reçu figure au journal, mais l'événement a été refusé par les contrôles du serveur : à examiner.",
        "The receipt is in the journal, but the server's checks refused its event: look into it.",
    ),
    "v_mismatch": (
        "Ne correspond pas : ce code n'est pas celui de ce reçu. Reçu falsifié ou mal recopié.",
        "Does not match: this is not this receipt's code. Forged or mistyped receipt.",
    ),
    "v_unknown": (
        "Inconnu : aucun reçu de ce numéro n'a été synchronisé (pas encore, ou numéro erroné).",
        "Unknown: no receipt with this number has been synced (not yet, or a wrong number).",
    ),
    "v_not_verified": (
        "Non vérifié : numéro inconnu ou code erroné. Vérifiez chaque lettre et chaque chiffre ; si tout est "
        "bien recopié, montrez le reçu au coordinateur.",
        "Not verified: unknown number or wrong code. Check every letter and digit; if it is all copied right, "
        "show the receipt to the coordinator.",
    ),
    "v_not_yet": (
        "Pas encore reçu par le serveur : le kiosque de ce reçu n'a pas encore envoyé ce numéro. Si le reçu est "
        "récent, réessayez après la prochaine synchronisation du kiosque ; sinon, vérifiez le numéro.",
        "Not received by the server yet: this receipt's kiosk has not sent this number yet. If the receipt is "
        "recent, try again after the kiosk's next sync; otherwise, check the number.",
    ),
    "v_login_for_content": (
        "Coordinateurs : connectez-vous pour voir le groupe et le nom du membre.",
        "Coordinators: log in to see the group and the member's name.",
    ),
    "v_compare": (
        "Comparez avec le papier : chaque montant doit être le même.",
        "Compare with the paper: every amount must be the same.",
    ),
    "v_journal_point": (
        "Code d'un relevé ou d'un échéancier : imprimé quand le journal du kiosque {kiosk} en était au n° {seq} "
        "({when}).",
        "Code of a statement or a schedule: printed when kiosk {kiosk}'s journal stood at no. {seq} ({when}).",
    ),
    "v_point_figures": (
        "Ce code prouve ce moment du journal, pas les montants du papier : tous les documents imprimés à ce "
        "moment portent le même. Les montants se vérifient avec les reçus de séance, chacun garanti par son "
        "code, ou par un coordinateur sur cette console.",
        "This code proves that point of the journal, not the figures on the paper: every document printed at "
        "that moment carries the same one. The figures are checked against the meeting receipts, each vouched "
        "for by its own code, or by a coordinator on this console.",
    ),
    "pv_opening_counted": ("Ouverture, compté", "Opening, counted"),
    "pv_opening_expected": ("Ouverture, attendu", "Opening, expected"),
    "pv_closing_expected": ("Clôture, attendu", "Closing, expected"),
    "pv_closing_counted": ("Clôture, compté", "Closing, counted"),
    "split_principal": ("dont capital", "of which principal"),
    "split_penalty": ("pénalité", "penalty"),
    "paper_paid": ("Total versé", "Total paid"),
    "paper_received": ("Total reçu", "Total received"),
    "paper_savings": ("Épargne (verte)", "Savings (green)"),
    "paper_loan": ("Capital restant dû", "Loan capital left"),
    "paper_late": ("En retard, à payer", "Late, to pay"),
    "paper_aid": ("Aides reçues (total)", "Aid received (total)"),
    "paper_next": ("Prochaine échéance le {date}", "Next installment on {date}"),
    "paper_next_loans": ("pour {n} prêts", "for {n} loans"),
    "v_outside_scope": ("Ce reçu est hors de votre périmètre.", "This receipt is outside your scope."),
    "receipt_content": ("Contenu du reçu tel que synchronisé", "The receipt's content as synced"),
    # the same page for a meeting's procès-verbal, which prints a number and a code as a receipt does
    "verify_report": ("Vérifier un procès-verbal", "Verify a meeting report"),
    "report_intro": (
        "Saisissez le numéro et le code imprimés sur le procès-verbal, ou scannez son QR code.",
        "Type the number and code printed on the meeting report, or scan its QR code.",
    ),
    "report_number": ("Numéro du procès-verbal (ex. K07-000123)", "Meeting report number (e.g. K07-000123)"),
    "report_code": ("Code de vérification (ex. ABCDE-FGHIJ)", "Verification code (e.g. ABCDE-FGHIJ)"),
    "report_content": ("Contenu du procès-verbal tel que synchronisé", "The meeting report's content as synced"),
    "report": ("Procès-verbal", "Meeting report"),
    "later_corrected": ("corrigé ensuite : {reason}", "corrected later: {reason}"),
    "later_corrected_plain": ("corrigé ensuite", "corrected later"),
    "to_repay": ("à rembourser", "to be repaid"),
    # exports
    "export_intro": (
        "CSV (tout volume) ou Excel, pour un groupe ou tout votre périmètre.",
        "CSV (any size) or Excel, for one group or your whole scope.",
    ),
    "export_members": ("Membres", "Members"),
    "export_movements": ("Mouvements", "Movements"),
    "export_loans": ("Prêts", "Loans"),
    "export_meetings": ("Séances", "Meetings"),
    "export_indicators": ("Indicateurs trimestriels (style SAVIX)", "Quarterly indicators (SAVIX style)"),
    "sheet_indicators": ("Indicateurs trimestriels", "Quarterly indicators"),  # an Excel sheet's name: 31 at most
    "sheet_indicators_of": ("Indicateurs {quarter}", "Indicators {quarter}"),
    "sheet_indicators_running": ("Indicateurs {quarter} en cours", "Indicators {quarter} provisional"),
    "quarter_running_note": (
        "Le trimestre en cours n'est pas fini : ses chiffres sont provisoires (le fichier le dit).",
        "The current quarter is not over: its figures are provisional (the file says so).",
    ),
    "quarter": ("Trimestre (ex. 2026-Q3)", "Quarter (e.g. 2026-Q3)"),
    "since": ("Du (JJ/MM/AAAA)", "From (YYYY-MM-DD)"),
    "until": ("Au (JJ/MM/AAAA)", "To (YYYY-MM-DD)"),
    "since_example": ("01/01/2026", "2026-01-01"),
    "until_example": ("31/12/2026", "2026-12-31"),
    "whole_scope": ("tout le périmètre", "whole scope"),
    # errors
    "error": ("Erreur", "Error"),
    "e_login_failed": ("Nom d'utilisateur ou mot de passe incorrect.", "Wrong user name or password."),
    "e_login_locked": (
        "Trop d'essais manqués : réessayez dans {retry_after} s.",
        "Too many failed attempts: retry in {retry_after} s.",
    ),
    "e_csrf": (
        "Formulaire expiré ou d'une autre origine : rechargez la page et recommencez.",
        "This form expired or came from elsewhere: reload the page and try again.",
    ),
    "e_not_allowed": ("Votre rôle ne permet pas cette action.", "Your role does not allow this."),
    "e_not_found": ("Introuvable.", "Not found."),
    "e_login_required": ("Session expirée : reconnectez-vous.", "Your session has ended: log in again."),
    "e_rate_limited": ("Trop de requêtes : patientez un instant.", "Too many requests: wait a moment."),
    "e_password_mismatch": ("Les deux nouveaux mots de passe diffèrent.", "The two new passwords differ."),
    "e_password_wrong": ("Mot de passe actuel incorrect.", "Wrong current password."),
    "e_password_too_short": (
        "Un mot de passe compte au moins 10 caractères.",
        "A password needs 10 characters at least.",
    ),
    "e_user_exists": ("Ce nom d'utilisateur est déjà pris.", "This user name is taken."),
    "e_username_invalid": (
        "Un nom d'utilisateur compte de 1 à 100 caractères.",
        "A user name needs 1 to 100 characters.",
    ),
    "e_last_admin": (
        "C'est le dernier administrateur actif : nommez-en un autre d'abord.",
        "This is the last active administrator: make another one first.",
    ),
    "e_country_invalid": (
        "Un pays s'écrit en code de deux lettres (TG, BJ), ou * pour tous ; un nom comme « Togo » n'est pas reconnu.",
        "A country is a two-letter code (TG, BJ), or * for all; a name such as 'Togo' is not understood.",
    ),
    "e_scope_invalid": ("Périmètre trop long.", "Scope too long."),
    "e_role_unknown": (
        "Un rôle est administrateur, coordinateur ou lecteur.",
        "A role is administrator, coordinator or viewer.",
    ),
    "e_user_unknown": ("Cet utilisateur n'existe pas.", "No such user."),
    "e_user_inactive": ("Ce compte est désactivé.", "This account is disabled."),
    # the exports' filters
    "e_date_invalid": (
        "Une date s'écrit JJ/MM/AAAA ou AAAA-MM-JJ, par exemple 01/10/2026 ou 2026-10-01.",
        "A date is written YYYY-MM-DD, for example 2026-10-01.",
    ),
    "e_date_range_invalid": (
        "La date de début est après la date de fin : aucun jour entre les deux.",
        "The start date is after the end date: no day lies between them.",
    ),
    "e_quarter_future": (
        "Le trimestre {quarter} n'a pas encore commencé : il n'a pas de chiffres.",
        "Quarter {quarter} has not started yet: it has no figures.",
    ),
    "e_quarter_invalid": (
        "Un trimestre s'écrit comme 2026-Q3 (Q1 à Q4, années 2000 à 2200).",
        "A quarter is written like 2026-Q3 (Q1 to Q4, years 2000 to 2200).",
    ),
    "e_group_invalid": (
        "Un groupe s'écrit KIOSQUE/IDENTIFIANT_DU_GROUPE, comme dans les liens d'export de sa page.",
        "A group is written KIOSK/GROUP_ID, as in the export links of its page.",
    ),
    "e_export_too_large": (
        "Plus d'un million de lignes : exportez en CSV, ou un seul groupe, ou une période plus courte.",
        "More than a million rows: export CSV, or one group, or a shorter period.",
    ),
    # the enrollment form
    "e_kiosk_id_invalid": (
        "Un identifiant de kiosque compte 1 à 64 lettres sans accent, chiffres, « . », « _ » ou « - ».",
        "A kiosk id is 1 to 64 letters without accents, digits, '.', '_' or '-'.",
    ),
    "e_hours_invalid": (
        "Un code d'inscription est valable de 1 à 720 heures.",
        "An enrollment code is valid for 1 to 720 hours.",
    ),
    "e_kiosk_outside_scope": (
        "Cet identifiant de kiosque est déjà pris hors de votre périmètre : choisissez-en un autre.",
        "This kiosk id is taken outside your scope: choose another.",
    ),
    "code_not_yours": ("révocable par un administrateur", "an administrator may revoke it"),
    "code_not_yours_why": (
        "Ce kiosque sert aussi des groupes hors de votre périmètre.",
        "This kiosk also serves groups outside your scope.",
    ),
    "e_kiosk_partly_outside_scope": (
        "Ce kiosque sert aussi des groupes hors de votre périmètre : demandez à un administrateur.",
        "This kiosk also serves groups outside your scope: ask an administrator.",
    ),
    "e_place_outside_scope": (
        "Choisissez un pays et une coopérative de votre périmètre.",
        "Choose a country and a cooperative inside your scope.",
    ),
    "e_group_country_required": (
        "Des groupes à installer sur ce kiosque ont besoin de leur pays : indiquez le pays du kiosque (TG, BJ).",
        "Groups to set up on this kiosk need their country: give the kiosk's country (TG, BJ).",
    ),
    "e_template_unknown": ("Ce modèle de règlement n'existe pas.", "No such règlement template."),
    "e_template_without_groups": (
        "Un modèle de règlement s'applique aux groupes nommés avec lui : indiquez les groupes.",
        "A règlement template applies to the groups named with it: give the groups.",
    ),
    "e_kiosk_already_enrolled": (
        "Ce kiosque est déjà inscrit : cochez « Remplacement d'un appareil » pour le passer sur un nouvel appareil.",
        "This kiosk is already enrolled: tick 'Replacing a device' to move it to a new device.",
    ),
    "e_kiosk_unknown": (
        "Ce kiosque est inconnu : aucun kiosque ne s'est inscrit sous cet identifiant.",
        "This kiosk is unknown: no kiosk ever enrolled under this id.",
    ),
    "e_code_unknown": (
        "Ce code n'existe pas ou n'attend plus d'être utilisé.",
        "No such code waiting to be used.",
    ),
    "code_again": (
        "Ce code a déjà été créé (formulaire envoyé deux fois) : il ne peut plus être affiché. "
        "Il figure ci-dessous ; s'il est perdu, révoquez-le et créez-en un autre.",
        "This code was already created (the form was sent twice): it cannot be shown again. "
        "It is listed below; if it is lost, revoke it and create another.",
    ),
    # what a refusal says when its code has no sentence of its own (never the English message in French)
    "e_400": ("Demande refusée : vérifiez ce qui a été saisi.", "Request refused: check what was typed."),
    "e_401": ("Session expirée : reconnectez-vous.", "Your session has ended: log in again."),
    "e_403": ("Action refusée.", "Refused."),
    "e_405": (
        "Cette adresse ne s'ouvre pas ainsi : revenez en arrière et utilisez les liens de la page.",
        "This address cannot be used this way: go back and use the page's links.",
    ),
    "e_409": ("Conflit avec ce qui est déjà enregistré.", "This conflicts with what is already recorded."),
    "e_413": ("Demande trop volumineuse.", "Request too large."),
    "e_422": ("Demande refusée : vérifiez ce qui a été saisi.", "Request refused: check what was typed."),
    "e_503": ("Service momentanément indisponible : réessayez plus tard.", "Unavailable for now: retry later."),
    "e_other": ("Une erreur s'est produite.", "Something went wrong."),
    # a form field or link parameter the server refused (request validation), named in words
    "e_input_invalid": ("Valeur refusée : {fields}.", "Value refused: {fields}."),
    "e_page_invalid": (
        "Numéro de page invalide : un nombre entier à partir de 1.",
        "Invalid page number: a whole number from 1.",
    ),
    "f_page": ("numéro de page", "page number"),
    "f_mp": ("page des séances", "meetings page"),
    "f_kiosk_id": ("identifiant du kiosque", "kiosk id"),
    "f_name": ("nom", "name"),
    "f_country": ("pays", "country"),
    "f_cooperative": ("coopérative", "cooperative"),
    "f_groups": ("groupes", "groups"),
    "f_hours": ("validité (heures)", "valid for (hours)"),
    "f_replace": ("remplacement d'un appareil", "replacing a device"),
    "f_nonce": ("formulaire (rechargez la page)", "form (reload the page)"),
    "f_username": ("nom d'utilisateur", "user name"),
    "f_password": ("mot de passe", "password"),
    "f_current": ("mot de passe actuel", "current password"),
    "f_new": ("nouveau mot de passe", "new password"),
    "f_again": ("nouveau mot de passe, encore", "new password, again"),
    "f_role": ("rôle", "role"),
    "f_countries": ("pays", "countries"),
    "f_cooperatives": ("coopératives", "cooperatives"),
    "f_action": ("action", "action"),
    "f_user_id": ("utilisateur", "user"),
    "f_q": ("recherche", "search"),
    "f_from": ("date de début", "start date"),
    "f_to": ("date de fin", "end date"),
    "f_quarter": ("trimestre", "quarter"),
    "f_group": ("groupe", "group"),
    "f_number": ("numéro du reçu", "receipt number"),
    "f_code": ("code de vérification", "verification code"),
    "f_lang": ("langue", "language"),
    "f_next": ("page de retour", "return page"),
    "f_kind": ("type d'export", "kind of export"),
    "f_fmt": ("format de fichier", "file format"),
    "f_handle": ("code", "code"),
    "f_saved": ("confirmation", "confirmation"),
    "back": ("Retour", "Back"),
    "aid_loan": ("prêt d'aide", "aid loan"),
    "receipt": ("Reçu", "Receipt"),
    "meeting": ("Séance", "Meeting"),
    "formulas": (
        "Ce que compte chaque indicateur est expliqué plus bas.",
        "What each indicator counts is explained below.",
    ),
    # The indicators' definitions, on the exports page: a coordinator reads them there (the repository's
    # docs/indicators.md says the same at length, for whoever maintains the formulas).
    "definitions": ("Les indicateurs : ce qu'ils comptent", "The indicators: what they count"),
    "definitions_intro": (
        "Montants en francs CFA. Un trimestre regroupe les séances par leur date (pas par la date de "
        "synchronisation) ; celui en cours est provisoire. Pour tout un périmètre, les taux sont recalculés sur "
        "les sommes, jamais en moyenne des taux des groupes. « Fin de période » : le dernier jour du trimestre.",
        "Amounts in francs CFA. A quarter gathers meetings by their date (not by when they were synced); the "
        "quarter under way is provisional. For a whole scope, rates are worked out from the sums, never as an "
        "average of the groups' rates. 'Period's end': the quarter's last day.",
    ),
    "def_members": (
        "Membres qui n'ont pas quitté le groupe, en fin de période.",
        "Members who have not left, at the period's end.",
    ),
    "def_women_pct": ("Femmes parmi les membres actifs.", "Women among the active members."),
    "def_attendance_pct": (
        "Présents et en retard ÷ membres attendus aux séances de la période. Un membre représenté ou excusé "
        "compte parmi les attendus, pas parmi les présents.",
        "Present and late ÷ members expected at the period's meetings. A member represented or excused counts "
        "among those expected, not among those present.",
    ),
    "def_meetings": ("Séances ouvertes pendant la période.", "Meetings opened during the period."),
    "def_savings": (
        "Épargne des membres (caisse verte) en fin de période : cotisations moins retraits et épargne rendue au "
        "départ, plus le partage porté à l'épargne.",
        "Members' savings (green fund) at the period's end: contributions less withdrawals and savings returned "
        "on leaving, plus share-outs credited to savings.",
    ),
    "def_loans_count": (
        "Prêts aux membres dont il reste du capital à rembourser en fin de période (hors prêts d'aide).",
        "Loans to members with principal still to repay at the period's end (aid loans left out).",
    ),
    "def_loans": (
        "Capital restant dû de ces prêts (caisses verte et bleue). Les prêts d'aide sans intérêt de la caisse "
        "rouge sont de l'aide, pas du crédit : ils n'y sont pas.",
        "Principal still owed on those loans (green and blue funds). Interest-free aid loans from the red fund "
        "are aid, not credit: they are left out.",
    ),
    "def_par30": (
        "Capital restant dû des prêts dont la plus ancienne échéance impayée a plus de 30 jours en fin de "
        "période (pour le trimestre en cours : aujourd'hui).",
        "Principal still owed on the loans whose oldest unpaid installment is more than 30 days overdue at the "
        "period's end (for the quarter under way: today).",
    ),
    "def_par30_pct": ("Le même ÷ les prêts en cours.", "The same ÷ loans outstanding."),
    "def_write_offs": (
        "Toujours 0 : un groupe n'annule pas une dette dans le logiciel. Un prêt est remboursé, reste dû (et "
        "compte dans le portefeuille à risque), ou, versé par erreur, est corrigé.",
        "Always 0: a group does not cancel a debt in the software. A loan is repaid, stays due (and counts in "
        "the portfolio at risk), or, paid out by mistake, is corrected.",
    ),
    "def_aid": (
        "Aides versées par la caisse rouge pendant la période : dons et prêts d'aide, corrections déduites.",
        "Aid paid from the red fund during the period: grants and aid loans, net of corrections.",
    ),
    "def_income": (
        "Revenus de la caisse verte pendant la période : PAF, pénalités de retard, amendes et droits "
        "d'adhésion versés à la caisse verte, moins ses dépenses.",
        "Green fund income during the period: PAF, late penalties, fines and entry fees paid into the green "
        "fund, less its expenses.",
    ),
    "def_return_pct": (
        "Revenus ÷ épargne moyenne du trimestre (début + fin, ÷ 2) × 4 : ce qu'un franc épargné rapporterait "
        "en un an à ce rythme. Vide sans épargne.",
        "Income ÷ the quarter's average savings (start + end, ÷ 2) × 4: what a franc saved would earn in a "
        "year at this pace. Empty without savings.",
    ),
    "def_cash_verte": (
        "Argent attendu dans la caisse verte en fin de période, selon les comptes (un écart au comptage est "
        "noté à part, dans l'export des séances).",
        "Cash expected in the green fund at the period's end, by the books (a difference found when counting "
        "is recorded apart, in the meetings export).",
    ),
    "def_cash_rouge": ("Le même, caisse rouge.", "The same, red fund."),
    "def_cash_bleue": ("Le même, caisse bleue.", "The same, blue fund."),
    "def_owed_outside": (
        "Argent de la caisse bleue encore dû aux partenaires qui l'ont prêté.",
        "Blue fund money still owed to the partners who lent it.",
    ),
    # members' roles in their group (as the kiosk records them)
    "r_president": ("président·e", "president"),
    "r_secretaire": ("secrétaire", "secretary"),
    "r_tresorier": ("trésorier·e", "treasurer"),
    "r_controleur": ("contrôleur·euse", "controller"),
    "r_membre": ("membre", "member"),
    # movement kinds
    # The words the member's paper prints (printer.words.KIND), for a receipt's check to read as its paper.
    "k_contribution": ("cotisation", "contribution"),
    "k_entry_fee": ("droit d'adhésion", "entry fee"),
    "k_fine": ("amende", "fine"),
    "k_loan": ("prêt", "loan"),
    "k_repayment": ("remboursement", "repayment"),
    "k_aid": ("aide", "aid"),
    "aid_deces": ("décès", "death"),
    "aid_maladie": ("maladie", "illness"),
    "aid_naissance": ("naissance", "birth"),
    "aid_mariage": ("mariage", "wedding"),
    "aid_sinistre": ("sinistre", "disaster"),
    # Which fine, which aid, as the paper says it ("Amende absence"): the name after the noun in French,
    # before it in English ("absence fine", not "fine absence").
    "named_fine": ("amende {what}", "{what} fine"),
    "named_aid": ("aide {what}", "{what} aid"),
    # The règlement's usual fines, as the kiosk names them; a group's own fine keeps its own name.
    "fine_absence": ("absence", "absence"),
    "fine_retard": ("retard", "lateness"),
    "fine_indiscipline": ("indiscipline", "misconduct"),
    "k_withdrawal": ("retrait d'épargne", "savings withdrawal"),
    "k_exit": ("départ, épargne rendue", "exit, savings returned"),
    "k_expense": ("dépense", "expense"),
    "k_outside_in": ("fonds extérieurs", "outside money in"),
    "k_outside_out": ("remboursement extérieur", "outside repayment"),
    "k_share_out": ("partage", "share-out"),
    "k_share_gain": ("gains du partage", "share-out earnings"),
    "k_share_loss": ("perte du partage", "share-out loss"),
    "k_reversal": ("correction", "correction"),
    "k_discrepancy": ("écart de caisse", "cash discrepancy"),
    "s_active": ("en cours", "active"),
    "s_repaid": ("remboursé", "repaid"),
    "s_cancelled": ("annulé", "cancelled"),
    # exported files: coded values in words, and the columns' headers (x_ + the column's identifier)
    "lk_loan": ("prêt", "loan"),
    "lk_aid": ("prêt d'aide", "aid loan"),
    "m_flat": ("PAF fixe", "flat"),
    "m_declining": ("PAF dégressive", "declining"),
    "m_one_time": ("PAF unique", "one-time"),
    "ms_open": ("ouverte", "open"),
    "ms_closed": ("clôturée", "closed"),
    "sex_F": ("F", "F"),
    "sex_M": ("H", "M"),
    "x_kiosk_id": ("Kiosque", "Kiosk"),
    "x_group": ("Groupe", "Group"),
    "x_country": ("Pays", "Country"),
    "x_cooperative": ("Coopérative", "Cooperative"),
    "x_number": ("N°", "No."),
    "x_name": ("Nom", "Name"),
    "x_sex": ("Sexe", "Sex"),
    "x_role": ("Rôle", "Role"),
    "x_phone": ("Téléphone", "Phone"),
    "x_joined": ("Adhésion", "Joined"),
    "x_left_on": ("Départ", "Left on"),
    "x_active": ("Actif", "Active"),
    "x_savings": ("Épargne (F)", "Savings (F)"),
    "x_loans_owed": ("Capital restant dû, prêts d'aide compris (F)", "Principal owed, aid loans included (F)"),
    "x_aid_received": ("Aides reçues (F)", "Aid received (F)"),
    "x_seq": ("N° d'événement", "Event no."),
    "x_date": ("Date", "Date"),
    "x_meeting": ("Séance n°", "Meeting no."),
    "x_kind": ("Nature", "Kind"),
    "x_fund": ("Caisse", "Fund"),
    "x_amount": ("Montant (F)", "Amount (F)"),
    "x_of_principal": ("dont capital (F)", "of which principal (F)"),
    "x_of_paf": ("dont PAF (F)", "of which PAF (F)"),
    "x_of_penalty": ("dont pénalité (F)", "of which penalty (F)"),
    "x_member_number": ("N° membre", "Member no."),
    "x_member": ("Membre", "Member"),
    "x_reverses_seq": ("Corrige l'événement n°", "Corrects event no."),
    "x_reversed": ("Corrigé ensuite", "Corrected later"),
    "x_reason": ("Motif", "Reason"),
    "x_principal": ("Capital (F)", "Principal (F)"),
    "x_method": ("Méthode de PAF", "PAF method"),
    "x_rate_bp": ("Taux (points de base)", "Rate (basis points)"),
    "x_term_months": ("Durée (mois)", "Term (months)"),
    "x_start": ("Début", "Start"),
    "x_due_date": ("Échéance finale", "Final due date"),
    "x_repaid_on": ("Remboursé le", "Repaid on"),
    "x_principal_paid": ("Capital remboursé (F)", "Principal repaid (F)"),
    "x_paf_paid": ("PAF payée (F)", "PAF paid (F)"),
    "x_penalty_paid": ("Pénalités payées (F)", "Penalties paid (F)"),
    "x_outstanding": ("Capital restant dû (F)", "Principal outstanding (F)"),
    "x_arrears": ("Arriérés (F)", "Arrears (F)"),
    "x_days_late": ("Retard (jours)", "Late (days)"),
    "x_status": ("État", "Status"),
    "x_attended": ("Présents", "Attended"),
    "x_absent": ("Absents", "Absent"),
    "x_excused": ("Excusés", "Excused"),
    "x_represented": ("Représentés", "Represented"),
    "x_slots": ("Membres attendus", "Members expected"),
    "x_discrepancy_open_verte": ("Écart caisse verte à l'ouverture (F)", "Green fund discrepancy at opening (F)"),
    "x_discrepancy_open_rouge": ("Écart caisse rouge à l'ouverture (F)", "Red fund discrepancy at opening (F)"),
    "x_discrepancy_open_bleue": ("Écart caisse bleue à l'ouverture (F)", "Blue fund discrepancy at opening (F)"),
    "x_discrepancy_close_verte": ("Écart caisse verte à la clôture (F)", "Green fund discrepancy at closing (F)"),
    "x_discrepancy_close_rouge": ("Écart caisse rouge à la clôture (F)", "Red fund discrepancy at closing (F)"),
    "x_discrepancy_close_bleue": ("Écart caisse bleue à la clôture (F)", "Blue fund discrepancy at closing (F)"),
    "x_members": ("Membres actifs", "Active members"),
    "x_women_pct": ("Femmes (%)", "Women (%)"),
    "x_attendance_pct": ("Présence (%)", "Attendance (%)"),
    "x_meetings": ("Séances", "Meetings"),
    "x_loans_count": ("Prêts en cours hors prêts d'aide (nombre)", "Loans outstanding, aid loans excluded (count)"),
    "x_loans": ("Prêts en cours hors prêts d'aide (F)", "Loans outstanding, aid loans excluded (F)"),
    "x_par30": ("Portefeuille à risque > 30 j (F)", "Portfolio at risk > 30 d (F)"),
    "x_par30_pct": ("Portefeuille à risque > 30 j (%)", "Portfolio at risk > 30 d (%)"),
    "x_write_offs": ("Passages en perte (F)", "Write-offs (F)"),
    "x_aid": ("Aides versées (F)", "Aid paid (F)"),
    "x_income": ("Revenus caisse verte (F)", "Green fund income (F)"),
    "x_return_pct": ("Rendement annualisé de l'épargne (%)", "Annualised return on savings (%)"),
    "x_cash_verte": ("Caisse verte (F)", "Green fund (F)"),
    "x_cash_rouge": ("Caisse rouge (F)", "Red fund (F)"),
    "x_cash_bleue": ("Caisse bleue (F)", "Blue fund (F)"),
    "x_owed_outside": ("Dû aux prêteurs extérieurs (F)", "Owed to outside lenders (F)"),
}


def translate(lang: str, key: str, **params: object) -> str:
    pair = T.get(key)
    text = (pair[1] if lang == "en" else pair[0]) if pair else key
    return text.format(**params) if params else text


def plural(lang: str, key: str, n: int) -> str:
    """A count that agrees with its noun: ``key_one`` for the singular (French: 0 and 1; English: 1 alone)."""
    one = n in (0, 1) if lang == "fr" else n == 1
    return translate(lang, f"{key}_one" if one and f"{key}_one" in T else key, n=n)


def money(amount: int | None) -> str:
    """12500 -> '12 500 F', with no-break spaces so that an amount never splits over two lines."""
    if amount is None:
        return "—"
    return f"{group_thousands(int(amount))}\u00a0F".replace(" ", "\u00a0")


# The countries' own time, which none of them shifts in summer: fixed offsets, no time zone database needed.
ZONES = {"TG": timezone(timedelta(0), "GMT"), "BJ": timezone(timedelta(hours=1), "WAT")}


def zone_for(countries: Iterable[str]) -> tzinfo:
    """The time a reader lives by: their one country's, else UTC (an administrator, a scope of several)."""
    found = {ZONES.get(c) for c in countries}
    return found.pop() if len(found) == 1 and None not in found else UTC  # type: ignore[return-value]


def when(ms: int | None, lang: str = "fr", zone: tzinfo = UTC) -> str:
    """A moment as people read it, in their time, named: '02/12/2026 10:05 WAT' in French, ISO in English."""
    if not ms:
        return translate(lang, "never")
    moment = datetime.fromtimestamp(ms / 1000, zone)
    return moment.strftime("%d/%m/%Y %H:%M " if lang == "fr" else "%Y-%m-%d %H:%M ") + (moment.tzname() or "UTC")


def day(value: str | None, lang: str = "fr") -> str:
    """A stored ISO date for the page: '2026-10-26' -> '26/10/2026' in French. Exports and the API keep ISO.

    Anything that is not an ISO date is shown as it is: a page never fails on a kiosk's odd value."""
    if not value:
        return "—"
    try:
        parsed = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return parsed.strftime("%d/%m/%Y") if lang == "fr" else parsed.isoformat()


def duration(ms: int | None, lang: str = "fr") -> str:
    """A clock offset people can read: '+12 s', '−5 min', '+332 j' (days)."""
    if ms is None:
        return "—"
    s = abs(ms) / 1000
    amount, unit = s / 86400, "d" if lang == "en" else "j"
    for limit, div, name in ((120, 1, "s"), (7200, 60, "min"), (172_800, 3600, "h")):
        if s < limit:
            amount, unit = s / div, name
            break
    shown = f"{amount:.0f}"
    # Signed by what is shown: an offset that rounds to nothing is no offset, not "−0 s".
    sign = "" if shown == "0" else "+" if ms >= 0 else "−"
    return f"{sign}{shown} {unit}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}\u00a0%".replace(".", ",")
