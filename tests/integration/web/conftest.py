"""The Billing Center pages' world (billing_center_world.py) as a fixture of this folder."""
from tests.integration.web.billing_center_world import bc_world  # noqa: F401
from tests.integration.web.enterprise_world import ep_world  # noqa: F401, E402
