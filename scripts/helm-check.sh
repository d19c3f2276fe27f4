#!/usr/bin/env bash
# Checks the Helm chart and the deployment files, offline:
#   1. helm and kubectl into .tools/bin (scripts/install-k8s-tools.sh)
#   2. helm dependency build (the school-lib library is a file:// dependency) and helm lint of the library
#   3. values.schema.json is a valid JSON Schema; every values.yaml leaf has a `## @param` and back
#   4. per value set in deploy/helm/school-platform/ci/: helm lint --strict, helm template, then every
#      rendered manifest validated with kubernetes-validate (strict) plus the chart's own policy checks
#   5. every file in ci-invalid/ must make helm template fail, with the message its `# expect:` names
#   6. skaffold.yaml agrees with the chart (one artifact per service and the gateway, value paths exist)
#   7. hadolint on every Dockerfile
# Exits non-zero on any failure. KUBE_VERSION (default 1.33.0) is both helm's --kube-version and the
# schema version; rendered manifests stay in .run/helm-check/ for inspection.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"

KUBE_VERSION="${KUBE_VERSION:-1.33.0}"
CHART_DIR="deploy/helm/school-platform"
LIB_DIR="deploy/helm/school-lib"
RELEASE="school"
NAMESPACE="school"
OUT_DIR="${REPO_ROOT}/.run/helm-check"
PYTHON="${REPO_ROOT}/.venv/bin/python"
HADOLINT="${REPO_ROOT}/.venv/bin/hadolint"
HELM="${REPO_ROOT}/.tools/bin/helm"

failures=()
fail() { failures+=("$1"); printf '  FAIL %s\n' "$1"; }
step() { printf '\n== %s\n' "$1"; }

step "tools"
bash scripts/install-k8s-tools.sh || { echo "cannot install helm/kubectl"; exit 1; }
if [[ ! -x "${PYTHON}" ]] || ! "${PYTHON}" -c 'import kubernetes_validate, yaml, jsonschema' 2>/dev/null; then
  echo "the workspace venv lacks kubernetes-validate / pyyaml / jsonschema: run 'uv sync' first"
  exit 1
fi
"${HELM}" version --short

rm -rf "${OUT_DIR}"
mkdir -p "${OUT_DIR}/rendered" "${OUT_DIR}/invalid"

step "dependencies and library lint"
if "${HELM}" dependency build "${CHART_DIR}" >"${OUT_DIR}/dependency-build.log" 2>&1; then
  echo "  ok   helm dependency build"
else
  cat "${OUT_DIR}/dependency-build.log"; fail "helm dependency build"
fi
if "${HELM}" lint --strict "${LIB_DIR}" >"${OUT_DIR}/lint-school-lib.log" 2>&1; then
  echo "  ok   helm lint --strict ${LIB_DIR}"
else
  cat "${OUT_DIR}/lint-school-lib.log"; fail "helm lint ${LIB_DIR}"
fi

step "values schema and @param documentation"
if "${PYTHON}" - "${CHART_DIR}" <<'PY'
import json, re, sys
from pathlib import Path

import jsonschema
import yaml

