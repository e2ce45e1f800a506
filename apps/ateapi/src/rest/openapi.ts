import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { HttpExceptionFilter } from './http-exception.filter';

/** The OpenAPI 3 document of the REST gateway, generated from the controllers' decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Substrate control plane (ateapi)')
    .setDescription(
      'REST/JSON gateway of ateapi.Control: the same operations, validation and messages as the gRPC API. ' +
        'Errors are `{code, message}` with the gRPC status name as `code`.',
    )
    .setVersion('v1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'Required when ateapi runs with ATEAPI_AUTH_MODE=jwt.',
    })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Serves the document at `/openapi.json`. */
export function serveOpenApi(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  const adapter = app.getHttpAdapter();
  adapter.get('/openapi.json', (_request: unknown, response: { json(body: unknown): void }) =>
    response.json(document),
  );
  return document;
}

/**
 * The HTTP side of ateapi: the error filter for everything the REST gateway answers (including bodies
 * the JSON parser rejects before a controller runs) and the OpenAPI document at /openapi.json.
 */
export function configureHttp(app: INestApplication): void {
  app.useGlobalFilters(new HttpExceptionFilter());
  serveOpenApi(app);
}
