#!/usr/bin/env python3
"""Checks deploy/ without a Docker engine (none runs on the CI machines): the compose file parses and hangs
together, names only pinned official images (no registry answers here to ask whether a tag exists, so the pins
are reviewed by hand) or the image the Dockerfile builds, and sets only real settings; the Dockerfile's build
stage is deploy/build-release.sh (CI runs it on the host) and its health check is a real `parley` command;
nginx and Prometheus point at the compose file's replicas; Grafana's dashboard uses only metrics Parley exports.
Exit status 1 with every problem listed. Usage: python3 deploy/check.py"""
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, "deploy")
PINNED_IMAGES = {"nginx:1.27-alpine", "postgres:15-bookworm", "redis:7-alpine", "prom/prometheus:v2.54.1",
                 "grafana/grafana:11.2.0", "jaegertracing/all-in-one:1.60.0"}
problems = []


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as handle:
        return handle.read()


# The settings' environment variables, from the README's table (generated from the code by a test).
readme = read("README.md")
settings_env = set(re.findall(r"^\| `[a-z_]+`[^|]*\| `([A-Z0-9_]+)`", readme, re.M))
settings_env |= {"OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "OLLAMA_HOST"}
if len(settings_env) < 40:
    problems.append(f"README settings table not found ({len(settings_env)} variables)")


def known_variable(name):
    base = name[:-5] if name.endswith("_FILE") else name
    return (base in settings_env or re.fullmatch(r"PARLEY_UPSTREAM_[A-Z0-9_]+_API_KEY", base) is not None
            or (base.startswith("OTEL_") and f"`{base}`" in readme))


compose = yaml.safe_load(read("deploy", "compose.yaml"))
services = compose.get("services", {})
declared_secrets = set((compose.get("secrets") or {}).keys())
declared_volumes = set((compose.get("volumes") or {}).keys())
replicas = sorted(name for name in services if name.startswith("parley-"))
if len(replicas) != 3:
    problems.append(f"expected three parley replicas, found {replicas}")
for name, service in services.items():
    image = service.get("image")
    if "build" in service:
        dockerfile = os.path.normpath(os.path.join(DEPLOY, service["build"].get("context", "."),
                                                   service["build"].get("dockerfile", "Dockerfile")))
        if not os.path.isfile(dockerfile):
            problems.append(f"{name}: no Dockerfile at {dockerfile}")
    elif image not in PINNED_IMAGES:
        problems.append(f"{name}: image {image!r} is not one of the pinned official images {sorted(PINNED_IMAGES)}")
    depends = service.get("depends_on", [])
    for target in depends if isinstance(depends, list) else depends.keys():
        if target not in services:
            problems.append(f"{name}: depends on unknown service {target}")
    for secret in service.get("secrets", []):
        if secret not in declared_secrets:
            problems.append(f"{name}: secret {secret} is not declared")
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("."):
            if not os.path.exists(os.path.join(DEPLOY, source)):
                problems.append(f"{name}: mounts {source}, which does not exist")
        elif source not in declared_volumes:
            problems.append(f"{name}: volume {source} is not declared")
    if name.startswith("parley-"):
        for variable in service.get("environment", {}):
            if not known_variable(variable):
                problems.append(f"{name}: {variable} is not a Parley setting")
for secret, spec in (compose.get("secrets") or {}).items():
    if not spec.get("file", "").startswith("./secrets/"):
        problems.append(f"secret {secret} must be a file under deploy/secrets/")

dockerfile = read("deploy", "Dockerfile")
stages = re.findall(r"^FROM (\S+)(?: AS (\S+))?", dockerfile, re.M)
if len(stages) != 2 or stages[0][1] != "build" or not stages[1][0].startswith("debian:") or "slim" not in stages[1][0]:
    problems.append(f"Dockerfile: expected a build stage and a slim Debian runtime, found {stages}")
if "RUN deploy/build-release.sh /stage" not in dockerfile or "COPY --from=build /stage/ /" not in dockerfile:
    problems.append("Dockerfile: the build stage must run deploy/build-release.sh and the runtime copy its stage")
if not re.search(r"^USER parley$", dockerfile, re.M) or not re.search(r"^VOLUME /data$", dockerfile, re.M):
    problems.append("Dockerfile: must run as the parley user with a /data volume")
if 'CMD ["parley", "health"]' not in dockerfile or "struct Health" not in read("Sources", "parley", "Health.swift"):
    problems.append("Dockerfile: HEALTHCHECK must run `parley health`")
for variable in re.findall(r"\b(PARLEY_[A-Z_]+)=", dockerfile):
    if not known_variable(variable):
        problems.append(f"Dockerfile: {variable} is not a Parley setting")

nginx = read("deploy", "nginx.conf")
upstreams = sorted(re.findall(r"server (parley-\d):8080", nginx))
if upstreams != replicas:
    problems.append(f"nginx.conf sends to {upstreams}, compose runs {replicas}")
prometheus = yaml.safe_load(read("deploy", "prometheus.yml"))
targets = sorted(t.split(":")[0] for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"])
if targets != replicas:
    problems.append(f"prometheus.yml scrapes {targets}, compose runs {replicas}")

exported = set(re.findall(r'= "((?:parley|gen_ai|http_server|process)_[a-z_]+)"',
                          read("Sources", "ParleyCore", "Metrics", "MetricName.swift")))
dashboard = json.loads(read("deploy", "grafana", "dashboards", "parley.json"))
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        # Metric names, not the labels in `by (…)` and `{…}`.
        expression = re.sub(r"by \([^)]*\)|\{[^}]*\}", "", target["expr"])
        for metric in re.findall(r"\b((?:parley|gen_ai|http_server|process)_[a-z_]+)", expression):
            base = re.sub(r"_(bucket|sum|count)$", "", metric)
            if metric not in exported and base not in exported:
                problems.append(f"dashboard panel {panel['title']!r} uses {metric}, which Parley does not export")

if problems:
    print("deploy/ check failed:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"deploy/ checked: {len(services)} services ({', '.join(replicas)} built from deploy/Dockerfile), "
      f"{len(dashboard['panels'])} dashboard panels over {len(exported)} exported metrics")
