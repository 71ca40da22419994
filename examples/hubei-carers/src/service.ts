import { TOPICS } from '@vtv/events';
import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { hubeiCarersConfig, type HubeiCarersConfig } from './config';
import { CarerRow, ProgrammeClassRow } from './data/entities';
import { migrations } from './data/migrations';
import { ProgrammeRepository } from './data/repositories';
import { onCompletionRecorded } from './events/completion-recorded';
import { resolvers } from './resolvers';
import { ProgrammeService } from './services/programme';

export interface HubeiCarersServices {
  programme: ProgrammeService;
}

export const hubeiCarers = defineService<HubeiCarersServices, HubeiCarersConfig>({
  name: 'hubei-carers',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: hubeiCarersConfig,
  entities: [ProgrammeClassRow, CarerRow],
  migrations,
  consumes: {
    topics: [TOPICS.trainingEnrollment.name],
    handlers: ({ ds }) => [onCompletionRecorded(new ProgrammeRepository(ds))],
  },
  services: ({ ds }) => ({ programme: new ProgrammeService(new ProgrammeRepository(ds)) }),
});
