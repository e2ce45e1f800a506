import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ControlService } from '../control/control.service';
import { ControlRestController } from './control.rest-controller';
import { SnapshotsRestController } from './snapshots.rest-controller';
import { SnapshotCollector } from '../snapshots/snapshot-collector';
import { buildOpenApiDocument } from './openapi';

@Module({
  controllers: [ControlRestController, SnapshotsRestController],
  providers: [
    { provide: ControlService, useValue: {} },
    { provide: SnapshotCollector, useValue: {} },
  ],
})
class RestOnlyModule {}

/**
 * The OpenAPI document without a running control plane: the REST controllers are mounted over an empty
 * service (the document is built from decorators only), so the build target needs no Redis.
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(RestOnlyModule, { logger: false });
  try {
    await app.init();
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

/** The document as committed to docs/api/openapi.json: stable key order, two-space indent, final newline. */
export function renderOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(normalise(document), null, 2)}\n`;
}

/**
 * Sorts each operation's parameters by location and name: decorator metadata is merged in a different
 * order depending on the TypeScript compiler, and the document should not change with it.
 */
export function normalise(document: OpenAPIObject): OpenAPIObject {
  const paths: OpenAPIObject['paths'] = {};
  for (const [path, item] of Object.entries(document.paths)) {
    const sorted: Record<string, unknown> = {};
    for (const [method, operation] of Object.entries(
      item as Record<string, { parameters?: { in: string; name: string }[] }>,
    )) {
      sorted[method] = operation.parameters
        ? {
            ...operation,
            parameters: [...operation.parameters].sort((a, b) =>
              `${a.in}/${a.name}`.localeCompare(`${b.in}/${b.name}`),
            ),
          }
        : operation;
    }
    paths[path] = sorted;
  }
  return { ...document, paths };
}
