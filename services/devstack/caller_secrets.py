"""The dev stack's service-to-service secrets (billing_common.service_auth): made at the first
`make run`, kept in var/caller-secrets.env (mode 0600) and given to every process it starts, so
`make run` checks callers exactly as production does. `make clean` forgets them."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from billing_common.service_auth import CALLERS, secret_variable

FILE_NAME = "caller-secrets.env"


def load_or_create(var_dir: Path) -> dict[str, str]:
    """{CALLER_SECRET_...: secret} for every caller, made once and kept under `var_dir`."""
    path = var_dir / FILE_NAME
    known = read(path)
    missing = [secret_variable(c) for c in CALLERS if secret_variable(c) not in known]
    if missing:
        known.update({name: secrets.token_urlsafe(32) for name in missing})
        var_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        # Created 0600 from the start: the secrets are never readable by others, not even briefly.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("# make run's service-to-service secrets; delete the file for new ones\n")
            out.writelines(f"{name}={value}\n" for name, value in sorted(known.items()))
        os.replace(temporary, path)
    return known


def read(path: Path) -> dict[str, str]:
    """The variables of a secrets file ({} when there is none yet)."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text("utf-8").splitlines()
             if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}
