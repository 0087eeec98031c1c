"""The fixed mail templates identity sends, in English and Brazilian Portuguese.

Each message has a subject and a body per locale; the recipient's locale chooses (pt-BR,
else English), through billing_common.mail_templates (online_billing's mails use it too).
Person-supplied text only ever fills a placeholder of the body, never a header other than
Reply-To (an address validated beforehand).
"""
from __future__ import annotations

from billing_common import mail_templates
from billing_common.outbox import OutgoingMail

_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "password_reset": {
        "en": (
            "Reset/Create your password",
            "Hello {name},\n\n"
            "Someone (we hope you) asked to reset or create the password for the user ID {login}.\n"
            "Open this link within {minutes} minutes to choose a new password:\n\n"
            "{link}\n\n"
            "The link works once. If you did not ask for it, ignore this message: your password\n"
            "stays as it is.\n",
        ),
        "pt-BR": (
            "Redefinir/Criar sua senha",
            "Olá, {name},\n\n"
            "Alguém (esperamos que você) pediu para redefinir ou criar a senha da ID de usuário {login}.\n"
            "Abra este link em até {minutes} minutos para escolher uma nova senha:\n\n"
            "{link}\n\n"
            "O link funciona uma única vez. Se você não fez esse pedido, ignore esta mensagem: sua\n"
            "senha continua a mesma.\n",
        ),
    },
    "password_changed": {
        "en": (
            "Your password was changed",
            "Hello {name},\n\n"
            "The password for the user ID {login} was just changed, and every other signed-in\n"
            "session was ended.\n\n"
            "If this was not you, use Reset/Create your password at once and contact Customer Care.\n",
        ),
        "pt-BR": (
            "Sua senha foi alterada",
            "Olá, {name},\n\n"
            "A senha da ID de usuário {login} acabou de ser alterada, e todas as outras sessões\n"
            "abertas foram encerradas.\n\n"
            "Se não foi você, use Redefinir/Criar sua senha imediatamente e contate o Atendimento ao Cliente.\n",
        ),
    },
    "contact_billing_administrator": {
        "en": (
            "A member of {account} asks for a change to the account's product or license",
            "Hello {name},\n\n"
            "{member_name} ({member_email}), a member of the account {account}, is not a billing\n"
            "contact and asks you, as the account's billing administrator, to make a change to the\n"
            "account's product or license.\n\n"
            "Their note:\n{note}\n\n"
            "Reply to this message to answer {member_name} directly.\n",
        ),
        "pt-BR": (
            "Um membro de {account} pede uma alteração no produto ou licença da conta",
            "Olá, {name},\n\n"
            "{member_name} ({member_email}), membro da conta {account}, não é contato de cobrança e\n"
            "pede a você, administrador de cobrança da conta, que faça uma alteração no produto ou\n"
            "licença da conta.\n\n"
            "Observação:\n{note}\n\n"
            "Responda a esta mensagem para falar diretamente com {member_name}.\n",
        ),
    },
    "customer_care": {
        "en": (
            "[Customer Care] {subject}",
            "A message from the {portal} contact form.\n\n"
            "Name: {sender_name}\nEmail: {sender_email}\nSubject: {subject}\n\n{message}\n",
        ),
    },
}

_NO_NOTE = {"en": "(no note)", "pt-BR": "(sem observação)"}


def render(kind: str, locale: str, *, to: str, reply_to: str | None = None, **values: object) -> OutgoingMail:
    return mail_templates.render(_TEMPLATES, kind, locale, values, to=to, reply_to=reply_to)


def no_note(locale: str) -> str:
    return _NO_NOTE[mail_templates.locale_of(locale)]
