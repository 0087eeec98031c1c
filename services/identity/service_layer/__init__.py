"""Identity's use cases, one function per command, grouped by area, and the ports they use.

authentication (sign-in), sessions (sessions and hand-off tickets), passwords (reset/create and
change), contact (the two contact forms), accounts (reads), provisioning (accounts, users,
memberships, reps). throttle holds the rate limits and the sign-in throttle policy, keys the
key-value store's layout, common the helpers they share, dependencies what each is given.
"""
