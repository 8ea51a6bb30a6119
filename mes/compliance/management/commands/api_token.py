from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mes.compliance.errors import SignatureRefused
from mes.compliance.models import ApiToken
from mes.compliance.tokens import api_token_issue, api_token_revoke


class Command(BaseCommand):
    help = (
        "API tokens for integrations and scripts (the key is printed once, only its hash is kept): "
        "`issue USER --name NAME --by ADMIN`, `revoke PREFIX --by ADMIN --reason TEXT`, `list [USER]`. "
        "Issuing and revoking are audited under the administrator named by --by."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["issue", "revoke", "list"])
        parser.add_argument("subject", nargs="?", help="issue/list: the username; revoke: the token's prefix")
        parser.add_argument("--name", help="issue: what the token is for, e.g. 'legacy MES adapter'")
        parser.add_argument("--by", help="issue/revoke: the username of the administrator doing it")
        parser.add_argument("--reason", default="", help="revoke: why (kept in the audit trail)")

    def handle(self, *args, **opts):
        action = opts["action"]
        if action == "list":
            return self._list(opts["subject"])
        if not opts["subject"]:
            raise CommandError(f"name the {'user' if action == 'issue' else 'token prefix'}: see --help")
        admin = self._user(opts["by"], "--by (the administrator doing it)")
        if action == "issue":
            user = self._user(opts["subject"], "the token's user")
            if not (opts["name"] or "").strip():
                raise CommandError("--name is required: say what the token is for")
            if admin.pk != user.pk and not admin.is_superuser:
                raise CommandError(f"{admin.username} may issue tokens only for themselves (not a superuser)")
            _, key = api_token_issue(user=user, name=opts["name"].strip(), actor=admin)
            self.stdout.write(f"token for {user.username} ({opts['name'].strip()}); shown once, keep it secret:")
            self.stdout.write(key)
            return
        tokens = list(ApiToken.objects.filter(prefix=opts["subject"], revoked_at__isnull=True))
        if len(tokens) != 1:
            raise CommandError(f"{len(tokens)} active token(s) have the prefix {opts['subject']!r}: name exactly one")
        try:
            api_token_revoke(token=tokens[0], actor=admin, reason=opts["reason"])
        except SignatureRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"revoked {tokens[0].prefix}… of {tokens[0].user.username}")

    def _user(self, username: str | None, what: str):
        if not username:
            raise CommandError(f"name {what}")
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r} ({what})")
        return user

    def _list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("created_at")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M %Z}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M %Z}" if token.last_used_at else "never"
            self.stdout.write(f"{token.prefix}…  {token.user.username:<14} {token.name:<30} last used {used}  {state}")
