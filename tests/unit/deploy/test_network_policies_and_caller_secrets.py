"""deploy/k8s's NetworkPolicies allow exactly the arrows of the architecture, on the ports and
labels the manifests really use, and Prometheus' scrape of each service's /metrics; each process
gets exactly the caller secrets it needs, in Kubernetes and in docker-compose.yml
(billing_common.service_auth)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from billing_common.service_auth import (
    BILLING_CENTER_WEB,
    ENTERPRISE_PORTAL,
    ENTERPRISE_PORTAL_WEB,
    ONLINE_BILLING,
    OPERATOR,
    secret_variable,
)

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "docker-compose.yml"

BC, EP, OP, OB, ES = (secret_variable(c) for c in (BILLING_CENTER_WEB, ENTERPRISE_PORTAL_WEB, OPERATOR,
                                                   ONLINE_BILLING, ENTERPRISE_PORTAL))
OPERATOR_POD = "billing-operator"  # the label an operator's provisioning pod runs with (deploy/README.md)
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"  # where Prometheus runs (deploy/README.md, Metrics)
GRPC_PODS = {"identity", "online-billing", "enterprise-portal"}  # each serves /metrics (billing_common.metrics)

# The architecture diagram: who opens connections to whom inside the cluster (pod names are the
# app.kubernetes.io/name labels), and the port the target listens on.
ARROWS = {
    ("billing-center-web", "identity"),
    ("enterprise-portal-web", "identity"),
    (OPERATOR_POD, "identity"),
    ("billing-center-web", "online-billing"),
    ("enterprise-portal-web", "enterprise-portal"),
    ("online-billing", "identity"),
    ("enterprise-portal", "identity"),
}
FROM_THE_INGRESS = {"billing-center-web", "enterprise-portal-web"}
POSTGRES, REDIS, SMTP = {5432}, {6379, 6380}, {25, 465, 587}
# Outside the cluster (or another namespace): only these ports, nothing else.
OUTSIDE = {
    "identity": POSTGRES | REDIS | SMTP,
    "online-billing": POSTGRES | SMTP,
    "enterprise-portal": POSTGRES | SMTP,
    "billing-migrate": POSTGRES,
    "billing-center-web": set(),
    "enterprise-portal-web": set(),
    OPERATOR_POD: set(),
}
SECRETS_OF = {
    "identity": {BC, EP, OP, OB, ES},
    "online-billing": {BC, OB},
    "enterprise-portal": {EP, ES},
    "billing-center-web": {BC},
    "enterprise-portal-web": {EP},
    "billing-migrate": set(),
}
COMPOSE_SECRETS_OF = {
    "identity": {BC, EP, OP, OB, ES}, "online_billing": {BC, OB}, "enterprise_portal": {EP, ES},
    "billing_center_web": {BC}, "enterprise_portal_web": {EP}, "migrate": set(),
}


def _documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _policies() -> list[dict[str, Any]]:
    return [d for d in _documents() if d["kind"] == "NetworkPolicy"]


def _workloads() -> dict[str, dict[str, Any]]:
    """app.kubernetes.io/name -> the pod template of each Deployment and Job."""
    return {d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]: d["spec"]["template"]
            for d in _documents() if d["kind"] in ("Deployment", "Job")}


def _name(selector: dict[str, Any]) -> str | None:
    """The app.kubernetes.io/name a podSelector picks; None for {} (every pod)."""
    labels = selector.get("matchLabels") or {}
    assert set(labels) <= {"app.kubernetes.io/name"} and not selector.get("matchExpressions"), selector
    return labels.get("app.kubernetes.io/name")


def _ports(rule: dict[str, Any]) -> set[int]:
    ports = rule.get("ports")
    assert ports, f"a rule without ports allows every port: {rule}"
    assert all(p.get("protocol", "TCP") in ("TCP", "UDP") and isinstance(p["port"], int) for p in ports)
    return {p["port"] for p in ports}


def _container_port(pod: str, name: str | None = None) -> int:
    """The port `pod` serves its traffic on (the one that is not `metrics`), or the one named `name`."""
    [container] = _workloads()[pod]["spec"]["containers"]
    [port] = [p for p in container["ports"] if (p["name"] == name if name else p["name"] != "metrics")]
    return int(port["containerPort"])


def _edges() -> tuple[set[tuple[str, str, int]], set[tuple[str, str, int]], dict[str, set[int]],
                      set[tuple[str, str, int]]]:
    """(ingress arrows from pods, egress arrows to pods, egress ports to anywhere per pod,
    ingress from other namespaces: (namespace, pod, port))."""
    ingress, egress, anywhere, from_namespaces = set(), set(), {}, set()
    for policy in _policies():
        spec = policy["spec"]
        pod = _name(spec["podSelector"])
        for rule in spec.get("ingress") or []:
            for peer in rule["from"]:
                if "namespaceSelector" in peer:
                    namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    assert namespace in (INGRESS_NAMESPACE, MONITORING_NAMESPACE) and "podSelector" not in peer, peer
                    from_namespaces |= {(namespace, pod, port) for port in _ports(rule)}
                else:
                    ingress |= {(_name(peer["podSelector"]), pod, port) for port in _ports(rule)}
        for rule in spec.get("egress") or []:
            if pod is None:  # every pod: cluster DNS only
                assert _is_dns(rule), rule
                continue
            if "to" not in rule:
                anywhere.setdefault(pod, set()).update(_ports(rule))
                continue
            for peer in rule["to"]:
                assert set(peer) == {"podSelector"}, f"{pod}: egress to something other than a pod: {peer}"
                egress |= {(pod, _name(peer["podSelector"]), port) for port in _ports(rule)}
    return ingress, egress, anywhere, from_namespaces


def _is_dns(rule: dict[str, Any]) -> bool:
    [peer] = rule["to"]
    return (peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
            and peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
            and {(p["port"], p["protocol"]) for p in rule["ports"]} == {(53, "UDP"), (53, "TCP")})


def test_everything_is_denied_by_default_in_both_directions():
    defaults = [p for p in _policies() if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
                and not p["spec"].get("egress")]
    assert [p["spec"]["policyTypes"] for p in defaults] == [["Ingress", "Egress"]]


def test_every_pod_may_ask_the_cluster_dns_and_nothing_else_is_open_to_every_pod():
    open_to_all = [p for p in _policies() if p["spec"]["podSelector"] == {} and p["spec"].get("egress")]
    assert len(open_to_all) == 1 and not open_to_all[0]["spec"].get("ingress")
    assert all(_is_dns(rule) for rule in open_to_all[0]["spec"]["egress"])


def test_pods_reach_each_other_only_along_the_arrows_of_the_architecture_on_the_targets_ports():
    ingress, egress, _, _ = _edges()
    expected = {(source, target, _container_port(target)) for source, target in ARROWS}
    assert ingress == expected
    assert egress == expected


def test_the_ports_in_the_policies_are_the_ones_the_services_listen_and_are_published_on():
    services = {d["metadata"]["name"]: d for d in _documents() if d["kind"] == "Service"}
    for _source, target in ARROWS:
        [container] = _workloads()[target]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        [bind] = [v for k, v in env.items() if k.endswith("_GRPC_BIND")]
        assert bind == f"0.0.0.0:{_container_port(target)}"
        [service_port] = services[target]["spec"]["ports"]
        assert service_port["port"] == _container_port(target)
        assert services[target]["spec"]["selector"] == {"app.kubernetes.io/name": target}


def test_only_the_ingress_controller_reaches_the_web_pods_and_only_on_their_ports():
    *_, from_namespaces = _edges()
    from_ingress = {(pod, port) for namespace, pod, port in from_namespaces if namespace == INGRESS_NAMESPACE}
    assert from_ingress == {(pod, _container_port(pod)) for pod in FROM_THE_INGRESS}


def test_only_prometheus_namespace_reaches_the_services_metrics_ports_and_nothing_else():
    *_, from_namespaces = _edges()
    from_monitoring = {(pod, port) for namespace, pod, port in from_namespaces if namespace == MONITORING_NAMESPACE}
    assert from_monitoring == {(pod, _container_port(pod, "metrics")) for pod in GRPC_PODS}


def test_each_service_serves_metrics_on_the_port_its_policy_opens_and_its_annotations_name():
    for pod in GRPC_PODS:
        template = _workloads()[pod]
        [container] = template["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        [bind] = [v for k, v in env.items() if k.endswith("_METRICS_BIND")]
        port = _container_port(pod, "metrics")
        assert bind == f"0.0.0.0:{port}", pod
        assert template["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}, pod


def test_each_workload_leaves_the_cluster_only_for_its_database_redis_or_smtp():
    _, _, anywhere, _ = _edges()
    assert {pod: ports for pod, ports in anywhere.items() if ports} == {
        pod: ports for pod, ports in OUTSIDE.items() if ports}


def test_every_selected_pod_exists_and_every_workload_has_a_policy_of_its_own():
    workloads = set(_workloads())
    selected = {_name(p["spec"]["podSelector"]) for p in _policies()} - {None}
    assert selected == workloads | {OPERATOR_POD}
    peers = {name for arrow in ARROWS for name in arrow}
    assert peers <= workloads | {OPERATOR_POD}
    for policy in _policies():
        spec = policy["spec"]
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"} or _name(spec["podSelector"]) is None


def test_the_policies_are_applied_with_the_rest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "network-policies.yaml" in kustomization["resources"]


def test_each_pod_gets_exactly_the_caller_secrets_it_needs_from_the_secret():
    for pod, template in _workloads().items():
        [container] = template["spec"]["containers"]
        env = {e["name"]: e for e in container.get("env", [])}
        callers = {name for name in env if name.startswith("CALLER_SECRET_")}
        assert callers == SECRETS_OF[pod], pod
        for name in callers:
            assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "billing-secrets", "key": name}
    [secret] = [d for d in _documents() if d["kind"] == "Secret"]
    assert {BC, EP, OP, OB} <= set(secret["stringData"])


def test_compose_gives_each_process_exactly_its_caller_secrets_and_requires_them_set():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, wanted in COMPOSE_SECRETS_OF.items():
        env = services[name].get("environment") or {}
        got = {k: v for k, v in env.items() if k.startswith("CALLER_SECRET_")}
        assert set(got) == wanted, name
        for key, value in got.items():
            assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", value), f"{name}.{key} must be set, not defaulted"
