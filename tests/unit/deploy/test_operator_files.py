"""The operator files: docker-compose.yml, the Dockerfile and the Kubernetes manifests.

No container runtime is needed: the files are checked against the Compose Specification schema,
against each other and against the repository (every module a command names exists).
"""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"

GRPC_SERVICES = {
    "identity": ("billing.identity.v1.IdentityService", 50051),
    "online_billing": ("billing.online_billing.v1.OnlineBillingService", 50052),
    "enterprise_portal": ("billing.enterprise_portal.v1.EnterprisePortalService", 50053),
}
WEB_SERVICES = {"billing_center_web": 8080, "enterprise_portal_web": 8081}


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _k8s_documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _module_exists(module: str) -> bool:
    base = ROOT.joinpath(*module.split("."))
    return (base / "__main__.py").exists() or base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _argv(command: Any) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def _referenced_paths_and_modules(argv: list[str]) -> tuple[list[str], list[str]]:
    """python -m X / python file.py / gunicorn -c conf.py module:app → (files, modules)."""
    files, modules = [], []
    for i, arg in enumerate(argv):
        if arg == "-m" and i + 1 < len(argv):
            modules.append(argv[i + 1])
        elif arg == "-c" and argv[0] == "gunicorn":
            files.append(argv[i + 1])
        elif arg.endswith(".py") and argv[0] == "python" and (i == 1):
            files.append(arg)
    if argv and argv[0] == "gunicorn":
        modules.append(argv[-1].split(":", 1)[0])
    return files, modules


# --- docker-compose.yml ------------------------------------------------------------------------

def test_docker_compose_is_valid_against_the_compose_specification_schema() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(_compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_vendored_compose_schema_keeps_its_apache_notice_beside_it() -> None:
    assert "Apache" in (ROOT / "tests" / "data" / "compose-spec.NOTICE").read_text()


def test_compose_runs_postgres_16_redis_7_mailpit_and_the_five_processes() -> None:
    services = _services()
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert set(GRPC_SERVICES) | set(WEB_SERVICES) | {"migrate"} <= set(services)


def test_every_service_that_others_wait_for_healthy_has_a_healthcheck() -> None:
    services = _services()
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency} healthy"


