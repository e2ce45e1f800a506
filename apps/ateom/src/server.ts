import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type INestMicroservice, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { ATEOM_SERVICES, nestGrpcPackageDefinition } from '@substrate/proto';
import { AppModule } from './app.module';
import { type AteomConfig } from './config';

/**
 * Creates ateom's Nest microservice: `ateom.Ateom` over gRPC on the unix socket `config.socket` (a stale
 * socket file from a killed process is removed first; the file is removed again on shutdown). Opening
 * the module creates the worker's network and deletes any sandbox a previous process left behind.
 * Call `listen()` to serve; `close()` (or SIGTERM/SIGINT) drains, deletes the sandbox and the network.
 */
export async function createAteomServer(
  config: AteomConfig,
  logger?: LoggerService | false,
): Promise<INestMicroservice> {
  await claimWorker(config);
  await mkdir(dirname(config.socket), { recursive: true, mode: 0o700 });
  await rm(config.socket, { force: true });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule.forConfig(config), {
    transport: Transport.GRPC,
    options: {
      url: `unix://${config.socket}`,
      package: 'ateom',
      packageDefinition: nestGrpcPackageDefinition(ATEOM_SERVICES),
    },
    ...(logger !== undefined && { logger }),
  });
  app.enableShutdownHooks();
  return app;
}

/** `<workDir>/ateom.pid`: the process serving the worker. */
export function pidFile(config: AteomConfig): string {
  return join(config.workDir, 'ateom.pid');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Refuses to serve a worker another live process serves (two ateoms would fight over one sandbox and
 * namespace); a pid file left by a killed ateom is taken over.
 */
async function claimWorker(config: AteomConfig): Promise<void> {
  await mkdir(config.workDir, { recursive: true, mode: 0o700 });
  const path = pidFile(config);
  const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
    throw new Error(`worker ${config.worker} is already served by process ${holder} (${path})`);
  }
  await writeFile(path, `${process.pid}\n`);
}
