"""One exception family for sync. ``transient`` errors are retried by the daemon; the others need a person."""

from __future__ import annotations

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
    "network": "serveur injoignable (réseau) : nouvel essai plus tard",
    "server_error": "le serveur a répondu une erreur : nouvel essai plus tard",
    "rate_limited": "le serveur demande d'attendre avant de réessayer",
    "chain_diverged": "l'historique de ce kiosque diffère de celui du serveur : appelez le coordinateur",
    "server_ahead": "le serveur a plus d'événements que ce kiosque : restaurez-le (muso-kiosk restore)",
    "kiosk_revoked": "ce kiosque a été révoqué par le coordinateur",
    "refused": "le serveur a refusé la demande",
    "restore_not_empty": "la restauration demande un kiosque vide",
    "restore_in_progress": "une restauration est en cours : terminez-la (muso-kiosk restore)",
    "key_insecure": "la clé du kiosque est lisible par d'autres utilisateurs",
    "already_enrolled": "ce kiosque est déjà inscrit",
    "server_url_invalid": "adresse de serveur invalide : corrigez-la (https://…)",
    "bad_reply": "la réponse ne vient pas du serveur (portail Wi-Fi, proxy ?) : nouvel essai plus tard",
    "unexpected": "échec imprévu, noté dans le journal : nouvel essai plus tard",
}
EN = {
    "not_enrolled": "this kiosk is not enrolled with the server yet (muso-kiosk enroll)",
    "network": "server unreachable (network): will retry later",
    "server_error": "the server answered with an error: will retry later",
    "rate_limited": "the server asks to wait before retrying",
    "chain_diverged": "this kiosk's history differs from the server's: call the coordinator",
    "server_ahead": "the server holds more events than this kiosk: restore it (muso-kiosk restore)",
    "kiosk_revoked": "this kiosk has been revoked by the coordinator",
    "refused": "the server refused the request",
    "restore_not_empty": "restoring needs an empty kiosk",
    "restore_in_progress": "a restore is under way: finish it (muso-kiosk restore)",
    "key_insecure": "the kiosk's key is readable by other users",
    "already_enrolled": "this kiosk is already enrolled",
    "server_url_invalid": "invalid server address: correct it (https://…)",
    "bad_reply": "the answer is not the server's (a Wi-Fi portal, a proxy?): will retry later",
    "unexpected": "unforeseen failure, written to the log: will retry later",
}


def describe(exc: SyncError, lang: str = "fr") -> str:
    table = FR if lang == "fr" else EN
    head = table.get(exc.code)
    return f"{head} ({exc.message})" if head else exc.message
