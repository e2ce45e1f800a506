import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AuthConfig } from './auth-config';
import { Authenticator, type AuthenticatorOptions } from './authenticator';
import { GrpcAuthGuard } from './grpc-auth.guard';
import { DEFAULT_PUBLIC_PATHS, HttpAuthGuard, PUBLIC_PATHS } from './http-auth.guard';

/** Options of {@link AuthModule.forRoot}. */
export interface AuthModuleOptions extends AuthenticatorOptions {
  /**
   * Register {@link GrpcAuthGuard} and {@link HttpAuthGuard} as global guards (default true), so every
   * gRPC method and REST route is authenticated; false: apply them with `@UseGuards` yourself.
   */
  readonly globalGuards?: boolean;
  /** REST paths reachable without credentials (default {@link DEFAULT_PUBLIC_PATHS}). */
  readonly publicPaths?: readonly string[];
}

/**
 * Provides the {@link Authenticator} for a validated {@link AuthConfig} and both auth guards, to every
 * module (global).
 *
 * @example
 * imports: [AuthModule.forRoot(loadAuthConfig(settings))]
 */
@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig, options: AuthModuleOptions = {}): DynamicModule {
    const { globalGuards = true, publicPaths = DEFAULT_PUBLIC_PATHS, ...authenticatorOptions } = options;
    return {
      module: AuthModule,
      global: true,
      providers: [
        { provide: Authenticator, useValue: new Authenticator(config, authenticatorOptions) },
        { provide: PUBLIC_PATHS, useValue: publicPaths },
        GrpcAuthGuard,
        HttpAuthGuard,
        ...(globalGuards
          ? [
              { provide: APP_GUARD, useExisting: GrpcAuthGuard },
              { provide: APP_GUARD, useExisting: HttpAuthGuard },
            ]
          : []),
      ],
      exports: [Authenticator, GrpcAuthGuard, HttpAuthGuard],
    };
  }
}