def test_every_application_process_waits_for_its_dependencies_to_be_healthy_or_migrated() -> None:
    services = _services()
    for name in GRPC_SERVICES:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["identity"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["billing_center_web"]["depends_on"] == {
        "identity": {"condition": "service_healthy"}, "online_billing": {"condition": "service_healthy"}}
    assert services["enterprise_portal_web"]["depends_on"] == {
        "identity": {"condition": "service_healthy"}, "enterprise_portal": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", sorted(GRPC_SERVICES))
def test_each_grpc_service_is_health_checked_through_grpc_health_with_its_own_name(name: str) -> None:
    service_name, port = GRPC_SERVICES[name]
    service = _services()[name]
    assert service["healthcheck"]["test"] == [
        "CMD", "python", "deploy/healthcheck.py", f"127.0.0.1:{port}", service_name]
    prefix = name.upper()
    assert service["environment"][f"{prefix}_GRPC_BIND"] == f"0.0.0.0:{port}"
    assert service["environment"][f"{prefix}_DATABASE_URL"].startswith("postgresql://")
    assert service["environment"]["SMTP_URL"] == "smtp://mailpit:1025"
    assert service["environment"]["BILLING_ENV"] == "prod"


@pytest.mark.parametrize("name", sorted(GRPC_SERVICES))
def test_each_grpc_service_serves_metrics_on_9100_published_to_the_host_s_loopback_only(name: str) -> None:
    service = _services()[name]
    assert service["environment"][f"{name.upper()}_METRICS_BIND"] == "0.0.0.0:9100"
    local = {"identity": 9151, "online_billing": 9152, "enterprise_portal": 9153}[name]  # as `make run`
    assert service["ports"] == [f"127.0.0.1:{local}:9100"]


@pytest.mark.parametrize("name", sorted(WEB_SERVICES))
def test_each_web_process_is_health_checked_on_healthz_of_its_own_port(name: str) -> None:
    service = _services()[name]
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{WEB_SERVICES[name]}/healthz" in test[3]
    env = service["environment"]
    assert (env["IDENTITY_TARGET"], env["ONLINE_BILLING_TARGET"], env["ENTERPRISE_PORTAL_TARGET"]) == (
        "identity:50051", "online_billing:50052", "enterprise_portal:50053")
    # BILLING_ENV=prod: no published default key; compose stops with this message when unset.
    assert env["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    # The ports are published directly: no proxy whose X-Forwarded-For could be trusted.
    assert env["TRUSTED_PROXIES"] == "0"


def test_every_process_compose_runs_from_the_image_is_in_prod_with_what_prod_requires() -> None:
    # Unset, BILLING_ENV means dev: the public dev key, cookies without Secure, gRPC reflection.
    app_services = {name: s for name, s in _services().items() if s.get("image", "").startswith("${BILLING_IMAGE")}
    assert set(app_services) == set(GRPC_SERVICES) | set(WEB_SERVICES) | {"migrate"}
    for name, service in app_services.items():
        env = service["environment"]
        assert env["BILLING_ENV"] == "prod", name
        if name in GRPC_SERVICES:  # prod refuses to serve without them (no SQLite, no Maildir)
            assert env[f"{name.upper()}_DATABASE_URL"] and env["SMTP_URL"], name
    assert _services()["identity"]["environment"]["REDIS_URL"]
    assert all(f"{prefix.upper()}_DATABASE_URL" in _services()["migrate"]["environment"] for prefix in GRPC_SERVICES)


def test_each_service_database_url_points_at_its_own_database_created_by_the_init_script() -> None:
    services = _services()
    init = (ROOT / "deploy" / "postgres" / "init-databases.sh").read_text()
    assert "identity online_billing enterprise_portal" in init
    mounted = services["postgres"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).resolve() == ROOT / "deploy" / "postgres" / "init-databases.sh"
    for name in GRPC_SERVICES:
        url = services[name]["environment"][f"{name.upper()}_DATABASE_URL"]
        assert re.fullmatch(rf"postgresql://{name}:.+@postgres:5432/{name}", url), url


def test_no_secret_in_compose_is_more_than_an_overridable_dev_placeholder() -> None:
    placeholder = re.compile(r"\$\{[A-Z_]+:-dev-only[^}]*\}")
    required = re.compile(r"\$\{[A-Z_]+:\?[^}]*\}")  # no default at all: must be set
    for name, service in _services().items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET", key):
                assert placeholder.fullmatch(value) or required.fullmatch(value), f"{name}.{key} is hard-coded"
            if "://" in str(value) and "@" in str(value):
                credentials = str(value).split("://", 1)[1].split("@", 1)[0]
                assert placeholder.search(credentials), f"{name}.{key} has a hard-coded password"


def test_compose_migrates_with_the_production_migrate_module() -> None:
    assert _argv(_services()["migrate"]["command"]) == ["python", "-m", "services.migrate"]
    assert _module_exists("services.migrate")


def _runtime_commands() -> list[list[str]]:
    """Every command compose or Kubernetes runs (not the image build's own RUN steps)."""
    commands = [_argv(s["command"]) for s in _services().values() if s.get("command")]
    for doc in _k8s_documents():
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        commands += [_argv(c["command"]) for c in pod.get("containers", []) if c.get("command")]
    return commands


def test_nothing_compose_or_kubernetes_runs_comes_from_the_development_package() -> None:
    commands = _runtime_commands()
    assert any("services.migrate" in argv for argv in commands)
    for argv in commands:
        assert not any(arg.startswith("services.devstack") for arg in argv), argv


def test_every_command_in_compose_names_a_module_or_file_that_exists() -> None:
    for name, service in _services().items():
        commands = [service.get("command")]
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test[0] == "CMD" and test[1] == "python":
            commands.append(test[1:])
        for command in filter(None, commands):
            argv = _argv(command)
            if argv[0] not in ("python", "gunicorn"):
                continue
            files, modules = _referenced_paths_and_modules(argv)
            for f in files:
                assert (ROOT / f).is_file(), f"{name}: {f} is missing"
            for m in modules:
                assert _module_exists(m), f"{name}: module {m} is missing"


# --- Dockerfile ---------------------------------------------------------------------------------

def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_every_copy_source_of_the_dockerfile_exists_and_is_not_ignored() -> None:
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith(("#", "!"))}
    copies = [rest for keyword, rest in _dockerfile_instructions() if keyword == "COPY" and "--from=" not in rest]
    assert copies
    for rest in copies:
        *sources, _destination = [a for a in rest.split() if not a.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing"
            assert source.rstrip("/") not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_the_image_is_python_311_slim_runs_as_a_non_root_user_and_builds_protos_and_translations() -> None:
    instructions = _dockerfile_instructions()
    text = (ROOT / "Dockerfile").read_text()
    assert "python:3.11-slim" in text
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "grpc_tools.protoc" in runs and "grpcio-tools" in runs
    assert "web.common.catalogue compile" in runs
    assert _module_exists("web.common.catalogue")
    assert ("requirements.txt" in text) and (ROOT / "requirements.txt").exists()


def test_the_image_puts_the_project_and_generated_code_on_the_path_the_healthcheck_imports_from() -> None:
    # `python deploy/healthcheck.py` puts deploy/ first on sys.path, not the project: it finds
    # billing_common (its probe) and the generated code through PYTHONPATH alone.
    healthcheck = (ROOT / "deploy" / "healthcheck.py").read_text()
    assert "from billing_common.grpc_client import" in healthcheck
    workdirs = [rest.strip() for keyword, rest in _dockerfile_instructions() if keyword == "WORKDIR"]
    envs = " ".join(rest for keyword, rest in _dockerfile_instructions() if keyword == "ENV")
    app = workdirs[-1]
    assert re.search(rf"PYTHONPATH={re.escape(app)}:{re.escape(app)}/gen(\s|$)", envs), envs


def test_the_image_runs_in_prod_unless_told_otherwise() -> None:
    envs = " ".join(rest for keyword, rest in _dockerfile_instructions() if keyword == "ENV")
    assert re.search(r"(^|\s)BILLING_ENV=prod(\s|$)", envs), envs


def test_the_dockerignore_keeps_local_state_and_generated_files_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".venv", ".git", "var", "gen", "**/*.mo"):
        assert entry in ignored


# --- Kubernetes -----------------------------------------------------------------------------------

def test_every_kubernetes_file_parses_as_yaml() -> None:
    assert len(_k8s_documents()) >= 12


def _deployments() -> list[dict[str, Any]]:
    return [d for d in _k8s_documents() if d.get("kind") == "Deployment"]


def test_there_is_a_deployment_and_a_service_for_each_of_the_five_processes() -> None:
    docs = _k8s_documents()
    deployments = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
    expected = {"identity", "online-billing", "enterprise-portal", "billing-center-web", "enterprise-portal-web"}
    assert deployments == expected and services == expected
    kinds = {d["kind"] for d in docs}
    assert {"ConfigMap", "Secret", "Job", "Namespace"} <= kinds


def test_every_deployment_has_readiness_and_liveness_probes_and_resource_limits() -> None:
    for deployment in _deployments():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            name = deployment["metadata"]["name"]
            assert "readinessProbe" in container and "livenessProbe" in container, name
            limits = container["resources"]["limits"]
            assert limits.get("cpu") and limits.get("memory"), name
            assert container["resources"]["requests"], name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_grpc_deployments_probe_readiness_by_service_name_and_liveness_by_the_whole_server() -> None:
    """Readiness follows the dependencies (the service name's status); liveness and startup the
    process ("", which a database or Redis outage leaves SERVING: a restart would not help)."""
    names = {"identity": "identity", "online-billing": "online_billing", "enterprise-portal": "enterprise_portal"}
    for deployment in _deployments():
        name = deployment["metadata"]["name"]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        if name in names:
            service_name, port = GRPC_SERVICES[names[name]]
            assert container["readinessProbe"]["grpc"] == {"port": port, "service": service_name}
            for probe in ("livenessProbe", "startupProbe"):
                assert container[probe]["grpc"] == {"port": port}
            assert container["command"] == ["python", "-m", f"services.{names[name]}"]
        else:
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["command"][0] == "gunicorn"
        files, modules = _referenced_paths_and_modules(container["command"])
        assert all((ROOT / f).is_file() for f in files) and all(_module_exists(m) for m in modules)


def test_web_deployments_trust_exactly_the_ingress_as_proxy() -> None:
    webs = [d for d in _deployments() if d["metadata"]["name"].endswith("-web")]
    assert len(webs) == 2
    for deployment in webs:
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["TRUSTED_PROXIES"] == "1", deployment["metadata"]["name"]


def test_secrets_reach_the_pods_only_through_the_secret_and_the_example_holds_no_real_value() -> None:
    [secret] = [d for d in _k8s_documents() if d["kind"] == "Secret"]
    assert all("CHANGE-ME" in v for v in secret["stringData"].values())
    [config] = [d for d in _k8s_documents() if d["kind"] == "ConfigMap"]
    assert not any(re.search(r"PASSWORD|SECRET|DATABASE_URL|REDIS_URL|SMTP_URL", k) for k in config["data"])
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "secret.example.yaml" not in kustomization["resources"]
    assert all((K8S / r).exists() for r in kustomization["resources"])


def _pod_environment(container: dict[str, Any]) -> dict[str, Any]:
    """A container's variables as the kubelet sets them: the ConfigMaps it names, then its env."""
    config_maps = {d["metadata"]["name"]: d["data"] for d in _k8s_documents() if d["kind"] == "ConfigMap"}
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", variable.get("valueFrom"))
    return env


def test_every_pod_runs_in_prod_with_what_prod_requires() -> None:
    # Unset, BILLING_ENV means dev: the public dev key, cookies without Secure, gRPC reflection.
    prefixes = {"identity": "IDENTITY", "online-billing": "ONLINE_BILLING", "enterprise-portal": "ENTERPRISE_PORTAL"}
    pods = [d for d in _k8s_documents() if d["kind"] in ("Deployment", "Job")]
    assert len(pods) == 6
    for pod in pods:
        name = pod["metadata"]["name"]
        for container in pod["spec"]["template"]["spec"]["containers"]:
            env = _pod_environment(container)
            assert env.get("BILLING_ENV") == "prod", name
            if name in prefixes:  # prod refuses to serve without them (no SQLite, no Maildir)
                assert {f"{prefixes[name]}_DATABASE_URL", "SMTP_URL"} <= set(env), name
            elif name.endswith("-web"):
                assert env["SECRET_KEY"] == {"secretKeyRef": {"name": "billing-secrets", "key": "SECRET_KEY"}}
            else:
                assert {f"{prefix}_DATABASE_URL" for prefix in prefixes.values()} <= set(env), name
            if name == "identity":
                assert "REDIS_URL" in env


def test_the_migration_job_runs_the_production_migrate_module() -> None:
    [job] = [d for d in _k8s_documents() if d["kind"] == "Job"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "services.migrate"]
    _, modules = _referenced_paths_and_modules(container["command"])
    assert modules and all(_module_exists(m) for m in modules)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_kustomization_builds() -> None:
    result = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("kind: Deployment") == 5


def test_identity_gets_its_device_secret_from_the_environment_in_compose_and_from_the_secret_in_kubernetes() -> None:
    # BILLING_ENV=prod: identity refuses to start without a real IDENTITY_DEVICE_SECRET (S4).
    env = _services()["identity"]["environment"]
    assert env["IDENTITY_DEVICE_SECRET"] == "${IDENTITY_DEVICE_SECRET:?set IDENTITY_DEVICE_SECRET}"
    [identity] = [d for d in _deployments() if d["metadata"]["name"] == "identity"]
    [container] = identity["spec"]["template"]["spec"]["containers"]
    [entry] = [e for e in container["env"] if e["name"] == "IDENTITY_DEVICE_SECRET"]
    assert entry["valueFrom"]["secretKeyRef"] == {"name": "billing-secrets", "key": "IDENTITY_DEVICE_SECRET"}
    [secret] = [d for d in _k8s_documents() if d["kind"] == "Secret"]
    assert "IDENTITY_DEVICE_SECRET" in secret["stringData"]
