import { Document } from 'yaml';
import { type Json } from '../schema/schema';
import { toOpenApi } from '../schema/openapi';
import { API_GROUP, API_VERSION } from '../v1alpha1/common';
import { KINDS, type KindInfo, sandboxConfigKind } from '../v1alpha1/kinds';

type JsonObject = { [key: string]: Json };

const VERSION = API_VERSION.split('/')[1] ?? '';

/** The `apiextensions.k8s.io/v1` CustomResourceDefinition of a kind, derived from its schema. */
export function customResourceDefinition(info: KindInfo): JsonObject {
  const { status, scale } = info.subresources;
  const subresources: JsonObject = {
    ...(status ? { status: {} } : {}),
    ...(scale
      ? { scale: { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath } }
      : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        shortNames: [...info.shortNames],
        singular: info.singular,
      },
      scope: info.scope,
      versions: [
        {
          ...(info.printerColumns.length
            ? {
                additionalPrinterColumns: info.printerColumns.map((c) => ({
                  jsonPath: c.jsonPath,
                  name: c.name,
                  type: c.type,
                })),
              }
            : {}),
          name: VERSION,
          schema: { openAPIV3Schema: toOpenApi(info.schema) },
          served: true,
          storage: true,
          ...(Object.keys(subresources).length ? { subresources } : {}),
        },
      ],
    },
  };
}

/** Name of the ValidatingAdmissionPolicy (and its binding) enforcing per-class SandboxConfig assets. */
export const SANDBOXCONFIG_ASSETS_POLICY = 'sandboxconfig-assets';

/** The ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding for SandboxConfig assets. */
export function sandboxConfigAssetsPolicy(): [JsonObject, JsonObject] {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: SANDBOXCONFIG_ASSETS_POLICY },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [API_GROUP],
              apiVersions: [VERSION],
              operations: ['CREATE', 'UPDATE'],
              resources: [sandboxConfigKind.plural],
            },
          ],
        },
        validations: sandboxConfigKind.admissionRules.map((r) => ({
          expression: r.expression,
          message: r.message,
        })),
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: SANDBOXCONFIG_ASSETS_POLICY },
      spec: { policyName: SANDBOXCONFIG_ASSETS_POLICY, validationActions: ['Deny'] },
    },
  ];
}

const HEADER = [
  '# Generated from the schema definitions in libs/api/src/v1alpha1; do not edit.',
  '# Regenerate with: npx nx run api:generate',
].join('\n');

const yaml = (docs: readonly JsonObject[]) =>
  `${HEADER}\n${docs.map((d) => `---\n${new Document(d).toString({ lineWidth: 0 })}`).join('')}`;

/**
 * The contents of `deploy/crds/`: file name → YAML. Pure; the `generate` script writes them and a
 * test checks the committed files against them.
 */
export function renderCrdFiles(): ReadonlyMap<string, string> {
  const files = new Map<string, string>();
  for (const info of Object.values(KINDS))
    files.set(`${API_GROUP}_${info.plural}.yaml`, yaml([customResourceDefinition(info)]));
  files.set('sandboxconfig-assets-policy.yaml', yaml(sandboxConfigAssetsPolicy()));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}
