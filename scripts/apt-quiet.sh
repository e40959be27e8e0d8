# Sourced by the test scripts: apt_install_without_services PACKAGE...
# installs Debian packages without starting their services (PostgreSQL's
# own cluster, node_exporter's unit): a policy-rc.d (Debian's invoke-rc.d
# policy) that refuses every start is in place for the install and removed
# afterwards, whatever happens, unless one was there before.
apt_install_without_services() {
  local policy=/usr/sbin/policy-rc.d created=false status=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created=true
  fi
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  } || status=$?
  if [ "$created" = true ]; then rm -f "$policy"; fi
  return "$status"
}
