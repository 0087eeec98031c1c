import json

from billing_common.grpc_client import service_config


def test_retries_are_only_for_unavailable_on_the_named_idempotent_methods():
    config = json.loads(service_config([("billing.identity.v1.IdentityService", "ValidateSession")]))
    (method,) = config["methodConfig"]
    assert method["name"] == [{"service": "billing.identity.v1.IdentityService", "method": "ValidateSession"}]
    assert method["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]


def test_no_method_is_retried_unless_named():
    assert json.loads(service_config([]))["methodConfig"] == []


def test_channels_spread_calls_over_every_address_with_round_robin():
    for idempotent in ([], [("billing.identity.v1.IdentityService", "ValidateSession")]):
        assert json.loads(service_config(idempotent))["loadBalancingConfig"] == [{"round_robin": {}}]
