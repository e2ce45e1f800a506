import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateOpenApiDocument, renderOpenApiDocument } from './openapi-document';

describe('the OpenAPI document', () => {
  it('describes every REST operation with its error answers', async () => {
    const document = await generateOpenApiDocument();
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /v1/atespaces',
        'POST /v1/atespaces',
        'GET /v1/atespaces/{atespace}',
        'DELETE /v1/atespaces/{atespace}',
        'GET /v1/actors',
        'GET /v1/atespaces/{atespace}/actors',
        'POST /v1/atespaces/{atespace}/actors',
        'GET /v1/atespaces/{atespace}/actors/{actor}',
        'PATCH /v1/atespaces/{atespace}/actors/{actor}',
        'DELETE /v1/atespaces/{atespace}/actors/{actor}',
        'POST /v1/atespaces/{atespace}/actors/{actor}/resume',
        'POST /v1/atespaces/{atespace}/actors/{actor}/suspend',
        'POST /v1/atespaces/{atespace}/actors/{actor}/pause',
        'GET /v1/workers',
        'POST /v1/debug/clear',
        'POST /v1/snapshots/gc',
      ].sort(),
    );
    const actor = document.components?.schemas?.['ActorDto'] as { properties: Record<string, unknown> };
    expect(Object.keys(actor.properties)).toEqual(
      expect.arrayContaining(['actorId', 'atespace', 'status', 'version', 'latestSnapshotInfo']),
    );
    const getActor = document.paths['/v1/atespaces/{atespace}/actors/{actor}']?.get;
    expect(Object.keys(getActor?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '404', '409', '412', '500']),
    );
  });

  it('is committed up to date in docs/api/openapi.json (run `npx nx run ateapi:generate`)', async () => {
    const committed = readFileSync(resolve(__dirname, '../../../../docs/api/openapi.json'), 'utf8');
    expect(committed).toBe(renderOpenApiDocument(await generateOpenApiDocument()));
  });
});
