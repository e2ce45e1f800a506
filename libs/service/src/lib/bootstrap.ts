import { type DynamicModule, Logger, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from './config';

/** How a component's HTTP side listens. */
export interface ServiceOptions {
  /** Component name, used in logs. */
  readonly name: string;
  readonly module: Type<unknown> | DynamicModule;
  readonly host: string;
  readonly port: number;
}

/**
 * Creates and starts a component's Nest application with shutdown hooks enabled (SIGTERM/SIGINT drain
 * in-flight work through `onApplicationShutdown`). Resolves once it listens.
 */
export async function startService(options: ServiceOptions): Promise<INestApplication> {
  const app = await NestFactory.create(options.module, { logger: new Logger(options.name) });
  app.enableShutdownHooks();
  await app.listen(options.port, options.host);
  const { port } = app.getHttpServer().address() as { port: number };
  new Logger(options.name).log(`listening on http://${options.host}:${port}`);
  return app;
}

/** Runs `main` and turns a failure into one clear line and exit code 1 (2 for bad configuration). */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    new Logger(name).error(message);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  });
}
