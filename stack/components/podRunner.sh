# Local pod runner: a dev/test stand-in for a kubelet (devtools/local-pod-runner/).
# There is no container runtime here, so it registers the node 'local-pod-runner'
# and runs the pods that set spec.schedulerName: local-pod-runner as local
# processes, logging to .stack/pods/. Health and version on 127.0.0.1.

POD_RUNNER_HEALTH_PORT="${POD_RUNNER_HEALTH_PORT:-30258}"

pod_runner_start() {
  local node="$REPO_ROOT/node_modules/.bin/node"
  [[ -x "$node" ]] || fail pod-runner "$node not found; run 'make install' (npm installs the pinned Node)"
  [[ -f "$STACK_DIR/kubeconfig" ]] || fail pod-runner "$STACK_DIR/kubeconfig missing; kube-apiserver must start first"
  mkdir -p "$STACK_DIR/pods"
  spawn pod-runner env KUBECONFIG="$STACK_DIR/kubeconfig" MODEL_RUNNER_STACK_DIR="$STACK_DIR" \
    LOCAL_POD_RUNNER_HEALTH_PORT="$POD_RUNNER_HEALTH_PORT" \
    "$node" "$REPO_ROOT/devtools/local-pod-runner/main.ts"
}
# Healthy: the node is registered, its Lease is fresh and every pod for it has been listed.
pod_runner_ready() { http_ok "http://127.0.0.1:$POD_RUNNER_HEALTH_PORT/healthz"; }
pod_runner_version() { curl -fsS --max-time 2 "http://127.0.0.1:$POD_RUNNER_HEALTH_PORT/version"; }
pod_runner_address() { echo "node local-pod-runner (health http://127.0.0.1:$POD_RUNNER_HEALTH_PORT/healthz)"; }
