#!/usr/bin/env python3
"""Static checks of the deployment files (no Docker engine or cluster is needed; ops/check-deploy runs this).

- ops/Dockerfile: every COPY source exists and survives .dockerignore; every target folder,
  resource and exclude Package.swift declares is copied; the build makes every executable
  product; the runtime installs only libpq, hiredis, libcurl (and curl, CA certificates for the
  health checks and TLS); it runs as a non-root user that owns its volumes; each service stage
  listens on all interfaces on its port setting and health-checks /healthz there.
- docker-compose.yml (rendered by `docker-compose config` when that tool is on PATH): every
  Mailfleet service builds a Dockerfile stage and runs an executable product (the admin CLI a
  subcommand that exists); environment variables are MAILFLEET_* settings; Redis keeps an AOF;
  Prometheus scrapes every Mailfleet service on its port; Grafana's data source is Prometheus.
- ops/k8s: base and overlays/example rendered (see `render`, checked against `kubectl kustomize`
  when kubectl is on PATH), every object valid against the Kubernetes schemas of
  KUBERNETES_VERSION (kubernetes-validate, strict), the ScaledObject against KEDA's CRD schema,
  and the wiring: settings, probes on the right ports, resources, PDBs, grace periods, HPA, KEDA.

Exits 1 with every failure listed.
"""
import copy
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys

import jsonschema
import kubernetes_validate
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KUBERNETES_VERSION = "1.32.0"
KEDA_CRD = "ops/k8s/schemas/keda.sh_scaledobjects.yaml"
OVERLAYS = ["ops/k8s/base", "ops/k8s/overlays/example"]
# The runtime's Debian packages: the three C libraries, plus curl for HEALTHCHECK and CA certificates for TLS.
RUNTIME_PACKAGES = {"libpq5", "libhiredis0.14", "libcurl4", "curl", "ca-certificates"}
# Each long-running executable and the prefix of its listen settings (MAILFLEET_<PREFIX>_HOST/_PORT).
SERVICE_SETTINGS = {
    "mailfleet-api": "API",
    "mailfleet-scheduler": "SCHEDULER",
    "mailfleet-worker": "WORKER",
    "mailfleet-tracker": "TRACKER",
    "mailfleet-sim": "SIM",
}
KUBERNETES_EXECUTABLES = {"mailfleet-api", "mailfleet-scheduler", "mailfleet-worker", "mailfleet-tracker"}
# A worker's drain on SIGTERM: one provider call (30 s timeout) plus the outcome writes.
WORKER_DRAIN_SECONDS = 30 + 15

failures = []


def fail(message):
    failures.append(message)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def exists(path):
    return os.path.exists(os.path.join(ROOT, path))


# MARK: Package.swift and the settings


def calls(text, functions):
    """The argument text of each `.function(...)` call, with its function name, parentheses balanced."""
    pattern = re.compile(r"\.(" + "|".join(functions) + r")\(")
    for match in pattern.finditer(text):
        depth, index = 1, match.end()
        while depth and index < len(text):
            depth += {"(": 1, ")": -1}.get(text[index], 0)
            index += 1
        yield match.group(1), text[match.end():index - 1]


def package():
    """Package.swift's executable products and targets (name, kind, folder, files it names inside)."""
    text = read("Package.swift")
    products = {args.split('"')[1] for kind, args in calls(text, ["executable"])}
    targets = []
    for kind, args in calls(text, ["target", "executableTarget", "testTarget", "systemLibrary"]):
        name = re.search(r'name:\s*"([^"]+)"', args).group(1)
        path = re.search(r'\bpath:\s*"([^"]+)"', args)
        folder = path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name
        files = re.findall(r'\.(?:embedInCode|copy|process)\("([^"]+)"', args)
        exclude = re.search(r"exclude:\s*\[([^\]]*)\]", args)
        if exclude:
            files += re.findall(r'"([^"]+)"', exclude.group(1))
        targets.append({"name": name, "kind": kind, "folder": folder, "files": files})
    return products, targets


def settings():
    """Every MAILFLEET_* variable Settings.swift declares."""
    return set(re.findall(r'"(MAILFLEET_[A-Z0-9_]+)"', read("Sources/MailfleetConfiguration/Settings.swift")))


