"""One exception family for sync. ``transient`` errors are retried by the daemon; the others need a person."""

from __future__ import annotations

import re
from typing import Any


class SyncError(Exception):
    def __init__(
        self, code: str, message: str, *, transient: bool = False, retry_after: float = 0, **params: Any
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
        self.params = params


# What a treasurer or technician reads (French first, as everywhere on the kiosk).
FR = {
    "not_enrolled": "ce kiosque n'est pas encore inscrit auprès du serveur (muso-kiosk enroll)",
    "key_missing": (
        "ce kiosque est inscrit mais sa clé manque (base remise d'une sauvegarde, ou venue d'un autre appareil) : "
        "demandez au coordinateur un code de remplacement (muso-server create-enrollment --replace), puis "
        "muso-kiosk enroll avec ce code"
    ),
    "no_database": "pas encore de base de kiosque (l'application la crée à son premier démarrage)",
    "database_not_ready": "la base du kiosque n'est pas encore prête (l'application la crée)",
    "network": "serveur injoignable (réseau) : nouvel essai plus tard",
    "enroll_network": (
        "serveur injoignable (réseau), ou sa réponse s'est perdue : l'inscription n'est pas faite ; "
        "relancez-la avec le même code quand le réseau est là (elle reprend là où elle s'est arrêtée)"
    ),
    "enrollment_changed": "ce kiosque a été inscrit à nouveau : relancez la synchronisation",
    "enroll_during_restore": (
        "une restauration est en cours : terminez-la (muso-kiosk restore) avant d'inscrire ce kiosque ailleurs"
    ),
    "server_error": "le serveur a répondu une erreur : nouvel essai plus tard",
    "rate_limited": "le serveur demande d'attendre avant de réessayer",
    "chain_diverged": "l'historique de ce kiosque diffère de celui du serveur : appelez le coordinateur",
    "server_ahead": (
        "le serveur a plus d'événements que ce kiosque : n'enregistrez rien, restaurez-le (muso-kiosk restore)"
    ),
    "kiosk_revoked": "ce kiosque a été révoqué par le coordinateur",
    "refused": "le serveur a refusé la demande",
    "restore_not_needed": (
        "ce kiosque a déjà tout ce que le serveur a, et plus : rien à restaurer, lancez `muso-kiosk sync`"
    ),
    "restore_in_progress": "une restauration est en cours : terminez-la (muso-kiosk restore)",
    "restore_invalid": "le journal du serveur ne se reconstruit pas sur ce kiosque : appelez le coordinateur",
    "key_insecure": "la clé du kiosque est lisible par d'autres utilisateurs",
    "already_enrolled": (
        "ce kiosque est déjà inscrit auprès de ce serveur (ce code a servi) : rien à refaire, lancez `muso-kiosk sync`"
    ),
    "enrolled_elsewhere": (
        "ce kiosque est inscrit auprès d'un autre serveur : vérifiez l'adresse ; pour le quitter pour "
        "celui-ci, le technicien relance l'inscription avec --force (l'ancienne clé est gardée à part)"
    ),
    "server_url_invalid": "adresse de serveur invalide : corrigez-la (https://…)",
    "bad_reply": "la réponse ne vient pas du serveur (portail Wi-Fi, proxy ?) : nouvel essai plus tard",
    "unexpected": "échec imprévu, noté dans le journal : nouvel essai plus tard",
    "not_muso_server": "cette adresse ne répond pas comme un serveur MUSO : vérifiez-la",
}
EN = {
    "not_enrolled": "this kiosk is not enrolled with the server yet (muso-kiosk enroll)",
    "key_missing": (
        "this kiosk is enrolled but its key is missing (a database put back from a backup, or from another "
        "device): ask the coordinator for a replacement code (muso-server create-enrollment --replace), then "
        "run muso-kiosk enroll with it"
    ),
    "no_database": "no kiosk database yet (the app makes it at its first start)",
    "database_not_ready": "the kiosk database is not ready yet (the app is making it)",
    "network": "server unreachable (network): will retry later",
    "enroll_network": (
        "server unreachable (network), or its answer was lost: the enrollment is not done; run it again with "
        "the same code once the network is there (it carries on where it stopped)"
    ),
    "enrollment_changed": "this kiosk was enrolled again: restart the sync",
    "enroll_during_restore": (
        "a restore is under way: finish it (muso-kiosk restore) before enrolling this kiosk elsewhere"
    ),
    "server_error": "the server answered with an error: will retry later",
    "rate_limited": "the server asks to wait before retrying",
    "chain_diverged": "this kiosk's history differs from the server's: call the coordinator",
    "server_ahead": "the server holds more events than this kiosk: restore it (muso-kiosk restore)",
    "kiosk_revoked": "this kiosk has been revoked by the coordinator",
    "refused": "the server refused the request",
    "restore_not_needed": "this kiosk holds all the server has, and more: nothing to restore, run `muso-kiosk sync`",
    "restore_in_progress": "a restore is under way: finish it (muso-kiosk restore)",
    "restore_invalid": "the server's journal does not rebuild on this kiosk: call the coordinator",
    "key_insecure": "the kiosk's key is readable by other users",
    "already_enrolled": (
        "this kiosk is already enrolled with this server (this code is spent): nothing to do again, "
        "run `muso-kiosk sync`"
    ),
    "enrolled_elsewhere": (
        "this kiosk is enrolled with another server: check the address; to leave it for this one, the "
        "technician enrolls again with --force (the old key is kept aside)"
    ),
    "server_url_invalid": "invalid server address: correct it (https://…)",
    "bad_reply": "the answer is not the server's (a Wi-Fi portal, a proxy?): will retry later",
    "unexpected": "unforeseen failure, written to the log: will retry later",
    "not_muso_server": "this address does not answer like a MUSO server: check it",
}

# The server's own refusal codes a technician meets (``refused`` errors carry them as ``server_code``).
# The server's message is English; these replace it in French.
FR_SERVER = {
    "enrollment_code_used": "ce code d'inscription a déjà servi : demandez-en un nouveau au coordinateur",
    "enrollment_code_expired": "ce code d'inscription a expiré : demandez-en un nouveau au coordinateur",
    "enrollment_code_unknown": "code d'inscription inconnu : vérifiez-le (ou l'adresse du serveur)",
    "kiosk_id_mismatch": (
        "ce code est pour un autre kiosque, et celui-ci tient déjà son propre journal : "
        "demandez au coordinateur un code pour ce kiosque-ci"
    ),
    "signature_invalid": (
        "le serveur ne reconnaît pas la clé de ce kiosque : un autre appareil l'a peut-être remplacé "
        "(code de remplacement) ; n'enregistrez rien et appelez le coordinateur"
    ),
    "kiosk_not_active": "ce kiosque n'est pas actif sur le serveur (révoqué ou remplacé) : appelez le coordinateur",
    "kiosk_unknown": "le serveur ne connaît pas ce kiosque : demandez un code d'inscription au coordinateur",
    "kiosk_already_enrolled": (
        "ce kiosque est déjà inscrit : pour un nouvel appareil, demandez un code de remplacement au coordinateur"
    ),
    "public_key_in_use": "cette clé est déjà inscrite : relancez l'inscription avec un nouveau code",
    "clock_skew": "l'horloge du kiosque est trop loin de celle du serveur : nouvel essai plus tard",
    "rate_limited": "le serveur demande d'attendre avant de réessayer",
}

_REFUSED = re.compile(r"HTTP (\d{3}) ([a-z_]*)")


def describe(exc: SyncError, lang: str = "fr") -> str:
    """What to tell a person. In French, only French: the server's English message is left out when an
    entry says what happened; an unknown refusal shows its code (something to tell the coordinator)."""
    server_code = str(exc.params.get("server_code") or "")
    if lang == "fr":
        head = FR_SERVER.get(server_code) if exc.code == "refused" else None
        head = head or FR.get(exc.code)
        if head is None:
            return exc.message
        return head + _details_fr(exc, server_code)
    head = EN.get(exc.code)
    return (f"{head} ({exc.message})" if head else exc.message) + _address_en(exc)


# Nothing answering at an address looks the same whether the network is down or the address is wrong (a port,
# a letter, http for https): the technician who typed it must see which address was tried, and that it may be it.
_UNREACHABLE = ("network", "enroll_network")


def _address_en(exc: SyncError) -> str:
    server = exc.params.get("server")
    if exc.code in _UNREACHABLE and server:
        return f"; address tried: {server} (if the network works, check it)"
    return ""


def describe_stored(error: str, lang: str = "fr") -> str:
    """``sync_state.last_error`` (``code: message``, as ``sync`` wrote it) in words, its code kept in brackets."""
    code, _, message = error.partition(": ")
    found = _REFUSED.match(message) if code == "refused" else None
    params = {"server_code": found.group(2), "status": found.group(1)} if found else {}
    exc = SyncError(code, message, **params)
    return f"{describe(exc, lang)} [{(found and found.group(2)) or code}]"


def _details_fr(exc: SyncError, server_code: str) -> str:
    """The figures that help, said in French, where the English message had them."""
    p = exc.params
    if exc.code == "refused" and server_code == "kiosk_id_mismatch" and p.get("kiosk_id"):
        own = f"ce kiosque-ci : {p['own_id']} ; " if p.get("own_id") else ""
        return f" ({own}ce code : kiosque {p['kiosk_id']})"
    if exc.code == "refused" and server_code not in FR_SERVER:
        bits = [f"code {server_code}"] if server_code else []
        bits += [f"HTTP {p['status']}"] if p.get("status") else []
        return f" ({', '.join(bits)})" if bits else ""
    if exc.code == "server_ahead" and isinstance(p.get("server"), int) and isinstance(p.get("local"), int):
        return f" (serveur : {p['server']} événements, ce kiosque : {p['local']})"
    if exc.code == "chain_diverged" and isinstance(p.get("seq"), int):
        return f" (à partir du n° {p['seq']})"
    if exc.code in ("enrolled_elsewhere", "enroll_during_restore", "already_enrolled") and p.get("current"):
        return f" (inscrit auprès de {p['current']})"
    if exc.code == "rate_limited" and exc.retry_after:
        return f" (dans {exc.retry_after:.0f} s)"
    if exc.code in _UNREACHABLE and p.get("server"):
        return f" ; adresse essayée : {p['server']} (si le réseau marche, vérifiez-la)"
    return ""
