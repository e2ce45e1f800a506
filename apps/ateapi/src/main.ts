import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { ATEAPI_SERVICES, nestGrpcPackageDefinition } from '@substrate/proto';
import { runMain } from '@substrate/service';
import { AppModule } from './app.module';
import { GrpcAteletClient } from './atelet/grpc-atelet-client';
import { grpcServerCredentials, httpsOptions } from './auth';
import { loadAteapiConfig } from './config';
import { configureHttp } from './rest/openapi';

runMain('ateapi', async () => {
  const config = loadAteapiConfig();
  const logger = new Logger('ateapi');
  const app = await NestFactory.create(
    AppModule.forRoot(config, { atelet: new GrpcAteletClient(config.atelet) }),
    {
      logger,
      httpsOptions: httpsOptions(config.auth),
    },
  );
  app.enableShutdownHooks();
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.GRPC,
      options: {
        url: `${config.grpc.host}:${config.grpc.port}`,
        package: 'ateapi',
        packageDefinition: nestGrpcPackageDefinition(ATEAPI_SERVICES),
        credentials: grpcServerCredentials(config.auth),
        // Channelz (grpc-js's call-tracing introspection, which nothing here serves) costs timestamps
        // and counters on every call.
        channelOptions: { 'grpc.enable_channelz': 0 },
      },
    },
    // Global guards (authentication) apply to gRPC too; each gRPC controller has its own error filter.
    { inheritAppConfig: true },
  );
  configureHttp(app);
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  const scheme = config.auth.tls ? 'https' : 'http';
  logger.log(
    `gRPC on ${config.grpc.host}:${config.grpc.port}, ${scheme.toUpperCase()} on ${scheme}://${config.http.host}:${config.http.port} (auth: ${config.auth.mode})`,
  );
  return app;
});
