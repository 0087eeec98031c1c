"""`make mail`: the newest messages of the local Maildir, so a reset link can be followed."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from billing_common.config import VAR
from billing_common.mail import read_maildir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--newest", type=int, default=3, help="how many messages (default 3)")
    args = parser.parse_args()
    maildir = Path(os.environ.get("MAILDIR") or VAR / "mail")
    messages = read_maildir(maildir, args.newest)
    if not messages:
        print(f"No mail in {maildir} yet.")
        return
    for msg in messages:
        print("=" * 72)
        for header in ("Date", "From", "To", "Reply-To", "Subject"):
            if msg[header]:
                print(f"{header}: {msg[header]}")
        print()
        body = msg.get_body(preferencelist=("plain",))
        print(body.get_content() if body else "(no text part)")


if __name__ == "__main__":
    main()
