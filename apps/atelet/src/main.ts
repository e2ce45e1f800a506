import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { ATELET_SERVICES, nestGrpcPackageDefinition } from '@substrate/proto';
import { runMain } from '@substrate/service';
import { AppModule } from './app.module';
import { herderServerCredentials, loadAteletConfig } from './config';

runMain('atelet', async () => {
  const config = loadAteletConfig();
  const logger = new Logger('atelet');
  const app = await NestFactory.create(AppModule.forConfig(config), { logger });
  app.enableShutdownHooks();
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.GRPC,
      options: {
        url: `${config.grpc.host}:${config.grpc.port}`,
        package: 'atelet',
        packageDefinition: nestGrpcPackageDefinition(ATELET_SERVICES),
        credentials: herderServerCredentials(config),
      },
    },
    { inheritAppConfig: true },
  );
  // Module init (records of what each worker runs, caches) completes before the first request is served.
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  logger.log(
    `atelet.AteomHerder on ${config.tls ? 'TLS ' : ''}${config.grpc.host}:${config.grpc.port}, health and actor logs (${config.logDir}) on http://${config.http.host}:${config.http.port}, ${config.workers.length} worker(s)`,
  );
  return app;
});
