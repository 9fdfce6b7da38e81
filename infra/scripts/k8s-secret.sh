#!/usr/bin/env bash
# Creates the Secret "devpie-secrets" that k8s/ reads (shape: k8s/secret.example.yaml):
#   POSTGRES_PASSWORD  random; PostgreSQL initialises its data directory with it
#   DATABASE_URL       postgres://devpie:<password>@postgres:5432/devpie, what the services use
#   JWT_PRIVATE_KEY    a fresh RS256 key (PKCS#8 PEM) that Identity signs tokens with
# Does nothing when the Secret exists (skaffold runs it before every deploy). Needs kubectl and openssl.
# To start over, delete the Secret and the postgres volume together:
#   kubectl delete secret devpie-secrets && kubectl delete pvc data-postgres-0
set -euo pipefail

name=devpie-secrets
kubectl_=(kubectl)
[ -n "${SKAFFOLD_KUBE_CONTEXT:-}" ] && kubectl_+=(--context "$SKAFFOLD_KUBE_CONTEXT")
[ -n "${NAMESPACE:-}" ] && kubectl_+=(--namespace "$NAMESPACE")

if "${kubectl_[@]}" get secret "$name" >/dev/null 2>&1; then
  echo "k8s-secret: $name exists"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/jwt.pem" 2>/dev/null
password="$(openssl rand -hex 24)"

"${kubectl_[@]}" create secret generic "$name" \
  --from-literal=POSTGRES_PASSWORD="$password" \
  --from-literal=DATABASE_URL="postgres://devpie:${password}@postgres:5432/devpie" \
  --from-file=JWT_PRIVATE_KEY="$tmp/jwt.pem"
"${kubectl_[@]}" label secret "$name" app.kubernetes.io/part-of=devpie >/dev/null
echo "k8s-secret: created $name"
