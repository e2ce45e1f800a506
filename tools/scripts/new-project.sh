#!/usr/bin/env bash
# Scaffolds the configuration files of a new Nx project (library or app) the way every project here has them.
# usage: tools/scripts/new-project.sh <lib|app> <name> <tags comma-separated> [--integration]
set -euo pipefail
kind=$1 name=$2 tags=$3 integration=${4:-}
root=$([ "$kind" = lib ] && echo "libs/$name" || echo "apps/$name")
[ -e "$root/project.json" ] && { echo "$root already exists" >&2; exit 1; }
mkdir -p "$root/src"
tag_json=$(echo "$tags" | sed 's/[^,][^,]*/"&"/g')
integration_target=""
if [ "$integration" = --integration ]; then
  integration_target=',
    "integration": {
      "executor": "nx:run-commands",
      "options": { "command": "jest -c {projectRoot}/jest.integration.config.js --runInBand" }
    }'
  cat > "$root/jest.integration.config.js" <<JEST
/** Integration tests: real dependencies on loopback, started by the global setup. */
module.exports = {
  displayName: '$name:integration',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.integration-spec.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120000,
};
JEST
fi
cat > "$root/project.json" <<JSON
{
  "name": "$name",
  "\$schema": "../../node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$root/src",
  "projectType": "$([ "$kind" = lib ] && echo library || echo application)",
  "tags": [$tag_json],
  "targets": {
    "lint": {
      "executor": "nx:run-commands",
      "options": { "command": "eslint --max-warnings=0 {projectRoot}" }
    },
    "typecheck": {
      "executor": "nx:run-commands",
      "options": { "command": "tsc -p {projectRoot}/tsconfig.json --noEmit" }
    },
    "test": {
      "executor": "nx:run-commands",
      "options": { "command": "jest -c {projectRoot}/jest.config.js" }
    }$integration_target
  }
}
JSON
cat > "$root/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": {
    "outDir": "../../dist/out-tsc/$root",
    "types": ["node", "jest"]
  },
  "include": ["src/**/*.ts", "test/**/*.ts"]
}
JSON
cat > "$root/jest.config.js" <<JEST
/** Unit tests: fast, pure, next to the code. */
module.exports = {
  displayName: '$name',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
JEST
echo "created $root"