def admin_subcommands():
    """The admin CLI's subcommand names (commandName, else the type's name in kebab case)."""
    sources = "\n".join(read(os.path.join("Sources/mailfleet", f)) for f in os.listdir(os.path.join(ROOT, "Sources/mailfleet")))
    root = re.search(r"subcommands:\s*\[([^\]]*)\]", read("Sources/mailfleet/AdminCommand.swift")).group(1)
    names = set()
    for type_name in re.findall(r"(\w+)\.self", root):
        body = re.search(r"struct " + type_name + r"\b[^{]*\{(.*?)CommandConfiguration\((.*?)\)", sources, re.S)
        explicit = re.search(r'commandName:\s*"([^"]+)"', body.group(2)) if body else None
        names.add(explicit.group(1) if explicit else re.sub(r"(?<!^)(?=[A-Z])", "-", type_name).lower())
    return names


def queue_states():
    """The states the scheduler's mailfleet_queue_depth gauge is labelled with."""
    text = read("Scheduler/MailfleetScheduler/SchedulerService.swift")
    listed = re.search(r"for state in \[([^\]]*)\]\s*\{\s*gauges\[state\] = Telemetry\.gauge\(\"queue_depth\"", text)
    return set(re.findall(r'"([^"]+)"', listed.group(1))) if listed else set()


# MARK: Dockerfile


def dockerfile_stages(text):
    """Stages in order: name, base and instructions (keyword, argument text), continuations joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        keyword, argument = keyword.upper(), argument.strip()
        if keyword == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", argument, re.I)
            stages.append({"name": match.group(2) or str(len(stages)), "base": match.group(1), "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, argument))
    return stages


def exec_form(argument):
    """The words of an exec-form (JSON array) argument, else the shell-form words."""
    try:
        words = json.loads(argument)
        return words if isinstance(words, list) else argument.split()
    except json.JSONDecodeError:
        return argument.split()


def stage_view(stages, name):
    """A stage's effective ENV, EXPOSE, HEALTHCHECK, USER, ENTRYPOINT and CMD, inherited from its bases."""
    by_name = {stage["name"]: stage for stage in stages}
    chain, stage = [], by_name.get(name)
    while stage:
        chain.insert(0, stage)
        stage = by_name.get(stage["base"])
    view = {"env": {}, "expose": [], "healthcheck": None, "user": "root", "entrypoint": [], "cmd": [], "volumes": [], "runs": []}
    for stage in chain:
        for keyword, argument in stage["instructions"]:
            if keyword == "ENV":
                view["env"].update(dict(re.findall(r"(\w+)=(\S+)", argument)))
            elif keyword == "EXPOSE":
                view["expose"] += [int(port.split("/")[0]) for port in argument.split()]
            elif keyword == "HEALTHCHECK":
                view["healthcheck"] = exec_form(argument[argument.index("CMD") + 3:].strip()) if "CMD" in argument else None
            elif keyword == "USER":
                view["user"] = argument.split(":")[0]
            elif keyword == "ENTRYPOINT":
                view["entrypoint"], view["cmd"] = exec_form(argument), []
            elif keyword == "CMD":
                view["cmd"] = exec_form(argument)
            elif keyword == "VOLUME":
                view["volumes"] += exec_form(argument)
            elif keyword == "RUN":
                view["runs"].append(argument)
    return view


def dockerignored(path, patterns):
    """Whether a .dockerignore pattern leaves out the path's top folder (the patterns used here name top folders)."""
    return any(fnmatch.fnmatchcase(path.split("/")[0], pattern.rstrip("/")) for pattern in patterns)


