import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { Cache } from '@vtv/cache';
import type { EventBus, TypedHandler } from '@vtv/events';
import type {
  BaseConfig,
  DataSource,
  Logger,
  MigrationInterface,
  RequestContext,
  TokenVerifier,
} from '@vtv/kit';
import type { DocumentNode } from 'graphql';
import type { Express } from 'express';
import type { EntitySchema } from 'typeorm';
import type { z } from 'zod';
import type { BackgroundJob } from './jobs';

export interface ServiceDeps<Config extends BaseConfig = BaseConfig> {
  config: Config;
  ds: DataSource;
  bus: EventBus;
  cache: Cache;
  logger: Logger;
  /** Verifies identity's tokens and proofs locally (absent when IDENTITY_JWKS_URL is not set). */
  tokens?: TokenVerifier;
}

/** Everything that makes one subgraph; the runtime does the wiring, identically for every service. */
export interface ServiceDefinition<Services extends object = object, Config extends BaseConfig = BaseConfig> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<RequestContext & Services>;
  /** The service's env schema (baseConfig extended). */
  config: z.ZodType<Config>;
  entities: (string | (new (...args: never[]) => unknown) | EntitySchema)[];
  migrations: (new () => MigrationInterface)[];
  consumes?: { topics: string[]; handlers: (deps: ServiceDeps<Config>) => TypedHandler[] };
  /** Builds the domain services resolvers reach through the context. */
  services(deps: ServiceDeps<Config>): Services | Promise<Services>;
  /** Background jobs (e.g. a PollingJob sending an outbox-like table), started after the consumers. */
  jobs?(deps: ServiceDeps<Config>, services: Services): BackgroundJob[];
  /** Plain HTTP routes besides /graphql (public, so keep them to public data). */
  routes?(app: Express, services: Services): void;
}

export function defineService<Services extends object, Config extends BaseConfig>(
  def: ServiceDefinition<Services, Config>,
): ServiceDefinition<Services, Config> {
  return def;
}
