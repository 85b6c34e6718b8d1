# Shared by the bench scripts (sourced, not run).

# A TCP port on 127.0.0.1 nobody listens on now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
