// Writes docs/api/openapi.json from the REST controllers (`nx run ateapi:generate`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { generateOpenApiDocument, renderOpenApiDocument } from '../src/rest/openapi-document';

const target = resolve(__dirname, '../../../docs/api/openapi.json');

void generateOpenApiDocument().then((document) => {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, renderOpenApiDocument(document));
  console.log(`wrote ${target} (${Object.keys(document.paths).length} paths)`);
});