def check_dockerfile(products, targets, known_settings):
    stages = dockerfile_stages(read("ops/Dockerfile"))
    names = [stage["name"] for stage in stages]
    ignore = [line.strip() for line in read(".dockerignore").splitlines() if line.strip() and not line.startswith("#")] if exists(".dockerignore") else []
    build = stages[0]
    copied = []
    for keyword, argument in build["instructions"]:
        if keyword != "COPY" or "--from" in argument:
            continue
        *sources, _ = [word for word in argument.split() if not word.startswith("--")]
        for source in sources:
            source = source.rstrip("/") or "."
            if not exists(source):
                fail(f"Dockerfile: COPY {source}: no such file or folder")
            elif dockerignored(source, ignore):
                fail(f"Dockerfile: COPY {source}: .dockerignore leaves it out of the context")
            copied.append(source)

    def is_copied(path):
        return any(source == "." or path == source or path.startswith(source + "/") for source in copied)

    if not is_copied("Package.swift"):
        fail("Dockerfile: Package.swift is not copied")
    for target in targets:
        if not exists(target["folder"]):
            fail(f"Package.swift: target {target['name']}: folder {target['folder']} does not exist")
        elif not is_copied(target["folder"]):
            fail(f"Dockerfile: target {target['name']} ({target['folder']}) is not copied, so SwiftPM cannot load the package")
        for file in target["files"]:
            if not exists(os.path.join(target["folder"], file)):
                fail(f"Package.swift: target {target['name']}: {file} does not exist in {target['folder']}")
    build_runs = " ".join(argument for keyword, argument in build["instructions"] if keyword == "RUN")
    loop = re.search(r"for exe in ([^;]+);(.*?)done", build_runs)
    built = set(loop.group(1).split()) if loop else set()
    if built != products:
        fail(f"Dockerfile: builds products {sorted(built)}, Package.swift declares {sorted(products)}")
    if not loop or '--product "$exe"' not in loop.group(2) or '/$exe" /out/' not in loop.group(2):
        fail("Dockerfile: the build stage does not build and copy out each product of its loop")

    runtime = stage_view(stages, "runtime") if "runtime" in names else None
    if runtime is None:
        fail("Dockerfile: no `runtime` stage")
        return stages
    installed = set()
    for run in runtime["runs"]:
        match = re.search(r"apt-get install ([^&]*)", run)
        if match:
            installed |= {word for word in match.group(1).split() if not word.startswith("-")}
    if installed - RUNTIME_PACKAGES or not {"libpq5", "libhiredis0.14", "libcurl4"} <= installed:
        fail(f"Dockerfile: the runtime installs {sorted(installed)}; it needs libpq, hiredis and libcurl and nothing else but curl and CA certificates")
    if runtime["user"] in ("root", "0"):
        fail("Dockerfile: the runtime runs as root")
    for volume in runtime["volumes"]:
        if not any(re.search(r"chown\b.*\b" + re.escape(runtime["user"]) + r"\b.*\s(" + re.escape(volume) + r"|" + re.escape(os.path.dirname(volume)) + r")\b", run) for run in runtime["runs"]):
            fail(f"Dockerfile: volume {volume} is not owned by {runtime['user']}, who could not write it")
    for name in names:
        view = stage_view(stages, name)
        for variable in view["env"]:
            if variable.startswith("MAILFLEET_") and variable not in known_settings:
                fail(f"Dockerfile: stage {name}: ENV {variable} is not a setting in Settings.swift")
        command = view["entrypoint"] + view["cmd"]
        if name in ("build", "runtime") or not command:
            continue
        if command[0] not in products:
            fail(f"Dockerfile: stage {name} runs {command[0]}, which is not an executable product")
            continue
        prefix = SERVICE_SETTINGS.get(command[0])
        if prefix is None:
            continue
        port = view["env"].get(f"MAILFLEET_{prefix}_PORT")
        if view["env"].get(f"MAILFLEET_{prefix}_HOST") != "0.0.0.0":
            fail(f"Dockerfile: stage {name} does not listen on every interface (MAILFLEET_{prefix}_HOST=0.0.0.0)")
        if port is None or view["expose"] != [int(port)]:
            fail(f"Dockerfile: stage {name}: EXPOSE {view['expose']} is not its port setting MAILFLEET_{prefix}_PORT={port}")
        if not view["healthcheck"] or f"http://127.0.0.1:{port}/healthz" not in view["healthcheck"]:
            fail(f"Dockerfile: stage {name}: no HEALTHCHECK of /healthz on port {port}")
    return stages


