import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { trainingConfig, type TrainingConfig } from './config';
import { ClassRow, InstitutionRow } from './data/entities';
import { migrations } from './data/migrations';
import { ClassRepository, InstitutionRepository } from './data/repositories';
import { resolvers } from './resolvers';
import { ClassPlanService } from './services/class-plans';
import { InstitutionService } from './services/institutions';

export interface TrainingServices {
  institutions: InstitutionService;
  classPlans: ClassPlanService;
}

export const training = defineService<TrainingServices, TrainingConfig>({
  name: 'training',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: trainingConfig,
  entities: [InstitutionRow, ClassRow],
  migrations,
  services: ({ ds }) => {
    const institutions = new InstitutionService(new InstitutionRepository(ds));
    return { institutions, classPlans: new ClassPlanService(ds, new ClassRepository(ds), institutions) };
  },
});
