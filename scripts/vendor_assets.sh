#!/usr/bin/env bash
# Refresh the browser assets Broadsheet serves itself (GraphiQL, Swagger UI, ReDoc), so its
# pages work with no internet access and under a self-only Content-Security-Policy.
# Versions are pinned here; bump them, run this, and commit service/static/vendor.
set -euo pipefail
cd "$(dirname "$0")/.."
target="service/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

packages=(
  react@18.2.0
  react-dom@18.2.0
  js-cookie@3.0.5
  graphiql@3.8.3
  @graphiql/plugin-explorer@1.0.2
  swagger-ui-dist@5.17.14
  redoc@2.1.5
)
(cd "$work" && for spec in "${packages[@]}"; do npm pack --silent "$spec" >/dev/null; done)

rm -rf "$target" && mkdir -p "$target"
take() {  # take TARBALL-PREFIX FILE-IN-PACKAGE DESTINATION-NAME
  local tarball
  tarball=$(ls "$work"/$1-[0-9]*.tgz)
  tar -xzf "$tarball" -C "$work" "package/$2"
  cp "$work/package/$2" "$target/$3"
  rm -rf "$work/package"
}
licence() {  # licence TARBALL-PREFIX NAME
  local tarball file
  tarball=$(ls "$work"/$1-[0-9]*.tgz)
  file=$(tar -tzf "$tarball" | grep -iE '^package/(LICENSE|LICENCE)(\.md|\.txt)?$' | head -1 || true)
  if [ -n "$file" ]; then
    tar -xzf "$tarball" -C "$work" "$file"
    cp "$work/$file" "$target/LICENSE.$2.txt"
  else  # some packages ship no licence file: record the licence their package.json declares
    tar -xzf "$tarball" -C "$work" package/package.json
    python3 -c 'import json, sys; p = json.load(open(sys.argv[1])); print(p["name"], p["version"] + ":", p.get("license"), "licence, declared in its package.json (no licence file is shipped)")' \
      "$work/package/package.json" > "$target/LICENSE.$2.txt"
  fi
  rm -rf "$work/package"
}
take react umd/react.production.min.js react.production.min.js
take react-dom umd/react-dom.production.min.js react-dom.production.min.js
take js-cookie dist/js.cookie.min.js js.cookie.min.js
take graphiql graphiql.min.js graphiql.min.js
take graphiql graphiql.min.css graphiql.min.css
take graphiql-plugin-explorer dist/index.umd.js graphiql-plugin-explorer.umd.js
take graphiql-plugin-explorer dist/style.css graphiql-plugin-explorer.css
take swagger-ui-dist swagger-ui-bundle.js swagger-ui-bundle.js
take swagger-ui-dist swagger-ui.css swagger-ui.css
take redoc bundles/redoc.standalone.js redoc.standalone.js
for name in react react-dom js-cookie graphiql graphiql-plugin-explorer swagger-ui-dist redoc; do
  licence "$name" "$name"
done
printf '%s\n' "${packages[@]}" > "$target/VERSIONS.txt"
ls -la "$target"