# MARK: docker-compose.yml


def compose_file():
    """The compose file as docker-compose resolves it (anchors, interpolation), else as YAML."""
    tool = shutil.which("docker-compose")
    if tool:
        result = subprocess.run([tool, "config"], cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            fail(f"docker-compose config: {result.stderr.strip()}")
            return None
        return yaml.safe_load(result.stdout)
    print("check-deploy: docker-compose is not on PATH; parsing docker-compose.yml as YAML", file=sys.stderr)
    return yaml.safe_load(read("docker-compose.yml"))


def check_compose(stages, products, known_settings, subcommands):
    compose = compose_file()
    if compose is None:
        return
    services = compose["services"]
    stage_names = {stage["name"] for stage in stages}
    ports = {}
    for name, service in services.items():
        build = service.get("build")
        if isinstance(build, dict) and build.get("dockerfile") == "ops/Dockerfile":
            target = build.get("target")
            if target not in stage_names:
                fail(f"compose: {name} builds stage {target}, which ops/Dockerfile does not have")
                continue
            view = stage_view(stages, target)
            entrypoint = service.get("entrypoint", view["entrypoint"])
            command = service.get("command", view["cmd"] if "entrypoint" not in service else [])
            words = (entrypoint if isinstance(entrypoint, list) else entrypoint.split()) + (command if isinstance(command, list) else command.split())
            if not words or words[0] not in products:
                fail(f"compose: {name} runs {words[:1]}, which is not an executable product")
            elif words[0] == "mailfleet" and len(words) > 1 and not words[1].startswith("-") and words[1] not in subcommands:
                fail(f"compose: {name} runs `mailfleet {words[1]}`, which is not an admin subcommand ({sorted(subcommands)})")
            elif words[0] in SERVICE_SETTINGS:
                port = view["env"].get(f"MAILFLEET_{SERVICE_SETTINGS[words[0]]}_PORT")
                if port is None:
                    fail(f"compose: {name}: stage {target} sets no MAILFLEET_{SERVICE_SETTINGS[words[0]]}_PORT")
                else:
                    ports[name] = int(port)
            environment = service.get("environment") or {}
            for variable in environment:
                if variable not in known_settings:
                    fail(f"compose: {name}: {variable} is not a MAILFLEET_* setting in Settings.swift")
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            bind = volume.get("type") == "bind" if isinstance(volume, dict) else source.startswith((".", "/"))
            if bind and not os.path.exists(os.path.join(ROOT, source)):
                fail(f"compose: {name} mounts {source}, which does not exist")
    for required in ("api", "scheduler", "worker", "tracker", "sim", "migrate"):
        if required not in services:
            fail(f"compose: no {required} service")
    if int(services.get("scheduler", {}).get("deploy", {}).get("replicas", 1)) < 2:
        fail("compose: the scheduler needs two replicas (one leads, one stands by)")
    redis = services.get("redis", {})
    redis_command = " ".join(redis.get("command", [])) if isinstance(redis.get("command"), list) else redis.get("command", "")
    if "--appendonly yes" not in redis_command:
        fail("compose: Redis runs without its append-only file")
    migrate = services.get("migrate", {})
    for name in ("api", "scheduler", "worker", "tracker"):
        condition = services.get(name, {}).get("depends_on", {}).get("migrate", {}).get("condition")
        if migrate and condition != "service_completed_successfully":
            fail(f"compose: {name} does not wait for the migration to finish")

    prometheus = yaml.safe_load(read("ops/prometheus.yml"))
    scraped = set()
    for job in prometheus.get("scrape_configs", []):
        for static in job.get("static_configs", []):
            scraped |= set(static.get("targets", []))
        for dns in job.get("dns_sd_configs", []):
            scraped |= {f"{name}:{dns['port']}" for name in dns.get("names", [])}
    for name, port in ports.items():
        if f"{name}:{port}" not in scraped:
            fail(f"ops/prometheus.yml: nothing scrapes {name}:{port}")
    for name in ("scheduler", "worker"):
        replicated = [job for job in prometheus.get("scrape_configs", []) for dns in job.get("dns_sd_configs", []) if name in dns.get("names", [])]
        if name in ports and not replicated:
            fail(f"ops/prometheus.yml: {name} has replicas; scrape it through DNS, which answers every one")

    folder = "ops/grafana/provisioning/datasources"
    sources = [source for file in sorted(os.listdir(os.path.join(ROOT, folder))) for source in yaml.safe_load(read(os.path.join(folder, file))).get("datasources", [])]
    if not any(source.get("type") == "prometheus" and re.match(r"http://prometheus:9090/?$", source.get("url", "")) for source in sources):
        fail("grafana: no data source for the compose file's Prometheus (http://prometheus:9090)")
    grafana_mounts = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in services.get("grafana", {}).get("volumes", [])]
    if not any("ops/grafana/provisioning" in mount and "/etc/grafana/provisioning" in mount for mount in grafana_mounts):
        fail("compose: Grafana does not mount ops/grafana/provisioning")


