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
    "contact_welcome": {
        "en": (
            "Create your password for the Enterprise Billing Portal",
            "Hello {name},\n\n"
            "{actor} made you a billing contact of the account {account} in the Enterprise Billing\n"
            "Portal. Your user ID is {login}.\n"
            "Open this link within {days} days to create your password:\n\n"
            "{link}\n\n"
            "The link works once. If it has expired, use Reset/Create your password on the sign-in\n"
            "page with your user ID.\n",
        ),
        "pt-BR": (
            "Crie sua senha do Portal de Cobrança Empresarial",
            "Olá, {name},\n\n"
            "{actor} tornou você contato de cobrança da conta {account} no Portal de Cobrança\n"
            "Empresarial. Sua ID de usuário é {login}.\n"
            "Abra este link em até {days} dias para criar sua senha:\n\n"
            "{link}\n\n"
            "O link funciona uma única vez. Se tiver expirado, use Redefinir/Criar sua senha na página\n"
            "de acesso com a sua ID de usuário.\n",
        ),
    },
    "contacts_changed": {
        "en": (
            "The billing contacts of {account} changed",
            "Hello {name},\n\n"
            "{change}\n\n"
            "The billing contacts of {account} are now:\n{contacts}\n\n"
            "If you did not expect this change, talk to the account's other billing contacts or to\n"
            "your representative.\n",
        ),
        "pt-BR": (
            "Os contatos de cobrança de {account} mudaram",
            "Olá, {name},\n\n"
            "{change}\n\n"
            "Os contatos de cobrança de {account} agora são:\n{contacts}\n\n"
            "Se você não esperava esta mudança, fale com os outros contatos de cobrança da conta ou\n"
            "com o seu representante.\n",
        ),
    },
    "handover_waiting": {
        "en": (
            "A billing contact handover of {account} waits for your approval",
            "Hello {name},\n\n"
            "{proposer} proposed that {new} ({new_email}) replace {subject} ({email}) as a billing\n"
            "contact of {account}, which you serve. Approve or decline it by {expires} (UTC) in the\n"
            "Enterprise Billing Portal's rep console; another billing contact of the account may\n"
            "approve it too.\n",
        ),
        "pt-BR": (
            "Uma substituição de contato de cobrança de {account} aguarda sua aprovação",
            "Olá, {name},\n\n"
            "{proposer} propôs que {new} ({new_email}) substitua {subject} ({email}) como contato de\n"
            "cobrança de {account}, conta que você atende. Aprove ou recuse até {expires} (UTC) no\n"
            "console do representante do Portal de Cobrança Empresarial; outro contato de cobrança\n"
            "da conta também pode aprovar.\n",
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

# The sentence of a contacts notice that says what changed, per kind of change.
_CHANGES: dict[str, dict[str, str]] = {
    "added": {
        "en": "{actor} added {subject} ({email}) as a billing contact.",
        "pt-BR": "{actor} adicionou {subject} ({email}) como contato de cobrança.",
    },
    "removed": {
        "en": "{actor} removed {subject} ({email}) from the billing contacts.",
        "pt-BR": "{actor} removeu {subject} ({email}) dos contatos de cobrança.",
    },
    "primary": {
        "en": "{actor} made {subject} ({email}) the primary billing contact: invoices are addressed to them.",
        "pt-BR": "{actor} tornou {subject} ({email}) o contato de cobrança principal: as faturas são "
                 "endereçadas a essa pessoa.",
    },
    "handover_proposed": {
        "en": "{actor} proposed that {new} ({new_email}) replace {subject} ({email}) as a billing contact.\n"
              "Another billing contact or your representative must approve it by {expires} (UTC) in the\n"
              "Enterprise Billing Portal, on the Billing contacts page.",
        "pt-BR": "{actor} propôs que {new} ({new_email}) substitua {subject} ({email}) como contato de\n"
                 "cobrança. Outro contato de cobrança ou o seu representante deve aprovar até {expires} (UTC)\n"
                 "no Portal de Cobrança Empresarial, na página Contatos de cobrança.",
    },
    "handover_approved": {
        "en": "{actor} approved the handover: {new} ({new_email}) replaces {subject} ({email}) as a billing "
              "contact.",
        "pt-BR": "{actor} aprovou a substituição: {new} ({new_email}) substitui {subject} ({email}) como "
                 "contato de cobrança.",
    },
    "handover_declined": {
        "en": "{actor} declined the proposal that {new} ({new_email}) replace {subject} ({email}) as a "
              "billing contact.",
        "pt-BR": "{actor} recusou a proposta de que {new} ({new_email}) substitua {subject} ({email}) como "
                 "contato de cobrança.",
    },
}

_PRIMARY_MARK = {"en": " (primary)", "pt-BR": " (principal)"}

_NO_NOTE = {"en": "(no note)", "pt-BR": "(sem observação)"}


def render(kind: str, locale: str, *, to: str, reply_to: str | None = None, **values: object) -> OutgoingMail:
    return mail_templates.render(_TEMPLATES, kind, locale, values, to=to, reply_to=reply_to)


def no_note(locale: str) -> str:
    return _NO_NOTE[mail_templates.locale_of(locale)]


def contacts_notice(
    locale: str, *, to: str, name: str, account: str, change: str, contacts: list[tuple[str, str, bool]],
    **values: object,
) -> OutgoingMail:
    """The notice every billing contact gets when the contacts change: what changed (`change`,
    a key of _CHANGES) and the list as it now is ((name, email, primary) each)."""
    lang = mail_templates.locale_of(locale)
    sentence = _CHANGES[change][lang].format(**values)
    listed = "\n".join(f"- {n} <{e}>{_PRIMARY_MARK[lang] if p else ''}" for n, e, p in contacts)
    return render("contacts_changed", lang, to=to, name=name, account=account, change=sentence, contacts=listed)
