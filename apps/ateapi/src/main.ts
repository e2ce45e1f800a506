import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { ATEAPI_SERVICES, nestGrpcPackageDefinition } from '@substrate/proto';
import { runMain } from '@substrate/service';
import { AppModule } from './app.module';
import { GrpcAteletClient } from './atelet/grpc-atelet-client';
import { loadAteapiConfig } from './config';
import { configureHttp } from './rest/openapi';

runMain('ateapi', async () => {
  const config = loadAteapiConfig();
  const logger = new Logger('ateapi');
  const app = await NestFactory.create(AppModule.forRoot(config, { atelet: new GrpcAteletClient() }), {
    logger,
  });
  app.enableShutdownHooks();
  app.connectMicroservice<MicroserviceOptions>({
    transport: Transport.GRPC,
    options: {
      url: `${config.grpc.host}:${config.grpc.port}`,
      package: 'ateapi',
      packageDefinition: nestGrpcPackageDefinition(ATEAPI_SERVICES),
    },
  });
  configureHttp(app);
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  logger.log(
    `gRPC on ${config.grpc.host}:${config.grpc.port}, HTTP on http://${config.http.host}:${config.http.port}`,
  );
  return app;
});