# MARK: Kustomize rendering


def merge(base, patch):
    """A JSON merge patch (RFC 7386): maps merge key by key, null deletes, anything else (lists too) replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(base.get(key), value)
    return merged


def render(folder):
    """Renders the kustomize subset this project uses: `resources` (files and folders), `namespace`,
    `images`, `replicas` and `patches` given by `path`, applied as JSON merge patches (which is what
    kustomize does for kinds it has no schema for, such as KEDA's; lists are replaced whole, so a
    patch must not touch a Deployment's containers). Anything else in a kustomization fails."""
    kustomization = yaml.safe_load(read(os.path.join(folder, "kustomization.yaml")))
    unknown = set(kustomization) - {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
    if unknown:
        raise ValueError(f"{folder}: the renderer does not know {sorted(unknown)}")
    objects = []
    for resource in kustomization.get("resources", []):
        path = os.path.normpath(os.path.join(folder, resource))
        if os.path.isdir(os.path.join(ROOT, path)):
            objects += render(path)
        else:
            objects += [document for document in yaml.safe_load_all(read(path)) if document]
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise ValueError(f"{folder}: only patches given by path are rendered")
        body = yaml.safe_load(read(os.path.join(folder, patch["path"])))
        matches = [i for i, o in enumerate(objects) if o["kind"] == body["kind"] and o["metadata"]["name"] == body["metadata"]["name"]]
        if len(matches) != 1:
            raise ValueError(f"{folder}: patch {patch['path']} matches {len(matches)} objects")
        objects[matches[0]] = merge(objects[matches[0]], body)
    for replica in kustomization.get("replicas", []):
        for o in objects:
            if o["kind"] == "Deployment" and o["metadata"]["name"] == replica["name"]:
                o["spec"]["replicas"] = replica["count"]
    for image in kustomization.get("images", []):
        for o in objects:
            for container in o.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    if "namespace" in kustomization:
        for o in objects:
            o["metadata"]["namespace"] = kustomization["namespace"]
    return objects


def canonical(objects):
    return sorted(json.dumps(o, sort_keys=True) for o in objects)


def check_against_kubectl(folder, objects):
    """kubectl's kustomize, where installed, must render exactly what `render` does."""
    kubectl = shutil.which("kubectl")
    version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True).stdout if kubectl else ""
    kustomize = re.search(r"Kustomize Version: v(\d+)", version)
    # Older kustomize (Debian's kubectl 1.20 has v2) lacks `replicas` and path-only `patches`.
    if not kustomize or int(kustomize.group(1)) < 5:
        print(f"check-deploy: no kubectl with kustomize v5 on PATH; {folder} rendered by check_deploy.render only", file=sys.stderr)
        return
    result = subprocess.run([kubectl, "kustomize", folder], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"kubectl kustomize {folder}: {result.stderr.strip()}")
        return
    theirs = [document for document in yaml.safe_load_all(result.stdout) if document]
    if canonical(theirs) != canonical(objects):
        mine = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        for o in theirs:
            if mine.get((o["kind"], o["metadata"]["name"])) != o:
                fail(f"{folder}: {o['kind']}/{o['metadata']['name']} renders differently with kubectl kustomize")
        if len(theirs) != len(objects):
            fail(f"{folder}: kubectl kustomize renders {len(theirs)} objects, the renderer {len(objects)}")


# MARK: Kubernetes objects


def strict(schema):
    """The schema with unknown fields refused wherever it lists the known ones, as the API server's
    strict field validation does (a CRD schema leaves that to pruning, which would drop a typo silently)."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(value) for value in schema]
    return schema


def check_kubernetes(folder, objects, products, known_settings):
    crd = yaml.safe_load(read(KEDA_CRD))
    keda_schema = strict(next(v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"))
    for o in objects:
        label = f"{folder}: {o.get('kind')}/{o.get('metadata', {}).get('name')}"
        if o.get("apiVersion") == "keda.sh/v1alpha1":
            for error in jsonschema.Draft7Validator(keda_schema).iter_errors(o):
                fail(f"{label}: KEDA schema: {'.'.join(map(str, error.path))}: {error.message}")
            continue
        try:
            kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            fail(f"{label}: Kubernetes {KUBERNETES_VERSION} schema: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            fail(f"{label}: no Kubernetes {KUBERNETES_VERSION} schema: {error}")

    def of_kind(kind):
        return [o for o in objects if o["kind"] == kind]

    configured = {}
    for kind, field in (("ConfigMap", "data"), ("Secret", "stringData")):
        for o in of_kind(kind):
            for key, value in (o.get(field) or {}).items():
                if key in configured:
                    fail(f"{folder}: {key} is set both in the ConfigMap and the Secret")
                configured[key] = value
    if set(configured) - known_settings:
        fail(f"{folder}: {sorted(set(configured) - known_settings)} are not settings in Settings.swift")
    if known_settings - set(configured):
        fail(f"{folder}: settings {sorted(known_settings - set(configured))} are in neither the ConfigMap nor the Secret")
    secret_keys = {key for o in of_kind("Secret") for key in (o.get("stringData") or {})}
    for credential in ("MAILFLEET_DATABASE_URL", "MAILFLEET_REDIS_URL", "MAILFLEET_TRACKING_SECRET"):
        if credential not in secret_keys:
            fail(f"{folder}: {credential} belongs in the Secret")

    configmaps = {o["metadata"]["name"] for o in of_kind("ConfigMap")}
    secrets = {o["metadata"]["name"] for o in of_kind("Secret")}
    deployed = {}
    for o in of_kind("Deployment") + of_kind("Job"):
        label = f"{folder}: {o['kind']}/{o['metadata']['name']}"
        pod = o["spec"]["template"]["spec"]
        for container in pod["containers"]:
            command = container.get("command", [])
            if not command or command[0] not in products:
                fail(f"{label}: runs {command[:1]}, which is not an executable product")
                continue
            for source in container.get("envFrom", []):
                reference = source.get("configMapRef") or source.get("secretRef")
                if reference["name"] not in (configmaps | secrets):
                    fail(f"{label}: envFrom {reference['name']}, which is not in the rendering")
            for variable in container.get("env", []):
                if variable["name"] not in known_settings:
                    fail(f"{label}: env {variable['name']} is not a MAILFLEET_* setting in Settings.swift")
            if len(container.get("envFrom", [])) < 2:
                fail(f"{label}: takes its settings from neither or only one of the ConfigMap and the Secret")
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                if set(resources.get(bound, {})) < {"cpu", "memory"}:
                    fail(f"{label}: no {bound} of cpu and memory")
            if o["kind"] == "Job":
                if command != ["mailfleet", "migrate"]:
                    fail(f"{label}: the migration Job runs {command}, not `mailfleet migrate`")
                continue
            deployed[command[0]] = o
            port = int(configured.get(f"MAILFLEET_{SERVICE_SETTINGS[command[0]]}_PORT", 0))
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                get = container.get(probe, {}).get("httpGet", {})
                if get.get("path") != path or get.get("port") != port:
                    fail(f"{label}: {probe} is not GET {path} on port {port} (MAILFLEET_{SERVICE_SETTINGS[command[0]]}_PORT)")
            if port not in [p["containerPort"] for p in container.get("ports", [])]:
                fail(f"{label}: does not declare container port {port}")
            if o["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/port") != str(port):
                fail(f"{label}: its prometheus.io/port annotation is not {port}")
        pdbs = [p for p in of_kind("PodDisruptionBudget") if p["spec"]["selector"]["matchLabels"].items() <= o["spec"]["template"]["metadata"]["labels"].items()]
        if o["kind"] == "Deployment" and len(pdbs) != 1:
            fail(f"{label}: {len(pdbs)} PodDisruptionBudgets select it, not one")
    for executable in sorted(KUBERNETES_EXECUTABLES - set(deployed)):
        fail(f"{folder}: no Deployment runs {executable}")
    if not of_kind("Job"):
        fail(f"{folder}: no migration Job")
    scheduler = deployed.get("mailfleet-scheduler")
    if scheduler and scheduler["spec"].get("replicas", 1) < 2:
        fail(f"{folder}: the scheduler needs two replicas (one leads, one stands by)")
    worker = deployed.get("mailfleet-worker")
    if worker and worker["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30) < WORKER_DRAIN_SECONDS:
        fail(f"{folder}: a worker's grace period is shorter than its drain ({WORKER_DRAIN_SECONDS} s)")

    for service in of_kind("Service"):
        targets = [d for d in deployed.values() if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        named = {p.get("name") for d in targets for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        if len(targets) != 1 or any(p["targetPort"] not in named for p in service["spec"]["ports"]):
            fail(f"{folder}: Service/{service['metadata']['name']} does not select one Deployment's named port")

    api = deployed.get("mailfleet-api")
    hpas = [h for h in of_kind("HorizontalPodAutoscaler") if api and h["spec"]["scaleTargetRef"]["name"] == api["metadata"]["name"]]
    if len(hpas) != 1 or not any(m.get("resource", {}).get("name") == "cpu" for m in hpas[0]["spec"].get("metrics", [])):
        fail(f"{folder}: the API has no HorizontalPodAutoscaler on CPU")
    scaled = [s for s in of_kind("ScaledObject") if worker and s["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]]
    if len(scaled) != 1:
        fail(f"{folder}: {len(scaled)} ScaledObjects scale the workers, not one")
    else:
        states = queue_states()
        wanted = {"ready_transactional", "ready_bulk", "leased", "delayed"}
        if not wanted <= states:
            fail(f"SchedulerService.swift labels mailfleet_queue_depth with {sorted(states)}, not {sorted(wanted)}")
        prometheus = [t["metadata"] for t in scaled[0]["spec"]["triggers"] if t["type"] == "prometheus"]
        # KEDA types a trigger's metadata as a free map, so its schema cannot catch a misspelt key.
        for metadata in prometheus:
            if not {"serverAddress", "query", "threshold"} <= set(metadata):
                fail(f"{folder}: the workers' Prometheus trigger lacks {sorted({'serverAddress', 'query', 'threshold'} - set(metadata))}")
        queries = [metadata.get("query", "") for metadata in prometheus]
        if not queries or "mailfleet_queue_depth" not in queries[0] or not all(state in queries[0] for state in wanted):
            fail(f"{folder}: the workers' ScaledObject does not scale on mailfleet_queue_depth's {sorted(wanted)}")


def main():
    os.chdir(ROOT)
    products, targets = package()
    known_settings = settings()
    stages = check_dockerfile(products, targets, known_settings)
    check_compose(stages, products, known_settings, admin_subcommands())
    rendered = 0
    for folder in OVERLAYS:
        try:
            objects = render(folder)
        except (ValueError, KeyError, OSError) as error:
            fail(f"{folder}: cannot render: {error}")
            continue
        check_against_kubectl(folder, objects)
        check_kubernetes(folder, objects, products, known_settings)
        rendered += len(objects)
    if failures:
        for message in failures:
            print(f"check-deploy: {message}", file=sys.stderr)
        print(f"check-deploy: {len(failures)} failed", file=sys.stderr)
        return 1
    print(f"check-deploy: Dockerfile ({len(stages)} stages), docker-compose.yml and {rendered} Kubernetes objects "
          f"(Kubernetes {KUBERNETES_VERSION}, KEDA CRD) pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