chart = Path(sys.argv[1])
schema = json.loads((chart / "values.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
text = (chart / "values.yaml").read_text()
values = yaml.safe_load(text)
problems = [f"values.yaml {e.json_path}: {e.message}" for e in validator.iter_errors(values)]

def leaves(node, prefix=""):
    if isinstance(node, dict) and node:
        for key, child in node.items():
            yield from leaves(child, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix

def exists(node, path):
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True

params = re.findall(r"^\s*## @param (\S+)", text, flags=re.M)
documented = set(params)
for leaf in leaves(values):
    parts = leaf.split(".")
    if not any(".".join(parts[:i]) in documented for i in range(1, len(parts) + 1)):
        problems.append(f"values.yaml: {leaf} has no '## @param' (on it or a parent)")
for param in params:
    if not exists(values, param):
        problems.append(f"values.yaml: '## @param {param}' names no value")
for p in problems:
    print("  " + p)
print(f"  schema valid; {len(params)} @param lines cover {sum(1 for _ in leaves(values))} values")
sys.exit(1 if problems else 0)
PY
then echo "  ok   values.schema.json / values.yaml"; else fail "values schema or @param documentation"; fi

step "lint and render each value set in ${CHART_DIR}/ci (kube ${KUBE_VERSION})"
shopt -s nullglob
ci_files=("${CHART_DIR}"/ci/*.yaml)
invalid_files=("${CHART_DIR}"/ci-invalid/*.yaml)
shopt -u nullglob
[[ ${#ci_files[@]} -gt 0 ]] || fail "no value sets in ${CHART_DIR}/ci"
rendered=()
for values_file in "${ci_files[@]}"; do
  name="$(basename "${values_file}" .yaml)"
  if "${HELM}" lint --strict "${CHART_DIR}" -f "${values_file}" --kube-version "${KUBE_VERSION}" \
      >"${OUT_DIR}/lint-${name}.log" 2>&1; then
    echo "  ok   helm lint --strict -f ci/${name}.yaml"
  else
    cat "${OUT_DIR}/lint-${name}.log"; fail "helm lint ci/${name}.yaml"
  fi
  out="${OUT_DIR}/rendered/${name}.yaml"
  if "${HELM}" template "${RELEASE}" "${CHART_DIR}" -f "${values_file}" --namespace "${NAMESPACE}" \
      --kube-version "${KUBE_VERSION}" >"${out}" 2>"${OUT_DIR}/template-${name}.log"; then
    echo "  ok   helm template -f ci/${name}.yaml"
    rendered+=("${out}")
  else
    cat "${OUT_DIR}/template-${name}.log"; fail "helm template ci/${name}.yaml"
  fi
done

step "validate rendered manifests (kubernetes-validate --strict, Kubernetes ${KUBE_VERSION}) and policy"
if [[ ${#rendered[@]} -gt 0 ]]; then
  if ! "${PYTHON}" - "${KUBE_VERSION}" "${rendered[@]}" <<'PY'
import sys
from collections import Counter
from pathlib import Path

import kubernetes_validate
import yaml

version, files = sys.argv[1], sys.argv[2:]

# Custom resources of operators this chart can target. kubernetes-validate ships only the built-in
# Kubernetes schemas, so these kinds are checked for shape only (apiVersion, kind, metadata.name, spec).
CUSTOM_RESOURCES = {
    ("postgresql.cnpg.io/v1", "Cluster"),   # CloudNativePG, postgresql.cnpg.enabled
    ("postgresql.cnpg.io/v1", "Database"),  # CloudNativePG >= 1.25, postgresql.cnpg.enabled
    ("k8s.keycloak.org/v2alpha1", "Keycloak"),  # Keycloak operator, keycloak.operator.enabled
}
POD_KINDS = {"Deployment", "Job"}
problems, validated, skipped = [], Counter(), Counter()

def pod_checks(where, doc):
    spec = doc["spec"]["template"]["spec"]
    if spec.get("automountServiceAccountToken") is not False:
        problems.append(f"{where}: automountServiceAccountToken must be false")
    psc = spec.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True or (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: pod securityContext must set runAsNonRoot and seccompProfile RuntimeDefault")
    for c in spec.get("containers", []):
        sc = c.get("securityContext") or {}
        if not (sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
                and "ALL" in ((sc.get("capabilities") or {}).get("drop") or [])):
            problems.append(f"{where}/{c['name']}: container must be read-only, no privilege escalation, drop ALL")
        if not any(m.get("mountPath") == "/tmp" for m in c.get("volumeMounts", [])):
            problems.append(f"{where}/{c['name']}: needs a writable /tmp")
        env = {e["name"]: e for e in c.get("env", [])}
        for name in ("DATABASE__URL", "DATABASE__MIGRATION_URL"):
            if name in env and "valueFrom" not in env[name]:
                problems.append(f"{where}/{c['name']}: {name} must come from a Secret")
        if doc["kind"] == "Deployment":
            probes = [c.get(p) for p in ("startupProbe", "readinessProbe", "livenessProbe")]
            if not all(probes):
                problems.append(f"{where}/{c['name']}: needs startup, readiness and liveness probes")
            elif probes[1] == probes[2]:
                problems.append(f"{where}/{c['name']}: readiness and liveness probes must differ")
            if "DATABASE__MIGRATION_URL" in env:
                problems.append(f"{where}/{c['name']}: the owner-role URL belongs to the migration Job only")
        if doc["kind"] == "Job" and "DATABASE__URL" in env and "DATABASE__MIGRATION_URL" not in env:
            problems.append(f"{where}/{c['name']}: migration Job lacks DATABASE__MIGRATION_URL")

for path in files:
    docs = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
    seen = Counter((d.get("kind"), d.get("metadata", {}).get("name")) for d in docs)
    for key, n in seen.items():
        if n > 1:
            problems.append(f"{Path(path).name}: {key[0]}/{key[1]} rendered {n} times")
    for doc in docs:
        where = f"{Path(path).name}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if (doc.get("apiVersion"), doc.get("kind")) in CUSTOM_RESOURCES:
            if not (doc.get("metadata", {}).get("name") and isinstance(doc.get("spec"), dict)):
                problems.append(f"{where}: custom resource without metadata.name or spec")
            skipped[doc["kind"]] += 1
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
            validated[doc["kind"]] += 1
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{where}: {'.'.join(str(p) for p in e.path)}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            problems.append(f"{where}: {e.message} (not in the custom-resource allow-list)")
        if doc.get("kind") in POD_KINDS:
            pod_checks(where, doc)
        labels = doc.get("metadata", {}).get("labels", {})
        for label in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"):
            if label not in labels:
                problems.append(f"{where}: missing label {label}")

for p in problems:
    print("  " + p)
total = sum(validated.values())
print(f"  {total} manifests validated against Kubernetes {version} (strict) from {len(files)} value sets:")
print("    " + ", ".join(f"{k} {v}" for k, v in sorted(validated.items())))
if skipped:
    print(f"  {sum(skipped.values())} custom resources shape-checked only (allow-list): "
          + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
with open(Path(files[0]).parent.parent / "summary.txt", "w") as f:
    f.write(f"validated={total} custom={sum(skipped.values())} value_sets={len(files)}\n")
sys.exit(1 if problems else 0)
PY
  then fail "manifest validation or policy"; fi
fi

step "invalid value sets must be rejected (${CHART_DIR}/ci-invalid)"
rejected=0
for values_file in "${invalid_files[@]}"; do
  name="$(basename "${values_file}" .yaml)"
  expect="$(grep -m1 '^# expect: ' "${values_file}" | sed 's/^# expect: //' || true)"
  log="${OUT_DIR}/invalid/${name}.log"
  if "${HELM}" template "${RELEASE}" "${CHART_DIR}" -f "${values_file}" --namespace "${NAMESPACE}" \
      --kube-version "${KUBE_VERSION}" >/dev/null 2>"${log}"; then
    fail "ci-invalid/${name}.yaml was accepted"
  elif [[ -n "${expect}" ]] && ! grep -qF -- "${expect}" "${log}"; then
    sed 's/^/    /' "${log}"; fail "ci-invalid/${name}.yaml failed without '${expect}'"
  else
    echo "  ok   ci-invalid/${name}.yaml rejected (${expect:-any error})"
    rejected=$((rejected + 1))
  fi
done
[[ ${#invalid_files[@]} -gt 0 ]] || fail "no value sets in ${CHART_DIR}/ci-invalid"

step "skaffold.yaml agrees with the chart"
# Every artifact: repository-root context, an existing Dockerfile, and setValueTemplates that set one
# chart image's repository and tag. Those templates, filled with stand-in values, must then pass the
# values schema and render every artifact's image into the manifests.
skaffold_values="${OUT_DIR}/skaffold-values.yaml"
if "${PYTHON}" - "${CHART_DIR}" "${skaffold_values}" <<'PY'
import re, sys
from pathlib import Path

import yaml

chart, out = Path(sys.argv[1]), Path(sys.argv[2])
values = yaml.safe_load((chart / "values.yaml").read_text())
problems = []
cfg = next(c for c in yaml.safe_load_all(Path("skaffold.yaml").read_text()) if c)
if not str(cfg.get("apiVersion", "")).startswith("skaffold/v4"):
    problems.append(f"apiVersion {cfg.get('apiVersion')} is not skaffold/v4*")
artifacts = cfg.get("build", {}).get("artifacts", [])
releases = cfg.get("deploy", {}).get("helm", {}).get("releases", [])
if len(releases) != 1 or Path(releases[0].get("chartPath", "")).resolve() != chart.resolve():
    problems.append(f"expected one helm release deploying {chart}")
templates = releases[0].get("setValueTemplates", {}) if releases else {}

overlay, expected_images, covered = {}, [], set()
def put(path, value):
    node = overlay
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value

for key, tmpl in templates.items():
    if not key.startswith(("services.", "gateway.")):
        put(key, "https://skaffold.invalid")      # e.g. the Keycloak URLs from the environment
for a in artifacts:
    image = a["image"]
    var = re.sub(r"[^A-Za-z0-9_]", "_", image)
    dockerfile = a.get("docker", {}).get("dockerfile", "")
    if a.get("context") != ".":
        problems.append(f"{image}: context must be the repository root '.'")
    if not Path(dockerfile).is_file():
        problems.append(f"{image}: dockerfile {dockerfile!r} does not exist")
    mine = {k: v for k, v in templates.items() if re.search(r"\.IMAGE_(REPO|TAG|DIGEST|FULLY_QUALIFIED|DOMAIN|REPO_NO_DOMAIN)_" + var + r"\s*}}", str(v))}
    owners = {k.rsplit(".image.", 1)[0] for k in mine}
    if len(owners) != 1:
        problems.append(f"{image}: setValueTemplates should set exactly one chart image, found {sorted(owners)}")
        continue
    owner = owners.pop()
    covered.add(owner)
    for field, fake in (("repository", f"skaffold.invalid/{image}"), ("tag", "skaffold-tag"), ("digest", "")):
        key = f"{owner}.image.{field}"
        if key in mine:
            put(key, fake)
        elif field != "digest":
            problems.append(f"{image}: setValueTemplates lacks {key}")
    expected_images.append(f"skaffold.invalid/{image}:skaffold-tag")
chart_images = {f"services.{s}" for s in values["services"]} | {"gateway"}
for missing in sorted(chart_images - covered):
    problems.append(f"no skaffold artifact builds the image of {missing}")
out.write_text(yaml.safe_dump(overlay, sort_keys=False))
(out.parent / "skaffold-images.txt").write_text("\n".join(expected_images) + "\n")
for p in problems:
    print("  " + p)
print(f"  {len(artifacts)} artifacts, {len(templates)} setValueTemplates")
sys.exit(1 if problems else 0)
PY
then
  if "${HELM}" template "${RELEASE}" "${CHART_DIR}" -f "${skaffold_values}" --namespace "${NAMESPACE}" \
      --kube-version "${KUBE_VERSION}" >"${OUT_DIR}/skaffold-rendered.yaml" 2>"${OUT_DIR}/skaffold-template.log"; then
    missing_images=0
    while read -r img; do
      grep -qF "image: \"${img}\"" "${OUT_DIR}/skaffold-rendered.yaml" || { echo "  ${img} not rendered"; missing_images=1; }
    done <"${OUT_DIR}/skaffold-images.txt"
    if [[ ${missing_images} -eq 0 ]]; then echo "  ok   skaffold.yaml (its values render every artifact's image)"
    else fail "skaffold images not rendered"; fi
  else
    cat "${OUT_DIR}/skaffold-template.log"; fail "helm template with skaffold's setValueTemplates"
  fi
else
  fail "skaffold.yaml consistency"
fi

step "hadolint"
dockerfiles=(services/*/Dockerfile gateway/Dockerfile)
linted=0
for df in "${dockerfiles[@]}"; do
  [[ -f "${df}" ]] || { fail "missing ${df}"; continue; }
  if "${HADOLINT}" --config .hadolint.yaml "${df}"; then
    echo "  ok   ${df}"; linted=$((linted + 1))
  else
    fail "hadolint ${df}"
  fi
done

step "summary"
echo "  value sets rendered: ${#rendered[@]}/${#ci_files[@]}; invalid value sets rejected: ${rejected}/${#invalid_files[@]}"
[[ -f "${OUT_DIR}/summary.txt" ]] && echo "  manifests: $(cat "${OUT_DIR}/summary.txt")"
echo "  Dockerfiles passing hadolint: ${linted}/${#dockerfiles[@]}"
echo "  rendered manifests: ${OUT_DIR#"${REPO_ROOT}"/}/rendered/"
if [[ ${#failures[@]} -gt 0 ]]; then
  echo "helm-check: FAILED (${#failures[@]}):"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
echo "helm-check: OK"
