# Kubernetes control plane: etcd, kube-apiserver (TLS, RBAC), kube-controller-manager.
# etcd sends watch progress notifications every 5 s (its default is 10 minutes): without
# them the API server's watch cache lags on quiet resources, and a watch started from a
# fresh list's resourceVersion can wait up to 30 s or fail with "Too large resource version".
# Flags follow what controller-runtime's envtest uses, plus a real controller manager
# so Jobs, Deployments, namespaces and garbage collection actually work.

KUBE_BIN="$CACHE_DIR/kube/$KUBE_VERSION/bin"
PKI="$STACK_DIR/pki"

kube_pki() {
  [[ -f "$PKI/admin.crt" ]] && return 0
  require_command kube-apiserver openssl
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=model-runner-local-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    sign() { # name subject [san]
      openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
      if [[ -n "${3:-}" ]]; then printf 'subjectAltName=%s\n' "$3" >"$1.ext"; else : >"$1.ext"; fi
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    sign apiserver "/CN=kube-apiserver" \
      "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    sign admin "/O=system:masters/CN=admin"
    sign controller-manager "/CN=system:kube-controller-manager"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  ) || fail kube-apiserver "could not create certificates with openssl in $PKI"
  write_kubeconfig "$STACK_DIR/kubeconfig" admin
  write_kubeconfig "$PKI/controller-manager.kubeconfig" controller-manager
}

# write_kubeconfig FILE CERT_NAME
write_kubeconfig() {
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: model-runner-local
  cluster:
    server: https://127.0.0.1:$KUBE_APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$2.crt")
    client-key-data: $(base64 -w0 "$PKI/$2.key")
contexts:
- name: model-runner-local
  context: { cluster: model-runner-local, user: $2 }
current-context: model-runner-local
YAML
  chmod 600 "$1"
}

etcd_start() {
  require_command etcd etcd
  mkdir -p "$SHM_DIR/etcd"
  ln -sfn "$SHM_DIR/etcd" "$STACK_DIR/etcd-data"
  spawn etcd etcd --name model-runner --data-dir "$SHM_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "model-runner=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn \
    --experimental-watch-progress-notify-interval 5s
}
etcd_ready() { http_ok "http://127.0.0.1:$ETCD_PORT/health"; }
etcd_version() { etcd --version 2>/dev/null | awk '/etcd Version/ { print $3 }'; }
etcd_address() { echo "http://127.0.0.1:$ETCD_PORT"; }

kube_apiserver_start() {
  [[ -x "$KUBE_BIN/kube-apiserver" ]] || fail kube-apiserver "binary missing in $KUBE_BIN; run 'make install' (builds it from the Go module proxy)"
  kube_pki
  spawn kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$KUBE_APISERVER_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --api-audiences https://kubernetes.default.svc \
    --profiling=false -v=1
}
kube_apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$KUBE_APISERVER_PORT/readyz" -o /dev/null
}
kube_apiserver_version() { "$KUBE_BIN/kube-apiserver" --version 2>/dev/null | awk '{ print $2 }'; }
kube_apiserver_address() { echo "https://127.0.0.1:$KUBE_APISERVER_PORT"; }

kube_controller_manager_start() {
  [[ -x "$KUBE_BIN/kube-controller-manager" ]] || fail kube-controller-manager "binary missing in $KUBE_BIN; run 'make install'"
  local kc="$PKI/controller-manager.kubeconfig"
  spawn kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 --secure-port "$KUBE_CONTROLLER_MANAGER_PORT" \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --use-service-account-credentials=true --leader-elect=false \
    --controllers '*' --concurrent-gc-syncs 5 -v=1
}
kube_controller_manager_ready() { http_ok -k "https://127.0.0.1:$KUBE_CONTROLLER_MANAGER_PORT/healthz"; }
kube_controller_manager_version() { "$KUBE_BIN/kube-controller-manager" --version 2>/dev/null | awk '{ print $2 }'; }
kube_controller_manager_address() { echo "https://127.0.0.1:$KUBE_CONTROLLER_MANAGER_PORT"; }
